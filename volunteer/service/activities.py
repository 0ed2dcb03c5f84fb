"""Activities: publishing, sign-up with a waiting list, cancellation, check-in and check-out.

Every change to an activity's places locks the activity row first (FOR UPDATE on PostgreSQL, the
BEGIN IMMEDIATE write lock on SQLite), so the last place goes to exactly one person and the
waiting list moves up in order. Check-out writes the pending service record, hours capped at
the activity's length; a steward verifies it (records.verify) before it earns points.
"""

import secrets
from datetime import UTC, datetime, timedelta

from flask_babel import format_time
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..core.audit import record as audit
from ..core.audit import snapshot
from ..core.database import begin_write
from ..core.errors import DomainError, NotAllowed
from ..core.models import aware, to_local, utcnow
from ..extensions import db
from . import checkin_codes as codes
from . import records
from .access import is_steward_of, is_volunteer_of
from .models import CATEGORIES, Activity, Signup

EARLY = timedelta(minutes=30)  # check-in opens this long before the start
LATE = timedelta(minutes=30)  # check-out stays open this long after the end
SHORT = 15  # minutes: a shorter attendance is flagged for the steward to look at
FIELDS = ("title", "category", "place", "description", "starts_at", "ends_at", "places")


def _lock(activity_id: int) -> Activity:
    activity = db.session.get(Activity, activity_id, with_for_update=True, populate_existing=True)
    if activity is None:
        raise DomainError("not_found", _l("This activity does not exist."), status=404)
    return activity


def _check_fields(fields: dict) -> dict:
    title = (fields.get("title") or "").strip()
    place = (fields.get("place") or "").strip()
    if not title or len(title) > 80:
        raise DomainError("bad_title", _l("Enter a title (up to 80 characters)."))
    if not place or len(place) > 120:
        raise DomainError("bad_place", _l("Enter the place (up to 120 characters)."))
    if fields.get("category") not in CATEGORIES:
        raise DomainError("bad_category", _l("Choose a category."))
    starts, ends = fields.get("starts_at"), fields.get("ends_at")
    if not isinstance(starts, datetime) or not isinstance(ends, datetime) or ends <= starts:
        raise DomainError("bad_times", _l("The end must be after the start."))
    if ends - starts > timedelta(hours=24):
        raise DomainError("bad_times", _l("An activity lasts at most 24 hours."))
    # Stored in UTC: SQLite keeps the wall-clock digits only, and every comparison assumes UTC.
    starts, ends = aware(starts).astimezone(UTC), aware(ends).astimezone(UTC)
    places = fields.get("places")
    if not isinstance(places, int) or isinstance(places, bool) or not 1 <= places <= 500:
        raise DomainError("bad_places", _l("Places must be a whole number from 1 to 500."))
    description = (fields.get("description") or "").strip()
    if len(description) > 1000:
        raise DomainError("bad_description", _l("The description is too long (up to 1000 characters)."))
    return {
        **{k: fields[k] for k in FIELDS},
        **{"title": title, "place": place, "description": description, "starts_at": starts, "ends_at": ends},
    }


def create(steward, community_id: int, fields: dict) -> Activity:
    if not is_steward_of(steward, community_id):
        raise NotAllowed()
    values = _check_fields(fields)
    if aware(values["ends_at"]) <= utcnow():
        raise DomainError("bad_times", _l("The activity must end in the future."))
    activity = Activity(community_id=community_id, secret=secrets.token_hex(16), created_by_id=steward.id, **values)
    db.session.add(activity)
    db.session.flush()
    audit(steward, "service.activity_create", activity, after=snapshot(activity, "title", "places"))
    db.session.commit()
    return activity


def update(steward, activity_id: int, fields: dict) -> Activity:
    """Edit an activity; more places move the waiting list up, fewer than confirmed are refused."""
    values = _check_fields(fields)
    begin_write()
    activity = _lock(activity_id)
    if not is_steward_of(steward, activity.community_id):
        raise NotAllowed()
    if activity.state != "open":
        raise DomainError("cancelled", _l("This activity was cancelled."))
    if values["places"] < activity.taken:
        raise DomainError(
            "bad_places", _l("%(n)d volunteers are already confirmed; cancel some first.", n=activity.taken)
        )
    before = snapshot(activity, *FIELDS)
    for key, value in values.items():
        setattr(activity, key, value)
    db.session.flush()
    _promote(activity)
    audit(steward, "service.activity_edit", activity, before=before, after=snapshot(activity, *FIELDS))
    db.session.commit()
    return activity


