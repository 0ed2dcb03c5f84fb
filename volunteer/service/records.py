"""Service records: created pending, verified by a steward (one earn_service entry), un-verified by reversal.

Verification flips the status with a conditional UPDATE (pending/rejected -> verified) in a write
transaction, so two stewards verifying one record at once give one verification and one entry;
the entry's key names the record and the verification number, so a retried request adds nothing.

Nobody decides on their own service: a steward who is also a volunteer cannot enter, verify,
correct, reject or un-verify a record of their own (another steward of the community does).

Checked and entered hours: the rule is ServiceRecord.is_checked (a hybrid, so Python and SQL
share it). Hours are checked when the system measured them (source in CHECKED_SOURCES: QR
check-in/out, or a taken order the resident confirmed) and no steward has corrected them since;
everything else (self-reported, entered by a steward, or corrected) is entered.
"""

from datetime import date
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, select, update

from ..core.audit import record as audit
from ..core.database import begin_write
from ..core.errors import DomainError, NotAllowed
from ..core.models import local_today, utcnow
from ..extensions import db
from ..ledger import services as ledger
from ..ledger.models import LedgerEntry
from .access import is_steward_of, is_volunteer_of
from .lists import active_claim
from .models import MAX_MINUTES, RECORD_KINDS, Project, ServicePolicy, ServiceRecord

DESCRIPTION_MAX = 500
REASON_MAX = 300
BULK_MAX = 200
OLDEST_DAYS = 366  # a service reported later than a year after it happened is refused


def policy_for(community_id: int) -> ServicePolicy:
    return db.session.get(ServicePolicy, community_id) or ServicePolicy(
        community_id=community_id, points_per_hour=10, points_per_service=5
    )


def checked_minutes_sum():
    """SUM of the verified minutes that are checked (the report's other part, entered, is the rest)."""
    checked = and_(ServiceRecord.status == "verified", ServiceRecord.is_checked)
    return func.sum(case((checked, ServiceRecord.minutes), else_=0))


