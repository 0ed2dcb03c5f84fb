"""Organisation admin pages: streets, communities, compounds and buildings.

Units and agreements live in unit_views.py, 双报到 reports in report_views.py; both add
their routes to `bp` and are imported at the bottom of this module.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select

from ..accounts.models import User
from ..core import permissions as perm
from ..core.errors import DomainError
from ..core.models import local_today
from ..core.pagination import like, paginate, search_term
from ..extensions import db
from . import access, services
from .forms import KIND_LABELS, BuildingForm, CommunityEditForm, CommunityForm, CompoundForm, StreetForm
from .models import Agreement, Building, Community, Compound, MemberReport, Street

bp = Blueprint("org", __name__, url_prefix="/org")
FORM = ("GET", "POST")


# --- helpers shared by every org page -------------------------------------------------------


def form_page(form, title, submit, back, fields=None, template="org/form.html", **extra):
    """The shared create/edit page; a POST that reaches it failed, so it answers 400."""
    status = 400 if request.method == "POST" else 200
    names = fields or [f.name for f in form if f.type != "CSRFTokenField"]
    page = render_template(template, form=form, title=title, submit=submit, back=back, fields=names, **extra)
    return page, status


def save(form, action, fields: dict[str, str] | None = None):
    """Run a service call; a DomainError becomes an error on the named field (by code) or the form.

    Returns the service's result (True if it returns nothing), or None when it said no.
    """
    try:
        result = action()
    except DomainError as err:
        name = (fields or {}).get(err.code)
        if name is None and err.code in ("duplicate", "bad_name") and "name" in form:
            name = "name"
        if name:
            form[name].errors = [*form[name].errors, str(err.message)]
        else:
            form.form_errors.append(str(err.message))
        return None
    return True if result is None else result


def done(message: str, endpoint: str, **values):
    flash(message, "success")
    return redirect(url_for(endpoint, **values), code=303)


def count_by(column, ids) -> dict[int, int]:
    """How many rows of `column`'s table point at each of `ids`."""
    if not ids:
        return {}
    stmt = select(column, func.count()).where(column.in_(ids)).group_by(column)
    return dict(db.session.execute(stmt).all())


def residents_by_community(ids) -> dict[int, int]:
    if not ids:
        return {}
    stmt = (
        select(Compound.community_id, func.count(User.id))
        .join(Building, Building.compound_id == Compound.id)
        .join(User, User.building_id == Building.id)
        .where(Compound.community_id.in_(ids))
        .group_by(Compound.community_id)
    )
    return dict(db.session.execute(stmt).all())


def street_choices(street_ids: set[int] | None) -> list[tuple[int, str]]:
    stmt = select(Street).order_by(Street.name)
    if street_ids is not None:
        stmt = stmt.where(Street.id.in_(street_ids))
    return [(s.id, s.name) for s in db.session.scalars(stmt)]


# --- streets (organisers) -------------------------------------------------------------------


@bp.route("/streets")
@login_required
def streets():
    scope = access.street_scope()
    q = search_term()
    stmt = select(Street)
    if scope is not None:
        stmt = stmt.where(Street.id.in_(scope))
    if q:
        stmt = stmt.where(or_(Street.name.like(like(q), escape="\\"), Street.district.like(like(q), escape="\\")))
    page = paginate(stmt.order_by(Street.name, Street.id))
    counts = count_by(Community.street_id, [s.id for s in page.items])
    return render_template("org/streets.html", page=page, q=q, counts=counts, can_create=scope is None)


@bp.route("/streets/new", methods=FORM)
@login_required
def street_new():
    if access.street_scope() is not None:
        abort(403)  # only the district organiser draws new streets
    form = StreetForm()
    if form.validate_on_submit():
        street = save(form, lambda: services.create(Street, current_user, **_street_fields(form)))
        if street:
            return done(_("Street %(name)s created.", name=street.name), "org.streets")
    return form_page(form, _("New street"), _("Create street"), url_for("org.streets"))


@bp.route("/streets/<int:street_id>/edit", methods=FORM)
@login_required
def street_edit(street_id: int):
    street = access.get_street(street_id)
    form = StreetForm(obj=street)
    if form.validate_on_submit() and save(form, lambda: services.update(street, current_user, **_street_fields(form))):
        return done(_("Street %(name)s saved.", name=street.name), "org.streets")
    return form_page(form, _("Edit street"), _("Save"), url_for("org.streets"))


def _street_fields(form) -> dict:
    return {"name": form.name.data, "district": form.district.data or ""}


# --- communities ----------------------------------------------------------------------------


@bp.route("/communities")
@login_required
def communities():
    ids = access.admin_scope()
    q = search_term()
    stmt = select(Community).join(Street).where(Community.id.in_(ids))
    if q:
        stmt = stmt.where(or_(Community.name.like(like(q), escape="\\"), Street.name.like(like(q), escape="\\")))
    page = paginate(stmt.order_by(Street.name, Community.name, Community.id))
    shown = [c.id for c in page.items]
    return render_template(
        "org/communities.html",
        page=page,
        q=q,
        compounds=count_by(Compound.community_id, shown),
        residents=residents_by_community(shown),
        organiser=perm.is_organiser(current_user),
    )