def cancel(steward, activity_id: int, reason: str) -> Activity:
    reason = (reason or "").strip()
    if not reason or len(reason) > 300:
        raise DomainError("bad_reason", _l("Give a reason (up to 300 characters)."))
    begin_write()
    activity = _lock(activity_id)
    if not is_steward_of(steward, activity.community_id):
        raise NotAllowed()
    if activity.state != "open":
        raise DomainError("cancelled", _l("This activity was already cancelled."))
    if any(s.checked_in_at for s in activity.signups):
        raise DomainError("started", _l("Volunteers have checked in; the activity cannot be cancelled."))
    activity.state = "cancelled"
    activity.cancel_reason = reason
    for signup in activity.signups:
        if signup.state != "cancelled":
            signup.state = "cancelled"
            signup.cancelled_by_id = steward.id
    activity.taken = 0
    audit(steward, "service.activity_cancel", activity, after={"reason": reason})
    db.session.commit()
    return activity


# --- sign-up and the waiting list ----------------------------------------------------------------


def sign_up(volunteer, activity_id: int) -> Signup:
    """A place if one is free, else a place on the waiting list. Signing up twice changes nothing."""
    begin_write()
    activity = _lock(activity_id)
    if not is_volunteer_of(volunteer, activity.community_id):
        raise DomainError("not_volunteer", _l("Only volunteers of this community can sign up."), status=403)
    if activity.state != "open":
        raise DomainError("cancelled", _l("This activity was cancelled."))
    if aware(activity.ends_at) <= utcnow():
        raise DomainError("ended", _l("This activity has ended."))
    signup = db.session.scalar(
        select(Signup).where(Signup.activity_id == activity.id, Signup.volunteer_id == volunteer.id)
    )
    if signup is not None and signup.state != "cancelled":
        db.session.rollback()
        return signup
    state = "confirmed" if activity.taken < activity.places else "waiting"
    if signup is None:
        signup = Signup(activity_id=activity.id, volunteer_id=volunteer.id)
        db.session.add(signup)
    signup.state, signup.queued_at, signup.cancelled_by_id = state, utcnow(), None
    if state == "confirmed":
        activity.taken += 1
    db.session.commit()
    return signup


def _promote(activity: Activity) -> None:
    """Fill free places from the waiting list, first come first served."""
    waiting = [s for s in activity.signups if s.state == "waiting"]
    waiting.sort(key=lambda s: (aware(s.queued_at), s.id))
    for signup in waiting:
        if activity.taken >= activity.places:
            break
        signup.state = "confirmed"
        activity.taken += 1


def cancel_signup(actor, signup_id: int) -> Signup:
    """The volunteer (before the start) or a steward takes a sign-up back; the waiting list moves up."""
    signup = db.session.get(Signup, signup_id)
    if signup is None:
        raise DomainError("not_found", _l("This sign-up does not exist."), status=404)
    begin_write()
    activity = _lock(signup.activity_id)
    signup = db.session.get(Signup, signup_id, populate_existing=True)
    steward = is_steward_of(actor, activity.community_id)
    if signup.volunteer_id != actor.id and not steward:
        raise NotAllowed()
    if signup.state == "cancelled":
        raise DomainError("already_cancelled", _l("This sign-up was already cancelled."))
    if signup.checked_in_at is not None:
        raise DomainError("checked_in", _l("Already checked in: the sign-up cannot be cancelled."))
    if not steward and aware(activity.starts_at) <= utcnow():
        raise DomainError("started", _l("The activity has started; ask the steward."))
    was_confirmed = signup.state == "confirmed"
    signup.state, signup.cancelled_by_id = "cancelled", actor.id
    if was_confirmed:
        activity.taken -= 1
        db.session.flush()
        _promote(activity)
    if steward and signup.volunteer_id != actor.id:
        audit(
            actor,
            "service.signup_cancel",
            signup,
            community_id=activity.community_id,
            after={"volunteer_id": signup.volunteer_id},
        )
    db.session.commit()
    return signup


# --- check-in and check-out ----------------------------------------------------------------------


def _attendance(activity: Activity, volunteer) -> Signup:
    if activity.state != "open":  # its sign-ups were cancelled with it: say why, not "not signed up"
        raise DomainError("cancelled", _l("This activity was cancelled."))
    signup = db.session.scalar(
        select(Signup).where(Signup.activity_id == activity.id, Signup.volunteer_id == volunteer.id)
    )
    if signup is None or signup.state == "cancelled":
        raise DomainError("not_signed_up", _l("You are not signed up for this activity."))
    if signup.state == "waiting":
        raise DomainError("waiting", _l("You are on the waiting list, not confirmed for this activity."))
    return signup


def _at(moment) -> str:
    return format_time(to_local(moment), "HH:mm")


def _apply(activity: Activity, signup: Signup, mode: str, method: str, now: datetime) -> Signup:
    if activity.state != "open":
        raise DomainError("cancelled", _l("This activity was cancelled."))
    starts, ends = aware(activity.starts_at), aware(activity.ends_at)
    if now < starts - EARLY:
        raise DomainError("too_early", _l("Check-in opens 30 minutes before the start."))
    if now > ends + LATE:
        raise DomainError("ended", _l("This activity has ended."))
    if mode == "in":
        if signup.checked_in_at is not None:
            raise DomainError("already_in", _l("Already checked in at %(at)s.", at=_at(signup.checked_in_at)))
        if now >= ends:  # check-out stays open a while after the end; check-in does not
            raise DomainError("ended", _l("This activity has ended."))
        signup.checked_in_at, signup.checkin_method = now, method
        return signup
    if signup.checked_in_at is None:
        raise DomainError("not_in", _l("Check in first."))
    if signup.checked_out_at is not None:
        raise DomainError("already_out", _l("Already checked out at %(at)s.", at=_at(signup.checked_out_at)))
    signup.checked_out_at = now
    _record_attendance(activity, signup)
    return signup