def points_for(policy: ServicePolicy, minutes: int) -> int:
    """Points for one service: per service plus per hour (rounded to the nearest point), at least 1."""
    return max(1, policy.points_per_service + (policy.points_per_hour * minutes + 30) // 60)


def check_minutes(minutes) -> int:
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= MAX_MINUTES:
        raise DomainError("bad_minutes", _l("Hours must be more than 0 and at most 24."))
    return minutes


def check_day(day) -> date:
    today = local_today()
    if not isinstance(day, date) or day > today:
        raise DomainError("bad_date", _l("The date cannot be in the future."))
    if (today - day).days > OLDEST_DAYS:
        raise DomainError("bad_date", _l("Services more than a year old cannot be reported."))
    return day


def _text(value, limit: int, code: str, message) -> str:
    value = (value or "").strip()
    if not value or len(value) > limit:
        raise DomainError(code, message)
    return value


OWN_RECORD = _l("You cannot decide on your own service: another steward of the community does.")


def is_own(row: ServiceRecord, user) -> bool:
    """The record is the user's own service: another steward decides on it."""
    return row.volunteer_id == user.id


def _not_own(row: ServiceRecord, steward) -> None:
    """A steward who is also a volunteer may not verify, correct or reject their own service."""
    if is_own(row, steward):
        raise DomainError("own_record", OWN_RECORD, status=403)


def new_record(volunteer, community_id: int, **fields) -> ServiceRecord:
    """A pending record in the caller's transaction (activities and orders make theirs here)."""
    row = ServiceRecord(volunteer_id=volunteer.id, community_id=community_id, status="pending", **fields)
    db.session.add(row)
    db.session.flush()
    return row


# --- volunteers and stewards add records ---------------------------------------------------------


def _claimed_project(project_id, volunteer, community_id, *, own_claim: bool) -> Project | None:
    """The project a record is for: of the community and, for a volunteer's own report, claimed by them."""
    if not project_id:
        return None
    project = db.session.get(Project, project_id)
    if project is None or project.community_id != community_id:
        raise DomainError("bad_project", _l("Choose one of this community's projects."))
    if own_claim and active_claim(project.id, volunteer.id) is None:
        raise DomainError("bad_project", _l("Choose a project you have claimed."))
    return project


def report_own(volunteer, community_id: int, *, day, minutes, description, project_id=None, photo=None):
    """A volunteer reports a service done outside the system: pending until a steward verifies it."""
    if not is_volunteer_of(volunteer, community_id):
        raise NotAllowed()
    project = _claimed_project(project_id, volunteer, community_id, own_claim=True)
    row = new_record(
        volunteer,
        community_id,
        served_on=check_day(day),
        minutes=check_minutes(minutes),
        kind="project" if project else "other",
        source="self",
        description=_text(
            description, DESCRIPTION_MAX, "bad_description", _l("Say what you did (up to 500 characters).")
        ),
        project_id=project.id if project else None,
        photo=photo,
        entered_by_id=volunteer.id,
    )
    db.session.commit()
    return row


def enter_for(steward, volunteer, community_id: int, *, day, minutes, kind, description, project_id=None):
    """A steward enters a service on a volunteer's behalf (source 'steward'), still to be verified."""
    if not is_steward_of(steward, community_id):
        raise NotAllowed()
    if not is_volunteer_of(volunteer, community_id):
        raise DomainError("not_volunteer", _l("This person is not a volunteer of the community."))
    if volunteer.id == steward.id:  # entering for yourself is a self-report, which another steward verifies
        raise DomainError("own_record", _l("To record your own service, use “Report a service”."))
    if kind not in RECORD_KINDS:
        raise DomainError("bad_kind", _l("Choose a kind of service."))
    project = _claimed_project(project_id, volunteer, community_id, own_claim=False)
    row = new_record(
        volunteer,
        community_id,
        served_on=check_day(day),
        minutes=check_minutes(minutes),
        kind=kind,
        source="steward",
        description=_text(
            description, DESCRIPTION_MAX, "bad_description", _l("Say what was done (up to 500 characters).")
        ),
        project_id=project.id if project else None,
        entered_by_id=steward.id,
    )
    audit(steward, "service.record_enter", row, community_id=community_id, after={"minutes": row.minutes})
    db.session.commit()
    return row


# --- verification --------------------------------------------------------------------------------


def _locked(record_id: int) -> ServiceRecord:
    stmt = select(ServiceRecord).where(ServiceRecord.id == record_id).with_for_update()
    row = db.session.execute(stmt.execution_options(populate_existing=True)).scalar_one_or_none()
    if row is None:
        raise DomainError("not_found", _l("This service record does not exist."), status=404)
    return row


def _earn(row: ServiceRecord, steward) -> None:
    """Post the record's entry and mark it verified; the caller holds the write transaction and row lock."""
    if row.status not in ("pending", "rejected"):
        raise DomainError("already_verified", _l("This service has already been verified."))
    number = row.verifications + 1
    points = points_for(policy_for(row.community_id), row.minutes)
    account = ledger.account_for(row.volunteer_id, row.community_id)
    posting = ledger.earn(
        account,
        points,
        kind="earn_service",
        key=f"service-record:{row.id}:verify:{number}",
        source=row,
        actor=steward,
        memo=row.description[:300],
    )
    # Conditional on the state we read: a second verifier that got past the lock finds nothing to change.
    changed = db.session.execute(
        update(ServiceRecord)
        .where(
            ServiceRecord.id == row.id,
            ServiceRecord.status.in_(("pending", "rejected")),
            ServiceRecord.verifications == number - 1,
        )
        .values(
            status="verified",
            verifications=number,
            points=points,
            earn_entry_id=posting.entry.id,
            verified_by_id=steward.id,
            verified_at=utcnow(),
            reject_reason="",
            needs_review=False,  # a steward has looked at it
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        db.session.rollback()
        raise DomainError("already_verified", _l("This service has already been verified."))
    db.session.refresh(row)


def verify(steward, record_id: int) -> ServiceRecord:
    begin_write()
    row = _locked(record_id)
    if not is_steward_of(steward, row.community_id):
        raise NotAllowed()
    _not_own(row, steward)
    _earn(row, steward)
    audit(steward, "service.record_verify", row, community_id=row.community_id, after={"points": row.points})
    db.session.commit()
    return row


class Bulk(NamedTuple):
    done: int
    skipped: int  # all skipped, own included
    own: int  # skipped because they are the steward's own services


def verify_many(steward, record_ids) -> Bulk:
    """Verify each pending record the steward may verify, skipping their own. One transaction."""
    ids = sorted({i for i in record_ids if isinstance(i, int)})[:BULK_MAX]
    begin_write()
    # Lock every row, in id order, before earning anything: locking them one by one deadlocked on
    # PostgreSQL with a single verification holding the next record and waiting for the account.
    stmt = select(ServiceRecord).where(ServiceRecord.id.in_(ids)).order_by(ServiceRecord.id).with_for_update()
    locked = {row.id: row for row in db.session.scalars(stmt.execution_options(populate_existing=True))}
    done = skipped = own = 0
    for record_id in ids:
        row = locked.get(record_id)
        if row is None or not is_steward_of(steward, row.community_id) or row.status != "pending":
            skipped += 1
            continue
        if is_own(row, steward):
            skipped, own = skipped + 1, own + 1
            continue
        _earn(row, steward)
        audit(steward, "service.record_verify", row, community_id=row.community_id, after={"points": row.points})
        done += 1
    db.session.commit()
    return Bulk(done, skipped, own)


def reject(steward, record_id: int, reason: str) -> ServiceRecord:
    reason = _text(reason, REASON_MAX, "bad_reason", _l("Give a reason (up to 300 characters)."))
    begin_write()
    row = _locked(record_id)
    if not is_steward_of(steward, row.community_id):
        raise NotAllowed()
    _not_own(row, steward)
    if row.status != "pending":
        raise DomainError("not_pending", _l("Only a service waiting for verification can be rejected."))
    row.status = "rejected"
    row.needs_review = False  # decided: the flag has done its job
    row.reject_reason = reason
    row.verified_by_id = steward.id
    row.verified_at = utcnow()
    audit(steward, "service.record_reject", row, community_id=row.community_id, after={"reason": reason})
    db.session.commit()
    return row


def _unearn(row: ServiceRecord, steward, reason: str) -> None:
    entry = db.session.get(LedgerEntry, row.earn_entry_id)
    ledger.reverse(entry, actor=steward, memo=reason)  # InsufficientPoints if the points were spent
    row.status = "pending"
    row.earn_entry_id = None
    row.points = None
    row.verified_by_id = None
    row.verified_at = None


def unverify(steward, record_id: int, reason: str) -> ServiceRecord:
    """Take a verification back: a reversal entry, and the record waits for verification again."""
    reason = _text(reason, REASON_MAX, "bad_reason", _l("Give a reason (up to 300 characters)."))
    begin_write()
    row = _locked(record_id)
    if not is_steward_of(steward, row.community_id):
        raise NotAllowed()
    _not_own(row, steward)
    if row.status != "verified":
        raise DomainError("not_verified", _l("This service is not verified."))
    points = row.points
    _unearn(row, steward, reason)
    audit(
        steward,
        "service.record_unverify",
        row,
        community_id=row.community_id,
        before={"points": points},
        after={"reason": reason},
    )
    db.session.commit()
    return row


def mark_corrected(row: ServiceRecord, steward, minutes: int, at=None) -> None:
    """New minutes; the record counts as entered from now on, and keeps the minutes first checked."""
    if row.is_checked:  # the first correction of measured hours
        row.checked_minutes = row.minutes
    row.minutes = minutes
    row.corrected_at = at or utcnow()
    row.corrected_by_id = steward.id
    row.needs_review = False


def correct_minutes(steward, record_id: int, minutes: int, reason: str) -> ServiceRecord:
    """Correct a record's hours with a reason; a verified record is re-verified at the new hours."""
    minutes = check_minutes(minutes)
    reason = _text(reason, REASON_MAX, "bad_reason", _l("Give a reason (up to 300 characters)."))
    begin_write()
    row = _locked(record_id)
    if not is_steward_of(steward, row.community_id):
        raise NotAllowed()
    _not_own(row, steward)
    before = row.minutes
    if before == minutes:
        raise DomainError("unchanged", _l("The hours are unchanged."))
    was_verified = row.status == "verified"
    if was_verified:
        _unearn(row, steward, reason)
    mark_corrected(row, steward, minutes)
    db.session.flush()
    if was_verified:
        _earn(row, steward)
    audit(
        steward,
        "service.record_correct",
        row,
        community_id=row.community_id,
        before={"minutes": before},
        after={"minutes": minutes, "reason": reason},
    )
    db.session.commit()
    return row
