"""Organisation rules: creating the four levels and units, 双报到 reports, co-building agreements."""

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..accounts.models import Role, RoleGrant, User
from ..core.audit import record, snapshot
from ..core.errors import DomainError
from ..core.models import utcnow
from ..extensions import db
from .models import Agreement, Building, Community, Compound, MemberReport, Street, Unit

EDITABLE = {
    Street: ("name", "district"),
    Community: ("name", "address", "phone"),
    Compound: ("name", "kind"),
    Building: ("name",),
    Unit: ("name", "contact_person", "contact_email", "contact_phone", "address"),
}


def _save(obj, actor, action: str, before=None, community_id=None):
    """Flush, turn a duplicate name into a clear error, audit, commit."""
    if not (obj.name or "").strip():
        db.session.rollback()
        raise DomainError("bad_name", _l("Enter a name."))
    db.session.add(obj)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise DomainError("duplicate", _l("That name is already used here. Choose another.")) from None
    after = snapshot(obj, *EDITABLE[type(obj)])
    if before == after:  # nothing changed: nothing to record
        return obj
    if community_id is None:
        community_id = _community_of(obj)  # after the flush: a new community has its id now
    record(actor, action, obj, community_id=community_id, before=before, after=after)
    db.session.commit()
    return obj


def create(model, actor, *, community_id=None, **fields):
    """Create a street, community, compound, building or unit.

    `community_id` places a compound in its community; for every model it is also the
    community the audit entry belongs to (worked out from the object when not given).
    """
    if community_id is not None and "community_id" in model.__table__.columns:
        fields["community_id"] = community_id
    obj = model(**{k: v for k, v in fields.items() if v is not None})
    return _save(obj, actor, f"{model.__name__.lower()}.create", community_id=community_id)


def update(obj, actor, **fields):
    """Change the editable fields of an organisation object, audited with before/after."""
    allowed = EDITABLE[type(obj)]
    before = snapshot(obj, *allowed)
    for key, value in fields.items():
        if key in allowed and value is not None:
            setattr(obj, key, value)
    return _save(obj, actor, f"{type(obj).__name__.lower()}.update", before=before)


def _community_of(obj) -> int | None:
    if isinstance(obj, Community):
        return obj.id
    if isinstance(obj, Compound):
        return obj.community_id
    if isinstance(obj, Building):
        compound = obj.compound or db.session.get(Compound, obj.compound_id)
        return compound.community_id
    return None


def report_member(user: User, community: Community, unit: Unit, year: int, actor: User) -> MemberReport:
    """双报到: record that a party member serves `community` in `year`, employed by `unit`.

    One community per member per year (a UNIQUE constraint backs this up under races);
    the member gains the volunteer role in that community.
    """
    if not user.is_party_member:
        raise DomainError("not_member", _l("Only party members report to a community (dual reporting)."))
    if not 2000 <= year <= 2100:
        raise DomainError("bad_year", _l("Choose a year between 2000 and 2100."))
    existing = db.session.scalar(select(MemberReport).where(MemberReport.user_id == user.id, MemberReport.year == year))
    if existing:
        raise DomainError(
            "already_reported",
            _l(
                "%(name)s already reports to %(community)s for %(year)d.",
                name=user.name,
                community=existing.community.name,
                year=year,
            ),
        )
    report = MemberReport(
        user_id=user.id, community_id=community.id, unit_id=unit.id, year=year, recorded_by_id=actor.id
    )
    db.session.add(report)
    key = RoleGrant.make_scope_key(community.id)
    if not any(g.role == Role.VOLUNTEER and g.scope_key == key for g in user.roles):
        user.roles.append(
            RoleGrant(role=Role.VOLUNTEER, community_id=community.id, scope_key=key, granted_by_id=actor.id)
        )
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise DomainError("already_reported", _l("This member already reports to a community for that year.")) from None
    record(actor, "report.create", report, after={"user_id": user.id, "unit_id": unit.id, "year": year})
    db.session.commit()
    return report


def cancel_report(report: MemberReport, actor: User, reason: str) -> None:
    """Remove a mistaken report (audited with the reason); the volunteer role stays if other years use it."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("reason_required", _l("Give a reason for cancelling the report."))
    user_id, community_id = report.user_id, report.community_id
    before = {"user_id": user_id, "unit_id": report.unit_id, "year": report.year, "reason": reason}
    # A conditional DELETE: of two cancellations at once only one finds the row.
    gone = db.session.execute(
        sa.delete(MemberReport).where(MemberReport.id == report.id).execution_options(synchronize_session=False)
    )
    if gone.rowcount != 1:
        db.session.rollback()
        raise DomainError("already_cancelled", _l("This report has already been cancelled."), status=409)
    record(actor, "report.cancel", report, community_id=community_id, before=before)
    db.session.expunge(report)
    still_used = db.session.scalar(
        select(MemberReport.id).where(MemberReport.user_id == user_id, MemberReport.community_id == community_id)
    )
    if not still_used:
        db.session.execute(
            sa.delete(RoleGrant).where(
                RoleGrant.user_id == user_id, RoleGrant.role == Role.VOLUNTEER, RoleGrant.community_id == community_id
            )
        )
    db.session.commit()


def sign_agreement(
    unit: Unit, community: Community, signed_on: date, ends_on: date | None, content: str, actor: User
) -> Agreement:
    if ends_on is not None and ends_on < signed_on:
        raise DomainError("bad_dates", _l("The end date cannot be before the signing date."))
    agreement = Agreement(
        unit_id=unit.id, community_id=community.id, signed_on=signed_on, ends_on=ends_on, content=content.strip()
    )
    db.session.add(agreement)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise DomainError("duplicate", _l("This unit already signed with this community on that date.")) from None
    record(actor, "agreement.sign", agreement, after={"unit_id": unit.id, "signed_on": signed_on.isoformat()})
    db.session.commit()
    return agreement


def terminate_agreement(agreement: Agreement, actor: User, when: datetime | None = None) -> None:
    when = when or utcnow()
    # Conditional UPDATE: two stewards pressing "terminate" at once end it (and audit it) once.
    ended = db.session.execute(
        sa.update(Agreement)
        .where(Agreement.id == agreement.id, Agreement.terminated_at.is_(None))
        .values(terminated_at=when)
    )
    if ended.rowcount != 1:
        db.session.rollback()
        raise DomainError("already_ended", _l("This agreement has already ended."))
    record(actor, "agreement.terminate", agreement, after={"terminated_at": when.isoformat()})
    db.session.commit()