def attended_minutes(activity: Activity, signup: Signup) -> int:
    """Minutes between check-in and check-out, counted only inside the activity's own times."""
    start = max(aware(signup.checked_in_at), aware(activity.starts_at))
    end = min(aware(signup.checked_out_at), aware(activity.ends_at))
    return max(0, int((end - start).total_seconds() // 60))


def _record_attendance(activity: Activity, signup: Signup) -> None:
    minutes = attended_minutes(activity, signup)
    source = "steward" if signup.checkin_method == "steward" else "qr"
    records.new_record(
        signup.volunteer,
        activity.community_id,
        served_on=to_local(activity.starts_at).date(),
        minutes=max(1, minutes),
        kind="activity",
        source=source,
        description=activity.title,
        activity_id=activity.id,
        signup_id=signup.id,
        needs_review=signup.auto_closed or minutes < SHORT,
    )


def check_by_token(volunteer, token: str) -> tuple[Signup, str]:
    """The volunteer scanned the screen's QR code: check in or out, as the code says."""
    reading = codes.read_token(token)
    if not reading.valid:
        raise DomainError("invalid_code", _l("This is not a valid check-in code."))
    if not reading.fresh:
        raise DomainError("expired_code", _l("This code has expired. Scan the code on the screen now."))
    begin_write()
    activity = _lock(reading.activity_id)
    signup = _apply(activity, _attendance(activity, volunteer), reading.mode, "qr", utcnow())
    db.session.commit()
    return signup, reading.mode


def check_by_code(volunteer, code: str) -> tuple[Signup, str]:
    """The volunteer typed the 6-digit code: find which of their current activities it belongs to."""
    code = (code or "").strip()
    if len(code) != 6 or not code.isdigit():
        raise DomainError("invalid_code", _l("Enter the 6-digit code shown on the screen."))
    current = _current_activities(volunteer, utcnow())
    # A live code of any current activity wins over an old code of another (two activities back to back).
    for activity in current:
        mode = codes.match_code(activity, code)
        if mode is not None:
            begin_write()
            activity = _lock(activity.id)
            signup = _apply(activity, _attendance(activity, volunteer), mode, "code", utcnow())
            db.session.commit()
            return signup, mode
    if any(codes.was_code(activity, code) for activity in current):
        raise DomainError("expired_code", _l("This code has expired. Enter the code on the screen now."))
    raise DomainError("invalid_code", _l("This code does not match any activity you are signed up for now."))


def _current_activities(volunteer, now: datetime) -> list[Activity]:
    stmt = (
        select(Activity)
        .join(Signup, Signup.activity_id == Activity.id)
        .where(
            Signup.volunteer_id == volunteer.id,
            Signup.state != "cancelled",
            Activity.state == "open",
            Activity.starts_at <= now + EARLY,
            Activity.ends_at >= now - LATE,
        )
    )
    return list(db.session.scalars(stmt))


def check_by_steward(steward, signup_id: int, mode: str, method: str = "steward") -> Signup:
    """A steward checks a volunteer in or out from the roster (or by scanning their member card)."""
    if mode not in codes.MODES or method not in ("steward", "card"):
        raise DomainError("bad_mode", _l("Choose check-in or check-out."))
    signup = db.session.get(Signup, signup_id)
    if signup is None:
        raise DomainError("not_found", _l("This sign-up does not exist."), status=404)
    begin_write()
    activity = _lock(signup.activity_id)
    if not is_steward_of(steward, activity.community_id):
        raise NotAllowed()
    signup = db.session.get(Signup, signup_id, populate_existing=True)
    if signup.state != "confirmed":
        raise DomainError("not_confirmed", _l("This volunteer is not confirmed for the activity."))
    _apply(activity, signup, mode, method, utcnow())
    db.session.commit()
    return signup


def close_forgotten(now: datetime | None = None) -> int:
    """Check out everyone still checked in once an activity is over, flagged for review. Idempotent."""
    now = now or utcnow()
    begin_write()
    stmt = (
        select(Signup)
        .join(Activity, Activity.id == Signup.activity_id)
        .where(Activity.ends_at < now - LATE)
        .where(Signup.checked_in_at.is_not(None), Signup.checked_out_at.is_(None))
        .with_for_update(of=Signup)
    )
    closed = 0
    for signup in db.session.scalars(stmt):
        signup.checked_out_at = signup.activity.ends_at
        signup.auto_closed = True
        _record_attendance(signup.activity, signup)
        closed += 1
    db.session.commit()
    return closed
