"""The community admin's letters pages: choose a period, preview, generate a batch and watch it, each letter's state.

Only admins of a community (and organisers above it) come in: anyone else is a 403, and another
community's batch, letter or email is a 404. Writing goes through batches, documents, outbox and
settings; the queue (`queue.get()`) does the slow work, so every page answers at once.
"""

import base64
import io
from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import joinedload, selectinload

from ..accounts.models import Role, User
from ..core import permissions as perm
from ..core.errors import DomainError
from ..core.models import aware, local_today, to_local, utcnow
from ..core.pagination import community_arg, paginate
from ..extensions import db
from ..org.models import MemberReport
from ..org.queries import community_choices
from . import batches, documents, outbox, pdf, periods, queue
from . import settings as letter_settings
from .forms import BatchForm, BatchStatusSchema, RevokeForm, SettingsForm
from .models import Document, Email, LetterBatch
from .views import FORM, bp

LETTER_STATE_LABELS = {
    "generated": (_l("Generated"), "neutral"),
    "queued": (_l("Queued"), "neutral"),
    "sending": (_l("Sending"), "neutral"),
    "sent": (_l("Sent"), "ok"),
    "failed": (_l("Failed"), "bad"),
    "revoked": (_l("Revoked"), "warn"),
}
BATCH_STATE_LABELS = {
    "running": (_l("Running"), "neutral"),
    "done": (_l("Done"), "ok"),
    "failed": (_l("Failed"), "bad"),
}
STALLED_AFTER = timedelta(seconds=30)  # a batch still at 0 by then: most likely no worker is running
PREVIEW_MEMBERS = 300  # members offered in the preview picker
RECENT_BATCHES = 5
STATUS_SCHEMA = BatchStatusSchema()

# --- shared helpers ------------------------------------------------------------------------------


def when(moment) -> str:
    return format_datetime(to_local(moment), "yyyy-MM-dd HH:mm") if moment else ""


def period_name(period: periods.Period) -> str:
    if period.quarter:
        return _("%(year)d Q%(quarter)d", year=period.year, quarter=period.quarter)
    return _("Year %(year)d", year=period.year)


def letter_state(document: Document) -> str:
    if document.revoked:
        return "revoked"
    return document.emails[0].state if document.emails else "generated"


@bp.app_context_processor
def _admin_labels():
    return {"letter_states": LETTER_STATE_LABELS, "batch_states": BATCH_STATE_LABELS}


def _admin_ids() -> set[int]:
    """The communities whose letters the user runs; anyone else is stopped (login or 403)."""
    return perm.require_any_role(Role.ADMIN)


def _community(ids: set[int]) -> int:
    """?community=, one of the admin's (another is a 404); by default the first in the list."""
    return community_arg(ids) or community_choices(ids)[0][0]


def _period() -> periods.Period:
    """?period=, the last quarter by default; text that is no period is a 400 with a message."""
    raw = (request.args.get("period") or "").strip()
    return periods.parse(raw) if raw else periods.last_quarter(local_today())


def _letter(document_id: int) -> Document:
    document = perm.get_in_community(Document, document_id, Role.ADMIN)
    if document.kind != "letter":
        abort(404)
    return document


def _page(template: str, status: int = 200, **context):
    helpers = {"when": when, "period_name": period_name, "letter_state": letter_state, "hours": pdf.hours}
    return render_template(f"letters/admin/{template}", **helpers, **context), status


def _refused(form, field: str | None, err: DomainError) -> int:
    """Show a service's refusal on the form; the status to answer with."""
    db.session.rollback()
    if field and field in form:
        form[field].errors = [*form[field].errors, str(err.message)]
    else:
        form.form_errors.append(str(err.message))
    return err.status if err.status in (403, 404, 409) else 400


def _done(message, url: str):
    flash(message, "success")
    return redirect(url, code=303)


# --- the letters of a community and period -------------------------------------------------------


def _of_period(community_id: int, period: periods.Period):
    return (
        Document.kind == "letter",
        Document.community_id == community_id,
        Document.period_start == period.start,
        Document.period_end == period.end,
    )


def _state_filter(state: str | None):
    has_email = exists().where(Email.document_id == Document.id)
    if state == "revoked":
        return Document.revoked_at.is_not(None)
    if state == "generated":
        return Document.revoked_at.is_(None) & ~has_email
    return Document.revoked_at.is_(None) & exists().where(Email.document_id == Document.id, Email.state == state)


def _letters(community_id: int, period: periods.Period, state: str | None):
    stmt = select(Document).where(*_of_period(community_id, period))
    if state:
        stmt = stmt.where(_state_filter(state))
    return paginate(stmt.options(selectinload(Document.emails)).order_by(Document.id.desc()))


