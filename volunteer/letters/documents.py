"""Issuing, finding and revoking letters and certificates; each letter's email is queued with it."""

import re
import secrets
from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select, update

from ..core import audit
from ..core.errors import DomainError
from ..core.models import local_today, utcnow
from ..extensions import db
from ..org.models import MemberReport
from ..service.models import ServiceRecord
from . import facts, pdf
from .models import Document, Email
from .periods import Period

NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O or 1/I: read aloud and typed
NUMBER_PATTERN = re.compile(r"^(GX|ZM)\d{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$")
PREFIX = {"letter": "GX", "certificate": "ZM"}  # 感谢 / 证明


def new_number(kind: str, year: int) -> str:
    """E.g. GX2026-7KQ3-M9XD: unguessable, so the public verification page cannot be enumerated."""
    part = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))
    return f"{PREFIX[kind]}{year}-{part[:4]}-{part[4:]}"


def normalise_number(text: str | None) -> str:
    """What a person typed, as stored: upper case, no spaces, dashes where they belong."""
    raw = re.sub(r"[^0-9A-Za-z]", "", text or "")[:20].upper()
    if len(raw) == 14:
        return f"{raw[:6]}-{raw[6:10]}-{raw[10:]}"
    return raw


def find(number: str | None) -> Document | None:
    number = normalise_number(number)
    if not NUMBER_PATTERN.match(number):
        return None
    return db.session.scalar(select(Document).where(Document.number == number))


def dedupe_key(community_id: int, user_id: int, period: Period) -> str:
    return f"letter:{community_id}:{user_id}:{period.key}"


def eligible_reports(community_id: int, period: Period) -> list[int]:
    """双报到 reports of the period's year to the community whose member has a verified service in the period."""
    served = exists().where(
        ServiceRecord.volunteer_id == MemberReport.user_id,
        ServiceRecord.community_id == community_id,
        ServiceRecord.status == "verified",
        ServiceRecord.served_on.between(period.start, period.end),
    )
    stmt = (
        select(MemberReport.id)
        .where(MemberReport.community_id == community_id, MemberReport.year == period.year, served)
        .order_by(MemberReport.id)
    )
    return list(db.session.scalars(stmt))


def subject_for(document: Document) -> str:
    return f"感谢函：{document.facts['name']}同志{document.period_label}志愿服务（{document.number}）"


def message_id(number: str) -> str:
    domain = current_app.config["MAIL_SENDER"].rpartition("@")[2] or "localhost"
    return f"<{number.lower()}.{secrets.token_hex(6)}@{domain}>"


def queue_email(document: Document) -> Email | None:
    """The letter's email to its unit's contact, in the caller's transaction; None without an address."""
    recipient = (document.unit.contact_email or "").strip()
    if not recipient:
        return None
    email = Email(
        document=document, recipient=recipient, subject=subject_for(document), message_id=message_id(document.number)
    )
    db.session.add(email)
    return email


def draft_letter(report: MemberReport, period: Period, actor=None, batch_id: int | None = None) -> Document:
    """A letter for one member's report, not yet in the session: facts frozen now."""
    today = local_today()
    return Document(
        kind="letter",
        number=new_number("letter", today.year),
        user_id=report.user_id,
        community_id=report.community_id,
        unit_id=report.unit_id,
        batch_id=batch_id,
        period_start=period.start,
        period_end=period.end,
        period_label=period.chinese,
        dedupe_key=dedupe_key(report.community_id, report.user_id, period),
        facts={**facts.for_letter(report, period.start, period.end, today), "signed": _signed(report.community_id)},
        issued_on=today,
        issued_by_id=getattr(actor, "id", None),
    )


def _signed(community_id: int) -> dict:
    return pdf.signed_by(pdf.settings_for(community_id))


def build_letter(report: MemberReport, period: Period, actor=None, batch_id: int | None = None) -> Document:
    """A new letter in the session (not committed), with its email queued in the same transaction."""
    document = draft_letter(report, period, actor, batch_id)
    db.session.add(document)
    db.session.flush()
    queue_email(document)
    return document


def live_letter(community_id: int, user_id: int, period: Period) -> Document | None:
    key = dedupe_key(community_id, user_id, period)
    return db.session.scalar(select(Document).where(Document.dedupe_key == key))


def issue_certificate(user, start: date, end: date) -> Document:
    """The member's own 志愿服务记录证明 for the dates, committed, so it can be verified."""
    today = local_today()
    if start > end:
        raise DomainError("invalid_period", _l("The start date must not be after the end date."))
    if end > today:
        raise DomainError("invalid_period", _l("The end date cannot be in the future."))
    if (end - start).days > 366 * 10:
        raise DomainError("invalid_period", _l("A certificate covers at most ten years."))
    document = Document(
        kind="certificate",
        number=new_number("certificate", today.year),
        user_id=user.id,
        period_start=start,
        period_end=end,
        period_label=f"{start.year}年{start.month}月{start.day}日至{end.year}年{end.month}月{end.day}日",
        facts=facts.for_certificate(user, start, end, today),
        issued_on=today,
        issued_by_id=user.id,
    )
    db.session.add(document)
    db.session.commit()
    return document


def revoke(document: Document, actor, reason: str) -> Document:
    """Withdraw a letter: its page says so, unsent email stops, and a corrected letter may be issued."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("reason_required", _l("Give a reason for revoking the letter."))
    if document.revoked:
        raise DomainError("already_revoked", _l("This letter was already revoked."), status=409)
    document.revoked_at = utcnow()
    document.revoked_by_id = actor.id
    document.revoke_reason = reason[:300]
    document.dedupe_key = None
    db.session.execute(
        update(Email)
        .where(Email.document_id == document.id, Email.state == "queued")
        .values(state="failed", last_error="letter revoked before it was sent")
    )
    audit.record(actor, "letter.revoke", document, after={"number": document.number, "reason": document.revoke_reason})
    db.session.commit()
    return document
