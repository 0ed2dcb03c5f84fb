"""Service-record pages: reporting and entering a service, the steward's queue, one record and its actions.

The volunteer's trail, the 1112 tracker and the points rule live in tracker_views.py.
"""

from datetime import timedelta
from decimal import Decimal

from flask import abort, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from ..accounts.models import Role, User
from ..accounts.services import find_by_phone
from ..core import permissions as perm
from ..core.errors import DomainError
from ..core.models import local_today, to_local
from ..core.pagination import community_arg, paginate
from ..credit import photos
from ..extensions import db
from ..ledger.services import InsufficientPoints
from ..org.queries import community_choices
from . import records
from .access import is_steward_of, steward_community_ids, volunteer_community_ids
from .models import RECORD_KINDS, RECORD_SOURCES, Project, ProjectClaim, ServiceRecord
from .record_forms import BulkVerifyForm, CorrectForm, EnterForm, ReasonForm, ReportForm, VerifyForm, minutes_of
from .views import FORM, RECORD_KIND_LABELS, attempt, bp, done

# A service's error code -> the form field it belongs to.
FIELD_OF = {
    "bad_date": "served_on",
    "bad_minutes": "hours",
    "unchanged": "hours",
    "bad_description": "description",
    "bad_project": "project",
    "bad_kind": "kind",
    "not_volunteer": "phone",
    "own_record": "phone",  # entering for oneself
    "bad_reason": "reason",
    "photo_invalid": "photo",
    "photo_too_large": "photo",
    "photo_too_big": "photo",
    "photo_empty": "photo",
}
TABS = {
    "pending": _l("Waiting"),
    "review": _l("Needs review"),
    "verified": _l("Verified"),
    "rejected": _l("Rejected"),
}
QUEUE_ARGS = ("status", "community", "source", "kind")
POINTS_SPENT = _l("The volunteer has already spent these points, so this verification cannot be taken back.")