@bp.route("/communities/new", methods=FORM)
@login_required
def community_new():
    scope = access.street_scope()
    form = CommunityForm()
    form.street.choices = street_choices(scope)
    if form.validate_on_submit():
        community = save(
            form,
            lambda: services.create(Community, current_user, street_id=form.street.data, **_community_fields(form)),
        )
        if community:
            return done(
                _("Community %(name)s created.", name=community.name), "org.community", community_id=community.id
            )
    fields = ["street", "name", "address", "phone"]
    return form_page(form, _("New community"), _("Create community"), url_for("org.communities"), fields)


@bp.route("/communities/<int:community_id>/edit", methods=FORM)
@login_required
def community_edit(community_id: int):
    community = access.get_managed(Community, community_id)
    if community.id not in perm.organised_community_ids(current_user):
        abort(403)  # admins run their community; its name and street are the organiser's
    form = CommunityEditForm(obj=community)
    if form.validate_on_submit() and save(
        form, lambda: services.update(community, current_user, **_community_fields(form))
    ):
        return done(_("Community %(name)s saved.", name=community.name), "org.community", community_id=community.id)
    back = url_for("org.community", community_id=community.id)
    return form_page(form, _("Edit community"), _("Save"), back)


def _community_fields(form) -> dict:
    return {"name": form.name.data, "address": form.address.data or "", "phone": form.phone.data or ""}


@bp.route("/communities/<int:community_id>")
@login_required
def community(community_id: int):
    community = access.get_managed(Community, community_id)
    residents = count_by(User.building_id, [b.id for c in community.compounds for b in c.buildings])
    today = local_today()
    agreements = db.session.scalars(select(Agreement).where(Agreement.community_id == community.id)).all()
    reports = db.session.scalar(
        select(func.count(MemberReport.id)).where(
            MemberReport.community_id == community.id, MemberReport.year == today.year
        )
    )
    return render_template(
        "org/community.html",
        community=community,
        residents=residents,
        compound_residents={c.id: sum(residents.get(b.id, 0) for b in c.buildings) for c in community.compounds},
        kinds=KIND_LABELS,
        can_edit=community.id in perm.organised_community_ids(current_user),
        active_agreements=sum(a.is_active(today) for a in agreements),
        reports=reports,
        year=today.year,
    )


# --- compounds and buildings (admins of the community, organisers covering it) -------------


@bp.route("/communities/<int:community_id>/compounds/new", methods=FORM)
@login_required
def compound_new(community_id: int):
    community = access.get_managed(Community, community_id)
    form = CompoundForm()
    if form.validate_on_submit():
        compound = save(
            form,
            lambda: services.create(
                Compound, current_user, community_id=community.id, name=form.name.data, kind=form.kind.data
            ),
        )
        if compound:
            return done(_("%(name)s added.", name=compound.name), "org.community", community_id=community.id)
    back = url_for("org.community", community_id=community.id)
    return form_page(form, _("New compound or grid"), _("Add"), back, context=community.name)


@bp.route("/compounds/<int:compound_id>/edit", methods=FORM)
@login_required
def compound_edit(compound_id: int):
    compound = access.get_managed(Compound, compound_id)
    form = CompoundForm(obj=compound)
    if form.validate_on_submit() and save(
        form, lambda: services.update(compound, current_user, name=form.name.data, kind=form.kind.data)
    ):
        return done(_("%(name)s saved.", name=compound.name), "org.community", community_id=compound.community_id)
    back = url_for("org.community", community_id=compound.community_id)
    return form_page(form, _("Edit compound or grid"), _("Save"), back, context=compound.community.name)


@bp.route("/compounds/<int:compound_id>/buildings/new", methods=FORM)
@login_required
def building_new(compound_id: int):
    compound = access.get_managed(Compound, compound_id)
    form = BuildingForm()
    if form.validate_on_submit():
        building = save(
            form, lambda: services.create(Building, current_user, compound_id=compound.id, name=form.name.data)
        )
        if building:
            message = _("%(name)s added.", name=building.label)
            return done(message, "org.community", community_id=compound.community_id)
    back = url_for("org.community", community_id=compound.community_id)
    context = f"{compound.community.name} · {compound.name}"
    return form_page(form, _("New building"), _("Add"), back, context=context)


@bp.route("/buildings/<int:building_id>/edit", methods=FORM)
@login_required
def building_edit(building_id: int):
    building = access.get_managed(Building, building_id)
    community_id = building.compound.community_id
    form = BuildingForm(obj=building)
    if form.validate_on_submit() and save(form, lambda: services.update(building, current_user, name=form.name.data)):
        return done(_("%(name)s saved.", name=building.label), "org.community", community_id=community_id)
    back = url_for("org.community", community_id=community_id)
    context = f"{building.compound.community.name} · {building.compound.name}"
    return form_page(form, _("Edit building"), _("Save"), back, context=context)


from . import report_views, unit_views  # noqa: E402, F401 - register their routes on bp
