"""Units (employers and other units in the area) and co-building agreements with communities."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from ..accounts.models import Role, User
from ..core import permissions as perm
from ..core.errors import DomainError
from ..core.models import local_today
from ..core.pagination import like, paginate, search_term
from ..extensions import db
from . import access, services
from .forms import AgreementForm, UnitForm
from .models import Agreement, Community, MemberReport, Unit
from .views import FORM, bp, done, form_page, save

UNIT_FIELDS = ("name", "contact_person", "contact_email", "contact_phone", "address")


def unit_choices() -> list[tuple[int, str]]:
    return [(u.id, u.name) for u in db.session.scalars(select(Unit).order_by(Unit.name))]


@bp.route("/units")
@login_required
def units():
    access.admin_scope()
    q = search_term()
    stmt = select(Unit)
    if q:
        stmt = stmt.where(or_(Unit.name.like(like(q), escape="\\"), Unit.contact_person.like(like(q), escape="\\")))
    page = paginate(stmt.order_by(Unit.name, Unit.id))
    return render_template("org/units.html", page=page, q=q)


@bp.route("/units/new", methods=FORM)
@login_required
def unit_new():
    access.admin_scope()
    form = UnitForm()
    if form.validate_on_submit():
        unit = save(form, lambda: services.create(Unit, current_user, **_unit_fields(form)))
        if unit:
            return done(_("Unit %(name)s created.", name=unit.name), "org.unit", unit_id=unit.id)
    return form_page(form, _("New unit"), _("Create unit"), url_for("org.units"))


@bp.route("/units/<int:unit_id>")
@login_required
def unit(unit_id: int):
    unit = access.get_unit(unit_id)
    ids = perm.community_ids(current_user, Role.ADMIN)
    year = local_today().year
    agreements = db.session.scalars(
        select(Agreement)
        .where(Agreement.unit_id == unit.id, Agreement.community_id.in_(ids))
        .order_by(Agreement.signed_on.desc(), Agreement.id.desc())
    ).all()
    # Only members serving communities the viewer covers: the rest are another community's data.
    members = paginate(
        select(MemberReport)
        .join(User, MemberReport.user_id == User.id)
        .where(MemberReport.unit_id == unit.id, MemberReport.year == year, MemberReport.community_id.in_(ids))
        .order_by(User.name, MemberReport.id)
    )
    return render_template(
        "org/unit.html",
        unit=unit,
        agreements=agreements,
        members=members,
        year=year,
        today=local_today(),
        can_edit=access.can_edit_unit(unit, ids),
    )


@bp.route("/units/<int:unit_id>/edit", methods=FORM)
@login_required
def unit_edit(unit_id: int):
    unit = access.get_unit(unit_id)
    if not access.can_edit_unit(unit, perm.community_ids(current_user, Role.ADMIN)):
        abort(403)
    form = UnitForm(obj=unit)
    if form.validate_on_submit() and save(form, lambda: services.update(unit, current_user, **_unit_fields(form))):
        return done(_("Unit %(name)s saved.", name=unit.name), "org.unit", unit_id=unit.id)
    return form_page(form, _("Edit unit"), _("Save"), url_for("org.unit", unit_id=unit.id))


def _unit_fields(form) -> dict:
    return {name: form[name].data or "" for name in UNIT_FIELDS}


# --- co-building agreements -----------------------------------------------------------------


@bp.route("/communities/<int:community_id>/agreements", methods=FORM)
@login_required
def agreements(community_id: int):
    community = access.get_managed(Community, community_id)
    form = AgreementForm()
    form.unit.choices = unit_choices()
    if form.validate_on_submit():
        unit = db.session.get(Unit, form.unit.data)
        signed = save(
            form,
            lambda: services.sign_agreement(
                unit, community, form.signed_on.data, form.ends_on.data, form.content.data or "", current_user
            ),
            {"bad_dates": "ends_on", "duplicate": "signed_on"},
        )
        if signed:
            message = _("Agreement with %(unit)s signed.", unit=unit.name)
            return done(message, "org.agreements", community_id=community.id)
    rows = db.session.scalars(
        select(Agreement)
        .where(Agreement.community_id == community.id)
        .order_by(Agreement.signed_on.desc(), Agreement.id.desc())
    ).all()
    page = render_template("org/agreements.html", community=community, agreements=rows, form=form, today=local_today())
    return page, 400 if form.is_submitted() else 200


@bp.route("/agreements/<int:agreement_id>/terminate", methods=["POST"])
@login_required
def agreement_terminate(agreement_id: int):
    agreement = access.get_managed(Agreement, agreement_id)
    try:
        services.terminate_agreement(agreement, current_user)
    except DomainError as err:
        flash(str(err.message), "error")
    else:
        flash(_("Agreement with %(unit)s terminated.", unit=agreement.unit.name), "success")
    return redirect(url_for("org.agreements", community_id=agreement.community_id), code=303)