def local_time(moment) -> str:
    return to_local(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


@bp.app_context_processor
def _helpers():
    return {"service_url": url_for, "service_time": local_time}


def _dated(form):
    """Today by default, and the browser's date picker kept to the last year."""
    today = local_today()
    if form.served_on.data is None and request.method == "GET":
        form.served_on.data = today
    limits = {"max": today.isoformat(), "min": (today - timedelta(days=records.OLDEST_DAYS)).isoformat()}
    form.served_on.render_kw = {**(form.served_on.render_kw or {}), **limits}
    return form


def _page(template: str, form=None, **context):
    status = 400 if request.method == "POST" else 200
    return render_template(template, form=form, **context), status


# --- the volunteer reports a service ---------------------------------------------------------------


def _claimed_projects(user, community_ids) -> list[tuple[int, str]]:
    stmt = (
        select(Project)
        .join(ProjectClaim, ProjectClaim.project_id == Project.id)
        .where(
            ProjectClaim.volunteer_id == user.id,
            ProjectClaim.released_at.is_(None),
            Project.community_id.in_(community_ids),
        )
        .order_by(Project.title, Project.id)
    )
    return [(p.id, p.title) for p in db.session.scalars(stmt)]


def _save_report(form, community_id: int) -> ServiceRecord:
    """Store the photo first (it is checked for real), then the record; a refused record removes the photo."""
    name = None
    if form.photo.data:
        name = photos.save(photos.process(photos.read_limited(form.photo.data.stream)))
    try:
        return records.report_own(
            current_user,
            community_id,
            day=form.served_on.data,
            minutes=minutes_of(form.hours.data),
            description=form.description.data,
            project_id=form.project.data or None,
            photo=name,
        )
    except Exception:
        if name:
            photos.remove([name])
        raise


@bp.route("/records/report", methods=FORM)
@login_required
def report():
    ids = volunteer_community_ids(current_user)
    if not ids:
        abort(403)
    communities = community_choices(ids)
    form = _dated(ReportForm(communities=communities, projects=_claimed_projects(current_user, ids)))
    if len(communities) == 1:
        del form.community  # nothing to choose
    if form.validate_on_submit():
        community_id = form.community.data if "community" in form else communities[0][0]
        row = attempt(form, lambda: _save_report(form, community_id), FIELD_OF)
        if row:
            message = _("Your service was sent to the community for verification.")
            return done(message, url_for("service.record", record_id=row.id))
    return _page("service/report.html", form, one_community=communities[0][1] if len(communities) == 1 else None)


# --- the steward's queue ---------------------------------------------------------------------------


def _queue_filters(ids: set[int]) -> dict:
    status = request.args.get("status") or "pending"
    source, kind = request.args.get("source"), request.args.get("kind")
    return {
        "status": status if status in TABS else "pending",
        "community": community_arg(ids),
        "source": source if source in RECORD_SOURCES else None,
        "kind": kind if kind in RECORD_KINDS else None,
    }


def _queue_statement(ids: set[int], f: dict):
    stmt = select(ServiceRecord).where(ServiceRecord.community_id.in_({f["community"]} if f["community"] else ids))
    if f["status"] == "review":
        stmt = stmt.where(ServiceRecord.status == "pending", ServiceRecord.needs_review.is_(True))
    else:
        stmt = stmt.where(ServiceRecord.status == f["status"])
    if f["source"]:
        stmt = stmt.where(ServiceRecord.source == f["source"])
    if f["kind"]:
        stmt = stmt.where(ServiceRecord.kind == f["kind"])
    if f["status"] in ("pending", "review"):
        return stmt.order_by(ServiceRecord.served_on, ServiceRecord.id)  # oldest waits longest: first
    return stmt.order_by(ServiceRecord.verified_at.desc(), ServiceRecord.id.desc())


def _queue_page(form: BulkVerifyForm, status: int = 200):
    ids = steward_community_ids(current_user)
    f = _queue_filters(ids)
    page = paginate(_queue_statement(ids, f))
    args = {k: v for k, v in request.args.items() if k in QUEUE_ARGS and v}
    context = {"page": page, "f": f, "tabs": TABS, "args": args, "communities": community_choices(ids)}
    context["rule_communities"] = community_choices(perm.community_ids(current_user, Role.ADMIN))
    return render_template("service/records.html", form=form, **context), status


@bp.route("/records", endpoint="records")
@login_required
def records_queue():
    if not steward_community_ids(current_user):
        abort(403)
    return _queue_page(BulkVerifyForm(formdata=None))


@bp.route("/records/verify", methods=["POST"])
@login_required
def records_verify():
    if not steward_community_ids(current_user):
        abort(403)
    form = BulkVerifyForm()
    if form.validate_on_submit():
        result = attempt(form, lambda: records.verify_many(current_user, form.ids.data))
        if result:
            message = _("Verified %(done)d, skipped %(skipped)d.", done=result.done, skipped=result.skipped)
            if result.own:
                own = ngettext(
                    "%(num)d of them is your own service: another steward verifies it.",
                    "%(num)d of them are your own services: another steward verifies them.",
                    result.own,
                )
                message = f"{message} {own}"
            args = {k: v for k, v in request.args.items() if k in QUEUE_ARGS and v}
            return done(message, url_for("service.records", **args))
    return _queue_page(form, 400)


# --- one record and the steward's actions ----------------------------------------------------------


def get_record(record_id: int) -> ServiceRecord:
    """The volunteer's own record, or one of a community the user stewards; else 404."""
    perm.require_login()
    row = db.session.get(ServiceRecord, record_id)
    if row is None or (row.volunteer_id != current_user.id and not is_steward_of(current_user, row.community_id)):
        abort(404)
    return row


def _named(form, prefix: str):
    """Two forms on one page both have a `reason` field: keep the names, make the ids unique."""
    for fld in form:
        fld.id = fld.label.field_id = f"{prefix}-{fld.name}"
    return form


def _decides(row: ServiceRecord) -> bool:
    """The user may act on the record: a steward of its community, and not their own service."""
    return is_steward_of(current_user, row.community_id) and not records.is_own(row, current_user)


def _forms_for(row: ServiceRecord) -> dict:
    if not _decides(row):
        return {}
    forms = {}
    if row.status in ("pending", "rejected"):
        forms["verify"] = VerifyForm(formdata=None)
    if row.status == "pending":
        forms["reject"] = ReasonForm(formdata=None)
    if row.status == "verified":
        forms["unverify"] = ReasonForm(formdata=None)
    if row.status != "rejected":
        hours = Decimal(f"{row.minutes / 60:.2f}".rstrip("0").rstrip("."))
        forms["correct"] = CorrectForm(formdata=None, hours=hours)
    return forms


def _refusals(form) -> list[str]:
    return [str(e) for errors in form.errors.values() for e in errors]


def _detail(row: ServiceRecord, status: int = 200, **posted):
    steward = is_steward_of(current_user, row.community_id)
    own = steward and records.is_own(row, current_user)
    # On one's own record no action form is shown, not even after a (forged) refused post: only why.
    refused = [e for form in posted.values() for e in _refusals(form)] if own else []
    forms = {} if own else {**_forms_for(row), **posted}
    for key, form in forms.items():
        _named(form, key)
    preview = records.points_for(records.policy_for(row.community_id), row.minutes) if steward else None
    context = {"forms": forms, "steward": steward, "preview": preview, "own": own, "refused": refused}
    return render_template("service/record.html", r=row, **context), status


@bp.route("/records/<int:record_id>")
@login_required
def record(record_id: int):
    return _detail(get_record(record_id))


@bp.route("/records/<int:record_id>/photo")
@login_required
def record_photo(record_id: int):
    """The evidence photo only through here: the same people who may see the record."""
    row = get_record(record_id)
    if not row.photo:
        abort(404)
    try:
        response = send_file(photos.path_of(row.photo), mimetype="image/jpeg", max_age=0)
    except FileNotFoundError:
        abort(404)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _step(record_id: int, key: str, form_cls, call, message):
    row = get_record(record_id)
    if not is_steward_of(current_user, row.community_id):
        abort(403)  # the volunteer sees their record but does not verify it
    form = form_cls()
    if form.validate_on_submit() and attempt(form, lambda: call(form), FIELD_OF):
        return done(message, url_for("service.record", record_id=record_id))
    db.session.rollback()
    if not form.errors and not form.form_errors:
        form.form_errors.append(_("Please correct the fields marked below."))
    row = get_record(record_id)
    return _detail(row, 403 if records.is_own(row, current_user) else 400, **{key: form})


def _spent_points_refused(call):
    """Taking points back fails if they were spent: say so plainly."""
    try:
        return call()
    except InsufficientPoints:
        raise DomainError("points_spent", POINTS_SPENT) from None


@bp.route("/records/<int:record_id>/verify", methods=["POST"])
@login_required
def record_verify(record_id: int):
    call = lambda f: records.verify(current_user, record_id)  # noqa: E731
    return _step(record_id, "verify", VerifyForm, call, _("Verified: the points were added."))


@bp.route("/records/<int:record_id>/reject", methods=["POST"])
@login_required
def record_reject(record_id: int):
    call = lambda f: records.reject(current_user, record_id, f.reason.data)  # noqa: E731
    return _step(record_id, "reject", ReasonForm, call, _("Rejected, with your reason."))


@bp.route("/records/<int:record_id>/unverify", methods=["POST"])
@login_required
def record_unverify(record_id: int):
    def call(f):
        return _spent_points_refused(lambda: records.unverify(current_user, record_id, f.reason.data))

    return _step(record_id, "unverify", ReasonForm, call, _("The verification was taken back and its points reversed."))


@bp.route("/records/<int:record_id>/correct", methods=["POST"])
@login_required
def record_correct(record_id: int):
    def call(f):
        minutes = minutes_of(f.hours.data)
        return _spent_points_refused(lambda: records.correct_minutes(current_user, record_id, minutes, f.reason.data))

    return _step(record_id, "correct", CorrectForm, call, _("The hours were corrected."))


# --- a steward enters a service for a volunteer ----------------------------------------------------


@bp.route("/records/enter", methods=FORM)
@login_required
def record_enter():
    ids = steward_community_ids(current_user)
    if not ids:
        abort(403)
    form = _dated(EnterForm(communities=community_choices(ids), kinds=list(RECORD_KIND_LABELS.items())))
    if form.validate_on_submit():
        volunteer = find_by_phone(form.phone.data)
        if volunteer is None:
            form.phone.errors.append(_("No one is registered with this mobile number."))
        else:
            row = attempt(form, lambda: _enter(form, volunteer), FIELD_OF)
            if row:
                message = _("The service of %(name)s was entered; verify it when it is confirmed.", name=volunteer.name)
                return done(message, url_for("service.record", record_id=row.id))
    return _page("service/record_enter.html", form)


def _enter(form, volunteer: User) -> ServiceRecord:
    return records.enter_for(
        current_user,
        volunteer,
        form.community.data,
        day=form.served_on.data,
        minutes=minutes_of(form.hours.data),
        kind=form.kind.data,
        description=form.description.data,
    )
