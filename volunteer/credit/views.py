"""Declaration pages: declaring, my declarations, the detail with each step's form, queues, photos.

Indicator management (community admins) lives in indicator_views.py, imported at the bottom.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select

from ..accounts.models import Role
from ..core import permissions as perm
from ..core.errors import DomainError
from ..core.pagination import paginate
from ..extensions import db
from . import photos as photo_files
from . import services
from .access import can_view, is_admin_of, resident_community, served_filter, serves
from .forms import AppealForm, AssessForm, DecideForm, DeclareForm, ResubmitForm, ReviewForm
from .models import Declaration, DeclarationPhoto, Indicator

bp = Blueprint("credit", __name__, url_prefix="/credit")
FORM = ("GET", "POST")

STATE_LABELS = {
    "submitted": (_l("Waiting for the collector"), "neutral"),
    "returned": (_l("Returned for more information"), "warn"),
    "checked": (_l("Waiting for the council"), "neutral"),
    "assessed": (_l("Waiting for the community"), "neutral"),
    "approved": (_l("Approved"), "ok"),
    "rejected": (_l("Rejected"), "bad"),
    "appealed": (_l("Appealed"), "warn"),
}
RECOMMENDATION_LABELS = {"approve": _l("Recommends approval"), "reject": _l("Recommends rejection")}
# A service's error code -> the form field it belongs to.
FIELD_OF = {
    "bad_indicator": "indicator",
    "bad_description": "description",
    "photo_required": "photos",
    "photo_invalid": "photos",
    "photo_too_large": "photos",
    "photo_too_big": "photos",
    "photo_empty": "photos",
    "too_many_photos": "photos",
    "bad_note": "note",
    "bad_reason": "reason",
}


@bp.app_context_processor
def _labels():
    return {"credit_states": STATE_LABELS, "credit_recommendations": RECOMMENDATION_LABELS}


def attempt(form, action):
    """Run a service call; a DomainError becomes an error on its field (or the form). None if refused."""
    try:
        return action()
    except DomainError as err:
        db.session.rollback()
        name = FIELD_OF.get(err.code)
        if name and name in form:
            form[name].errors = [*form[name].errors, str(err.message)]
        else:
            form.form_errors.append(str(err.message))
        return None


def get_declaration(declaration_id: int) -> Declaration:
    perm.require_login()
    declaration = db.session.get(Declaration, declaration_id)
    if declaration is None or not can_view(current_user, declaration):
        abort(404)
    return declaration


def _to_detail(declaration_id: int, message: str):
    flash(message, "success")
    return redirect(url_for("credit.declaration", declaration_id=declaration_id), code=303)


# --- the resident -------------------------------------------------------------------------------


def _indicators_of(community_id: int) -> list[Indicator]:
    stmt = select(Indicator).where(Indicator.community_id == community_id, Indicator.active.is_(True))
    return db.session.scalars(stmt.order_by(Indicator.name, Indicator.id)).all()


@bp.route("/declare", methods=FORM)
@login_required
def declare():
    community = resident_community(current_user)
    if community is None:
        abort(403)
    indicators = _indicators_of(community.id)
    form = DeclareForm()
    form.indicator.choices = [
        (i.id, _("%(name)s (%(points)d points)", name=i.name, points=i.points)) for i in indicators
    ]
    if form.validate_on_submit():
        declaration = attempt(
            form,
            lambda: services.declare(current_user, form.indicator.data, form.description.data, form.photos.data),
        )
        if declaration:
            return _to_detail(declaration.id, _("Your declaration was sent to the information collector."))
    status = 400 if request.method == "POST" else 200
    return render_template("credit/declare.html", form=form, indicators=indicators, community=community), status


@bp.route("/mine")
@login_required
def mine():
    stmt = select(Declaration).where(Declaration.user_id == current_user.id)
    page = paginate(stmt.order_by(Declaration.id.desc()))
    can_declare = resident_community(current_user) is not None
    return render_template("credit/mine.html", page=page, can_declare=can_declare)


# --- the detail page and each step's form --------------------------------------------------------


def _forms_for(declaration: Declaration) -> dict:
    user, state = current_user, declaration.state
    forms = {}
    if declaration.user_id == user.id and state == "returned":
        forms["resubmit"] = ResubmitForm(formdata=None, description=declaration.description)
    if declaration.user_id == user.id and state == "rejected" and not declaration.appealed:
        forms["appeal"] = AppealForm(formdata=None)
    if state == "submitted" and serves(user, Role.COLLECTOR, declaration.community_id, declaration.compound_id):
        forms["review"] = ReviewForm(formdata=None)
    if state == "checked" and serves(user, Role.COUNCIL, declaration.community_id, declaration.compound_id):
        forms["assess"] = AssessForm(formdata=None)
    if state in ("assessed", "appealed") and is_admin_of(user, declaration.community_id):
        forms["decide"] = DecideForm(formdata=None)
    return forms


def detail_page(declaration: Declaration, status: int = 200, **posted):
    forms = {**_forms_for(declaration), **posted}
    mine_ = declaration.user_id == current_user.id
    return render_template("credit/declaration.html", d=declaration, forms=forms, mine=mine_), status


@bp.route("/declarations/<int:declaration_id>")
@login_required
def declaration(declaration_id: int):
    return detail_page(get_declaration(declaration_id))


def _step(declaration_id: int, key: str, form_cls, call, message):
    declaration = get_declaration(declaration_id)
    form = form_cls()
    if form.validate_on_submit() and attempt(form, lambda: call(form)):
        return _to_detail(declaration_id, message)
    db.session.rollback()
    declaration = get_declaration(declaration_id)
    if not form.errors and not form.form_errors:
        form.form_errors.append(_("Please correct the fields marked below."))
    return detail_page(declaration, 400, **{key: form})


@bp.route("/declarations/<int:declaration_id>/resubmit", methods=["POST"])
@login_required
def resubmit(declaration_id: int):
    return _step(
        declaration_id,
        "resubmit",
        ResubmitForm,
        lambda f: services.resubmit(declaration_id, current_user, f.description.data, f.photos.data),
        _("Your declaration was sent again to the information collector."),
    )


@bp.route("/declarations/<int:declaration_id>/review", methods=["POST"])
@login_required
def review(declaration_id: int):
    return _step(
        declaration_id,
        "review",
        ReviewForm,
        lambda f: services.review(declaration_id, current_user, f.decision.data, f.note.data),
        _("Your check is recorded."),
    )


@bp.route("/declarations/<int:declaration_id>/assess", methods=["POST"])
@login_required
def assess(declaration_id: int):
    return _step(
        declaration_id,
        "assess",
        AssessForm,
        lambda f: services.assess(declaration_id, current_user, f.recommendation.data, f.reason.data),
        _("Your assessment is recorded."),
    )


@bp.route("/declarations/<int:declaration_id>/decide", methods=["POST"])
@login_required
def decide(declaration_id: int):
    return _step(
        declaration_id,
        "decide",
        DecideForm,
        lambda f: services.decide(declaration_id, current_user, f.decision.data, f.reason.data),
        _("Your decision is recorded."),
    )


@bp.route("/declarations/<int:declaration_id>/appeal", methods=["POST"])
@login_required
def appeal(declaration_id: int):
    return _step(
        declaration_id,
        "appeal",
        AppealForm,
        lambda f: services.appeal(declaration_id, current_user, f.reason.data),
        _("Your appeal was sent to the community."),
    )


@bp.route("/photos/<int:photo_id>")
@login_required
def photo(photo_id: int):
    """Evidence photos only through here: the viewer must be allowed to see the declaration."""
    item = db.session.get(DeclarationPhoto, photo_id)
    if item is None or not can_view(current_user, item.declaration):
        abort(404)
    try:
        response = send_file(photo_files.path_of(item.filename), mimetype=item.content_type, max_age=0)
    except FileNotFoundError:
        abort(404)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- queues -------------------------------------------------------------------------------------


def queue_count(user, role: str) -> int:
    """How many declarations wait for `user` in `role` (collector, council or admin)."""
    return db.session.scalar(select(func.count(Declaration.id)).where(*_queue_where(user, role)))


def _queue_where(user, role: str) -> list:
    if role == Role.ADMIN:
        ids = perm.community_ids(user, Role.ADMIN)
        return [Declaration.community_id.in_(ids), Declaration.state.in_(("assessed", "appealed"))]
    state = "submitted" if role == Role.COLLECTOR else "checked"
    return [served_filter(user, role), Declaration.state == state]


def _queue(role: str, title, explain):
    perm.require_any_role(role)
    where = _queue_where(current_user, role)
    community = request.args.get("community", type=int)
    if community is not None:
        if not perm.has_role(current_user, community, role):
            abort(404)
        where.append(Declaration.community_id == community)
    page = paginate(select(Declaration).where(*where).order_by(Declaration.updated_at, Declaration.id))
    return render_template("credit/queue.html", page=page, title=title, explain=explain, endpoint=request.endpoint)


@bp.route("/queue/collect")
@login_required
def collector_queue():
    return _queue(Role.COLLECTOR, _("Declarations to check"), _("Submitted by residents of your compounds."))


@bp.route("/queue/assess")
@login_required
def council_queue():
    return _queue(Role.COUNCIL, _("Declarations to assess"), _("Checked by the information collector."))


@bp.route("/queue/approve")
@login_required
def admin_queue():
    return _queue(Role.ADMIN, _("Declarations to decide"), _("Assessed by the council, or appealed by the resident."))


from . import indicator_views  # noqa: E402, F401 - registers its routes on bp