def _state_counts(community_id: int, period: periods.Period) -> dict[str, int]:
    state = case((Document.revoked_at.is_not(None), "revoked"), else_=func.coalesce(Email.state, "generated"))
    stmt = (
        select(state.label("state"), func.count(Document.id.distinct()))
        .select_from(Document)
        .outerjoin(Email, Email.document_id == Document.id)
        .where(*_of_period(community_id, period))
        .group_by(state)
    )
    return dict(db.session.execute(stmt).all())


def _members(report_ids: list[int]) -> list[tuple[int, str]]:
    """(user id, name) of the first eligible members, for the preview picker."""
    stmt = (
        select(User.id, User.name)
        .join(MemberReport, MemberReport.user_id == User.id)
        .where(MemberReport.id.in_(report_ids[:PREVIEW_MEMBERS]))
        .order_by(User.name, User.id)
    )
    return [tuple(row) for row in db.session.execute(stmt)]


def _home_page(ids: set[int], community_id: int, period: periods.Period, form: BatchForm, status: int = 200):
    state = request.args.get("state")
    state = state if state in LETTER_STATE_LABELS else None
    eligible = documents.eligible_reports(community_id, period)
    recent = periods.recent(local_today())
    context = {
        "communities": community_choices(ids),
        "community_id": community_id,
        "period": period,
        "periods": recent if period in recent else [period, *recent],
        "eligible": len(eligible),
        "members": _members(eligible),
        "batches": db.session.scalars(
            select(LetterBatch)
            .where(LetterBatch.community_id == community_id)
            .order_by(LetterBatch.id.desc())
            .limit(RECENT_BATCHES)
        ).all(),
        "page": _letters(community_id, period, state),
        "counts": _state_counts(community_id, period),
        "state": state,
        "form": form,
    }
    return _page("home.html", status, parse_period=periods.parse, **context)


@bp.get("/", endpoint="admin_home")
def admin_home():
    ids = _admin_ids()
    community_id, period = _community(ids), _period()
    form = BatchForm(formdata=None, community=community_id, period=period.key)
    return _home_page(ids, community_id, period, form)


# --- preview and PDF -----------------------------------------------------------------------------


def _report_to_preview(community_id: int, period: periods.Period) -> MemberReport:
    eligible = documents.eligible_reports(community_id, period)
    if not eligible:
        raise DomainError(
            "nothing_to_preview", _l("No member has verified services in this community in this period."), status=404
        )
    raw = (request.args.get("member") or "").strip()
    if not raw:
        return db.session.get(MemberReport, eligible[0])
    report = None
    if raw.isascii() and raw.isdigit() and int(raw) < 2**31:
        stmt = select(MemberReport).where(MemberReport.id.in_(eligible), MemberReport.user_id == int(raw))
        report = db.session.scalar(stmt)
    if report is None:
        raise DomainError("not_eligible", _l("This member has no verified services here in this period."), status=404)
    return report


@bp.get("/preview", endpoint="preview")
def preview():
    """The letter one member would get, as a page: drafted, shown, never saved."""
    ids = _admin_ids()
    community_id, period = _community(ids), _period()
    draft = documents.draft_letter(_report_to_preview(community_id, period), period, current_user)
    draft.number = f"GX{draft.issued_on.year}-XXXX-XXXX"  # a random one would look real, then verify as unknown
    body = pdf.html(draft, preview=True)
    db.session.rollback()  # the draft was never added; this makes sure nothing of it is written
    return body, 200, {"Cache-Control": "no-store"}


