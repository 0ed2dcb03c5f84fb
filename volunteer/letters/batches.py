"""A round of letters for one community and period, written in chunks so an admin can watch its progress."""

from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, update

from ..core import audit
from ..core.database import begin_write
from ..core.errors import DomainError
from ..core.models import local_today, utcnow
from ..extensions import db
from ..org.models import MemberReport
from . import documents, periods
from .models import LetterBatch

CHUNK = 25  # letters per transaction: progress moves often, a failure loses little


def start(community_id: int, period: periods.Period, actor) -> LetterBatch:
    """Record a new batch (the queue runs it); refused while another runs for the same community and period."""
    if period.start > local_today():
        raise DomainError("future_period", _l("This period has not started yet: there is nothing to thank for."))
    begin_write()
    running = db.session.scalar(
        select(LetterBatch.id).where(
            LetterBatch.community_id == community_id,
            LetterBatch.period_key == period.key,
            LetterBatch.state == "running",
        )
    )
    if running:
        raise DomainError("batch_running", _l("Letters for this period are already being generated."), status=409)
    batch = LetterBatch(
        community_id=community_id,
        period_key=period.key,
        period_start=period.start,
        period_end=period.end,
        total=len(documents.eligible_reports(community_id, period)),
        started_by_id=actor.id,
    )
    db.session.add(batch)
    db.session.flush()
    audit.record(actor, "letter.batch", batch, after={"period": period.key, "members": batch.total})
    db.session.commit()
    return batch


def _stale_before():
    return utcnow() - timedelta(seconds=current_app.config["LETTER_STALE_SECONDS"])


def _dead(stale_before):
    """A running batch no live run holds: never started, or its last heartbeat is stale."""
    beat = func.coalesce(LetterBatch.heartbeat_at, LetterBatch.created_at)
    return and_(LetterBatch.state == "running", beat < stale_before)


def stalled_ids() -> list[int]:
    """Batches still "running" whose run died or whose task was lost (queue down, worker killed)."""
    stmt = select(LetterBatch.id).where(_dead(_stale_before())).order_by(LetterBatch.id)
    return list(db.session.scalars(stmt))


def _hold(batch_id: int) -> bool:
    """Take the batch for this run (a first run, or one after a dead run); False if a live run holds it."""
    begin_write()
    free = or_(LetterBatch.heartbeat_at.is_(None), LetterBatch.heartbeat_at < _stale_before())
    held = db.session.execute(
        update(LetterBatch)
        .where(LetterBatch.id == batch_id, LetterBatch.state == "running", free)
        .values(heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return held == 1


def _write_chunk(batch: LetterBatch, period: periods.Period, report_ids: list[int]) -> tuple[int, list[int]]:
    """Letters for the reports that have none yet: (letters written, ids of their queued emails)."""
    written = []
    reports = db.session.scalars(select(MemberReport).where(MemberReport.id.in_(report_ids)).order_by(MemberReport.id))
    for report in reports:
        if documents.live_letter(report.community_id, report.user_id, period) is None:
            written.append(documents.build_letter(report, period, batch.started_by, batch.id))
    db.session.flush()
    return len(written), [email.id for document in written for email in document.emails]


def run(batch_id: int, on_emails: Callable[[list[int]], None] = lambda ids: None) -> LetterBatch:
    """Write the batch's letters chunk by chunk, committing each with its emails, then hand them to `on_emails`."""
    if not _hold(batch_id):
        return db.session.get(LetterBatch, batch_id)
    batch = db.session.get(LetterBatch, batch_id)
    period = periods.parse(batch.period_key)
    report_ids = documents.eligible_reports(batch.community_id, period)
    try:
        for at in range(0, len(report_ids), CHUNK):
            # A fresh write transaction per chunk: on SQLite a read one cannot become a write
            # once a worker sending emails has written.
            begin_write()
            batch = db.session.get(LetterBatch, batch_id)
            created, email_ids = _write_chunk(batch, period, report_ids[at : at + CHUNK])
            batch.total, batch.created = len(report_ids), batch.created + created
            batch.done, batch.heartbeat_at = min(len(report_ids), at + CHUNK), utcnow()
            db.session.commit()
            on_emails(email_ids)
        begin_write()
        batch = db.session.get(LetterBatch, batch_id)
        batch.total, batch.done = len(report_ids), len(report_ids)
        batch.state, batch.finished_at = "done", utcnow()
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        current_app.logger.exception("Letter batch %s failed", batch_id)
        begin_write()
        batch = db.session.get(LetterBatch, batch_id)
        batch.state, batch.finished_at, batch.error = "failed", utcnow(), f"{type(error).__name__}: {error}"[:500]
        db.session.commit()
    return batch
