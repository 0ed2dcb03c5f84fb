"""Sending the outbox: claim an email, hold one SMTP conversation, record how it ended.

The states make a worker killed at any point harmless: a claimed email ("sending") is only
claimed again once it is older than LETTER_STALE_SECONDS, and every attempt carries the same
Message-ID, so a receiving server that saw the first attempt can tell the second is the same mail.
"""

import smtplib
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select, update

from ..core import audit
from ..core.database import begin_write
from ..core.errors import DomainError
from ..core.models import utcnow
from ..extensions import db
from . import pdf
from .models import Document, Email


@dataclass
class Outcome:
    state: str  # sent, queued (will retry), failed, skipped (not ours to send now)
    retry_in: float | None = None
    error: str = ""


def _claimable(now):
    stale = now - timedelta(seconds=current_app.config["LETTER_STALE_SECONDS"])
    live = select(Document.id).where(Document.revoked_at.is_(None))
    return and_(
        Email.document_id.in_(live),
        or_(
            and_(Email.state == "queued", Email.next_attempt_at <= now),
            and_(Email.state == "sending", Email.claimed_at < stale),
        ),
    )


def due_ids(limit: int = 1000) -> list[int]:
    """Emails a worker may send now: due ones, and ones a dead worker left half-sent."""
    stmt = select(Email.id).where(_claimable(utcnow())).order_by(Email.next_attempt_at, Email.id).limit(limit)
    return list(db.session.scalars(stmt))


def claim(email_id: int) -> Email | None:
    """Mark the email as being sent by this worker, or None if it is not this worker's to send."""
    begin_write()
    now = utcnow()
    claimed = db.session.execute(
        update(Email)
        .where(Email.id == email_id, _claimable(now))
        .values(state="sending", attempts=Email.attempts + 1, claimed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return db.session.get(Email, email_id) if claimed == 1 else None


def _finish(email: Email, attempt: int, **values) -> None:
    # Only the attempt that claimed the row may finish it: a worker presumed dead that wakes
    # up late must not overwrite what the next attempt recorded. A fresh write transaction: on
    # SQLite the read one held since the claim cannot be upgraded once another worker has written
    # ("database is locked"), and the email would stay "sending" and go out again when stale.
    email_id = email.id
    begin_write()
    db.session.execute(
        update(Email)
        .where(Email.id == email_id, Email.state == "sending", Email.attempts == attempt)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def build_message(email: Email) -> EmailMessage:
    document = email.document
    config = current_app.config
    message = EmailMessage()
    message["From"] = Address(document.community.name, addr_spec=config["MAIL_SENDER"])
    message["To"] = email.recipient
    message["Subject"] = email.subject
    message["Message-ID"] = email.message_id
    message["Date"] = format_datetime(email.created_at if email.created_at.tzinfo else utcnow())
    facts = document.facts
    message.set_content(
        f"{facts['unit']}：\n\n"
        f"附件为{facts['community']}为贵单位{facts['name']}同志出具的{document.period_label}志愿服务感谢函"
        f"（编号 {document.number}）。\n"
        f"感谢函真伪可在 {pdf.verify_url(document)} 核验。\n\n"
        f"{facts['community']}\n"
    )
    message.add_attachment(pdf.render(document), maintype="application", subtype="pdf", filename=pdf.filename(document))
    return message


def _smtp_send(message: EmailMessage, recipient: str) -> None:
    config = current_app.config
    host, port, timeout = config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_TIMEOUT"]
    if config["MAIL_USE_SSL"]:
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    with smtp:
        if config["MAIL_USE_STARTTLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message, to_addrs=[recipient])


def _permanent(error: Exception) -> bool:
    """A 5xx answer will not change on a retry (unknown mailbox, message refused)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    code = getattr(error, "smtp_code", None)
    return isinstance(code, int) and code >= 500


def _describe(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{addr}: {code} {msg.decode(errors='replace')}" for addr, (code, msg) in error.recipients.items()
        )
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error
        return f"{error.smtp_code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"[:500]
    return f"{type(error).__name__}: {error}"[:500]


def retry_delay(attempt: int) -> float:
    return current_app.config["LETTER_RETRY_SECONDS"] * 4 ** (attempt - 1)


def deliver(email_id: int) -> Outcome:
    """Send one email if it is due: exactly one SMTP conversation per claimed attempt."""
    email = claim(email_id)
    if email is None:
        return Outcome("skipped")
    attempt = email.attempts
    try:
        message = build_message(email)
    except Exception as error:  # a letter that cannot be rendered will not render on a retry either
        current_app.logger.exception("Rendering letter email %s failed", email_id)
        _finish(email, attempt, state="failed", last_error=f"could not render the letter: {_describe(error)}"[:500])
        return Outcome("failed", error=_describe(error))
    try:
        _smtp_send(message, email.recipient)
    except (smtplib.SMTPException, OSError) as error:
        reason = _describe(error)[:500]
        if _permanent(error) or attempt >= current_app.config["LETTER_MAX_ATTEMPTS"]:
            _finish(email, attempt, state="failed", last_error=reason)
            return Outcome("failed", error=reason)
        delay = retry_delay(attempt)
        _finish(email, attempt, state="queued", last_error=reason, next_attempt_at=utcnow() + timedelta(seconds=delay))
        return Outcome("queued", retry_in=delay, error=reason)
    _finish(email, attempt, state="sent", sent_at=utcnow(), last_error="")
    return Outcome("sent")


def resend(email: Email, actor) -> Email:
    """An admin puts a failed email back in the queue (same Message-ID: it never arrived)."""
    begin_write()  # read the state again under the write lock: two admins, or a worker, at once
    db.session.refresh(email, with_for_update=True)
    if email.document.revoked:
        raise DomainError("revoked", _l("This letter was revoked: it cannot be sent."), status=409)
    if email.state != "failed":
        raise DomainError("not_failed", _l("Only an email that failed can be sent again."), status=409)
    email.state, email.attempts, email.next_attempt_at, email.last_error = "queued", 0, utcnow(), ""
    audit.record(actor, "letter.resend", email, community_id=email.document.community_id, after={"to": email.recipient})
    db.session.commit()
    return email