@bp.get("/documents/<int:document_id>.pdf", endpoint="document_pdf")
def document_pdf(document_id: int):
    _admin_ids()
    document = _letter(document_id)
    response = send_file(
        io.BytesIO(pdf.render(document)),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=pdf.filename(document),
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- batches -------------------------------------------------------------------------------------


def _status(batch: LetterBatch) -> dict:
    running = batch.state == "running"
    return {
        "id": batch.id,
        "state": batch.state,
        "state_label": str(BATCH_STATE_LABELS[batch.state][0]),
        "total": batch.total,
        "done": batch.done,
        "created": batch.created,
        "percent": 100 * batch.done // batch.total if batch.total else 0 if running else 100,
        "error": batch.error or "",
        "stalled": running and batch.done == 0 and utcnow() - aware(batch.created_at) > STALLED_AFTER,
        "finished": not running,
        "letters_url": url_for("letters.admin_home", community=batch.community_id, period=batch.period_key),
    }


def _enqueue_batch(batch_id: int) -> None:
    try:
        queue.get().run_batch(batch_id)
    except Exception:  # the batch row is saved; the page says the queue could not take it
        current_app.logger.exception("Could not enqueue letter batch %s", batch_id)
        flash(_("The job queue could not be reached. Ask whoever runs the server to check it."), "error")


@bp.post("/batches", endpoint="batch_start")
def batch_start():
    ids = _admin_ids()
    form = BatchForm()
    if form.community.data is not None and form.community.data not in ids:
        abort(404)
    community_id = form.community.data or community_choices(ids)[0][0]
    if form.validate_on_submit():
        try:
            batch = batches.start(community_id, form.chosen_period, current_user)
        except DomainError as err:
            status = _refused(form, None, err)
        else:
            _enqueue_batch(batch.id)
            return _done(_("Generating the letters."), url_for("letters.batch", batch_id=batch.id))
    else:
        status = 400
    db.session.rollback()
    period = getattr(form, "chosen_period", None) or periods.last_quarter(local_today())
    return _home_page(ids, community_id, period, form, status)


@bp.get("/batches/<int:batch_id>", endpoint="batch")
def batch_page(batch_id: int):
    _admin_ids()
    batch = perm.get_in_community(LetterBatch, batch_id, Role.ADMIN)
    return _page("batch.html", batch=batch, progress=_status(batch), period=periods.parse(batch.period_key))


@bp.get("/batches/<int:batch_id>.json", endpoint="batch_status")
def batch_status(batch_id: int):
    _admin_ids()
    batch = perm.get_in_community(LetterBatch, batch_id, Role.ADMIN)
    return STATUS_SCHEMA.dump(_status(batch)), 200, {"Cache-Control": "no-store"}


# --- one letter: its emails, revoke, resend ------------------------------------------------------


def _period_key(document: Document) -> str:
    start, year = document.period_start, document.period_start.year
    quarter = periods.quarter(year, (start.month - 1) // 3 + 1)
    return quarter.key if (quarter.start, quarter.end) == (start, document.period_end) else str(year)


def _document_page(document: Document, form: RevokeForm, status: int = 200):
    document = db.session.scalar(
        select(Document)
        .where(Document.id == document.id)
        .options(selectinload(Document.emails), joinedload(Document.revoked_by), joinedload(Document.issued_by))
    )
    context = {"document": document, "facts": document.facts, "form": form, "state": letter_state(document)}
    key = _period_key(document)
    context["back_url"] = url_for("letters.admin_home", community=document.community_id, period=key)
    return _page("document.html", status, verify_url=pdf.verify_url(document), **context)


@bp.get("/documents/<int:document_id>", endpoint="document")
def document_page(document_id: int):
    _admin_ids()
    return _document_page(_letter(document_id), RevokeForm(formdata=None))


@bp.post("/documents/<int:document_id>/revoke", endpoint="revoke")
def revoke(document_id: int):
    _admin_ids()
    document = _letter(document_id)
    form = RevokeForm()
    status = 400
    if form.validate_on_submit():
        try:
            documents.revoke(document, current_user, form.reason.data)
        except DomainError as err:
            status = _refused(form, "reason" if err.code == "reason_required" else None, err)
        else:
            message = _("Letter %(number)s was revoked.", number=document.number)
            return _done(message, url_for("letters.document", document_id=document.id))
    db.session.rollback()
    return _document_page(document, form, status)


@bp.post("/emails/<int:email_id>/resend", endpoint="resend")
def resend(email_id: int):
    ids = _admin_ids()
    email = db.session.get(Email, email_id)
    if email is None or email.document.community_id not in ids:
        abort(404)
    outbox.resend(email, current_user)  # a refusal (not failed, revoked) is shown by the error handler
    queue.get().send_later([email.id])  # if the queue is down, the next sweep sends it
    message = _("The email to %(to)s is queued again.", to=email.recipient)
    return _done(message, url_for("letters.document", document_id=email.document_id))


# --- the community's letter settings -------------------------------------------------------------


def _settings_page(community_id: int, form: SettingsForm, status: int = 200):
    row = letter_settings.for_community(community_id)
    seal = "data:image/png;base64," + base64.b64encode(row.seal_png).decode() if row.seal_png else None
    context = {"form": form, "community_id": community_id, "settings": row, "seal": seal}
    community = dict(community_choices({community_id}))[community_id]
    return _page("settings.html", status, community=community, **context)


@bp.route("/settings", methods=FORM, endpoint="settings")
def settings_page():
    ids = _admin_ids()
    community_id = _community(ids)
    if request.method == "GET":
        return _settings_page(community_id, SettingsForm(obj=letter_settings.for_community(community_id)))
    form = SettingsForm()
    status = 400
    if form.validate_on_submit():
        try:
            seal = letter_settings.read_seal(form.seal.data.stream) if form.seal.data else None
            letter_settings.save(
                current_user, community_id, form.values(), seal=seal, remove_seal=bool(form.remove_seal.data)
            )
        except DomainError as err:
            status = _refused(form, form.field_of.get(err.code), err)
        else:
            return _done(_("The letter settings were saved."), url_for("letters.settings", community=community_id))
    db.session.rollback()
    return _settings_page(community_id, form, status)
