"""The declaration flow's rules: each step checks role, compound and state, records history, commits.

Every transition starts a write transaction (core.database.begin_write) and locks the declaration
row (SELECT ... FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite), so two people acting on one
declaration at once are serialised: the second sees the first one's result and is refused.
Approval writes its earn_credit entry through ledger.services with a per-declaration key.
"""

from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..accounts.models import Role
from ..core.audit import record, snapshot
from ..core.database import begin_write
from ..core.errors import DomainError, NotAllowed
from ..core.models import local_zone, utcnow
from ..extensions import db
from ..ledger import services as ledger
from ..ledger.models import PointsAccount
from . import photos as photo_files
from .access import is_admin_of, resident_community, serves
from .models import PERIODS, RECOMMENDATIONS, Declaration, DeclarationEvent, DeclarationPhoto, Indicator

DESCRIPTION_MAX = 1000
NOTE_MAX = 500
INDICATOR_FIELDS = ("name", "description", "points", "evidence_required", "max_awards", "period")


# --- indicators (community admins) ---------------------------------------------------------------


def _check_indicator(fields: dict) -> None:
    if not (fields.get("name") or "").strip():
        raise DomainError("bad_name", _l("Enter a name."))
    points = fields.get("points")
    if not isinstance(points, int) or isinstance(points, bool) or not 1 <= points <= 10000:
        raise DomainError("bad_points", _l("Points must be a whole number from 1 to 10000."))
    max_awards = fields.get("max_awards")
    if max_awards is not None and (not isinstance(max_awards, int) or not 1 <= max_awards <= 1000):
        raise DomainError("bad_max_awards", _l("The limit must be a whole number from 1 to 1000, or empty."))
    if fields.get("period") not in PERIODS:
        raise DomainError("bad_period", _l("Choose a period."))


def _save_indicator(indicator: Indicator, actor, action: str, before=None) -> Indicator:
    db.session.add(indicator)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise DomainError("duplicate", _l("That name is already used here. Choose another.")) from None
    after = snapshot(indicator, *INDICATOR_FIELDS, "active")
    if before != after:
        record(actor, action, indicator, before=before, after=after)
    db.session.commit()
    return indicator


def create_indicator(community_id: int, actor, **fields) -> Indicator:
    if not is_admin_of(actor, community_id):
        raise NotAllowed()
    _check_indicator(fields)
    indicator = Indicator(community_id=community_id, active=True, **{k: fields[k] for k in INDICATOR_FIELDS})
    return _save_indicator(indicator, actor, "credit_indicator.create")


def update_indicator(indicator: Indicator, actor, **fields) -> Indicator:
    """Change an indicator. Points already awarded stay as they were (declarations keep their own)."""
    if not is_admin_of(actor, indicator.community_id):
        raise NotAllowed()
    _check_indicator(fields)
    before = snapshot(indicator, *INDICATOR_FIELDS, "active")
    for key in INDICATOR_FIELDS:
        setattr(indicator, key, fields[key])
    return _save_indicator(indicator, actor, "credit_indicator.update", before)


def set_indicator_active(indicator: Indicator, active: bool, actor) -> Indicator:
    if not is_admin_of(actor, indicator.community_id):
        raise NotAllowed()
    before = snapshot(indicator, *INDICATOR_FIELDS, "active")
    indicator.active = bool(active)
    return _save_indicator(
        indicator, actor, "credit_indicator.activate" if active else "credit_indicator.deactivate", before
    )


# --- shared pieces of every transition -----------------------------------------------------------


def _text(value, limit: int, code: str, missing, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise DomainError(code, missing)
    if len(value) > limit:
        raise DomainError(code, _l("At most %(max)d characters.", max=limit))
    return value


def _lock(declaration_id: int) -> Declaration:
    """Begin the write transaction and lock the declaration row for the rest of it."""
    begin_write()
    stmt = (
        select(Declaration)
        .where(Declaration.id == declaration_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    declaration = db.session.scalar(stmt)
    if declaration is None:
        raise DomainError("not_found", _l("This declaration does not exist."), status=404)
    return declaration


def _move(declaration: Declaration, actor, to_state: str, note: str = "") -> None:
    db.session.add(
        DeclarationEvent(
            declaration_id=declaration.id,
            actor_id=getattr(actor, "id", None),
            from_state=declaration.state,
            to_state=to_state,
            note=note,
        )
    )
    declaration.state = to_state
    declaration.updated_at = utcnow()


def _processed(uploads) -> list:
    uploads = [u for u in uploads or [] if u is not None]
    if len(uploads) > photo_files.MAX_PHOTOS:
        raise DomainError("too_many_photos", _l("At most %(n)d photos.", n=photo_files.MAX_PHOTOS))
    return [photo_files.process(photo_files.read_limited(u.stream if hasattr(u, "stream") else u)) for u in uploads]


def _attach(declaration: Declaration, processed: list, written: list) -> None:
    for item in processed:
        name = photo_files.save(item)
        written.append(name)
        db.session.add(
            DeclarationPhoto(
                declaration_id=declaration.id,
                filename=name,
                width=item.width,
                height=item.height,
                size=len(item.data),
            )
        )


def _commit_with_files(written: list) -> None:
    """Commit; if that fails, the files written for it go too."""
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        photo_files.remove(written)
        raise


# --- step 1: the resident declares (and resubmits when returned) ---------------------------------


def declare(user, indicator_id: int, description: str, uploads=()) -> Declaration:
    """A resident declares an active indicator of their community, with up to 3 photos."""
    community = resident_community(user)
    if community is None:
        raise NotAllowed(_l("Only a resident with a registered home can declare credit items."))
    description = _text(description, DESCRIPTION_MAX, "bad_description", _l("Describe what you did."))
    indicator = db.session.get(Indicator, indicator_id) if indicator_id else None
    if indicator is None or indicator.community_id != community.id or not indicator.active:
        raise DomainError("bad_indicator", _l("Choose one of your community's current indicators."))
    processed = _processed(uploads)
    if indicator.evidence_required and not processed:
        raise DomainError("photo_required", _l("This indicator needs at least one photo as evidence."))
    compound_id = user.building.compound_id
    user_id = user.id
    begin_write()
    declaration = Declaration(
        community_id=indicator.community_id,
        compound_id=compound_id,
        user_id=user_id,
        indicator_id=indicator.id,
        description=description,
        state="submitted",
    )
    db.session.add(declaration)
    db.session.flush()
    db.session.add(
        DeclarationEvent(declaration_id=declaration.id, actor_id=user_id, from_state=None, to_state="submitted")
    )
    written: list[str] = []
    try:
        _attach(declaration, processed, written)
    except Exception:
        db.session.rollback()
        photo_files.remove(written)
        raise
    _commit_with_files(written)
    return declaration


def resubmit(declaration_id: int, user, description: str, uploads=()) -> Declaration:
    """The resident answers a return: a new description, maybe more photos (3 in all), back to the collector."""
    description = _text(description, DESCRIPTION_MAX, "bad_description", _l("Describe what you did."))
    processed = _processed(uploads)
    user_id = user.id
    declaration = _lock(declaration_id)
    if declaration.user_id != user_id:
        raise NotAllowed(_l("Only the resident who declared this can resubmit it."))
    if declaration.state != "returned":
        raise DomainError("bad_state", _l("Only a declaration returned to you can be resubmitted."))
    if len(declaration.photos) + len(processed) > photo_files.MAX_PHOTOS:
        raise DomainError("too_many_photos", _l("At most %(n)d photos.", n=photo_files.MAX_PHOTOS))
    if declaration.indicator.evidence_required and not declaration.photos and not processed:
        raise DomainError("photo_required", _l("This indicator needs at least one photo as evidence."))
    declaration.description = description
    _move(declaration, user, "submitted")
    written: list[str] = []
    try:
        _attach(declaration, processed, written)
    except Exception:
        db.session.rollback()
        photo_files.remove(written)
        raise
    _commit_with_files(written)
    return declaration


# --- step 2: the collector checks or returns -----------------------------------------------------


def review(declaration_id: int, actor, decision: str, note: str = "") -> Declaration:
    """A collector of the compound checks a submitted declaration, or returns it with a note."""
    if decision not in ("check", "return"):
        raise DomainError("bad_decision", _l("Choose whether to pass it on or return it."))
    note = _text(note, NOTE_MAX, "bad_note", _l("Say what the resident should add."), required=decision == "return")
    declaration = _lock(declaration_id)
    if not serves(actor, Role.COLLECTOR, declaration.community_id, declaration.compound_id):
        raise NotAllowed(_l("Only an information collector of this compound can check this declaration."))
    if declaration.state != "submitted":
        raise DomainError("bad_state", _l("This declaration is not waiting for a collector's check."))
    _move(declaration, actor, "checked" if decision == "check" else "returned", note)
    db.session.commit()
    return declaration


# --- step 3: the compound council assesses -------------------------------------------------------


def assess(declaration_id: int, actor, recommendation: str, reason: str) -> Declaration:
    """A council member of the compound recommends approval or rejection, with a written reason."""
    if recommendation not in RECOMMENDATIONS:
        raise DomainError("bad_recommendation", _l("Choose whether to recommend approval or rejection."))
    reason = _text(reason, NOTE_MAX, "bad_reason", _l("Give a reason for your assessment."))
    declaration = _lock(declaration_id)
    if not serves(actor, Role.COUNCIL, declaration.community_id, declaration.compound_id):
        raise NotAllowed(_l("Only a council member of this compound can assess this declaration."))
    if declaration.state != "checked":
        raise DomainError("bad_state", _l("This declaration is not waiting for the council's assessment."))
    declaration.recommendation = recommendation
    _move(declaration, actor, "assessed", reason)
    db.session.commit()
    return declaration


# --- step 4: the community admin approves or rejects; one appeal ---------------------------------


def _undecidable(declaration: Declaration) -> DomainError | None:
    if declaration.state in ("assessed", "appealed"):
        return None
    if declaration.state == "approved":
        return DomainError("already_approved", _l("This declaration has already been approved."), status=409)
    if declaration.state == "rejected" and declaration.appealed:
        return DomainError("final", _l("This declaration was rejected after an appeal; the decision is final."), 409)
    if declaration.state == "rejected":
        return DomainError("already_rejected", _l("This declaration has already been rejected."), status=409)
    return DomainError("bad_state", _l("This declaration has not been assessed by the council yet."), status=409)


def period_bounds(period: str, now: datetime) -> tuple[datetime | None, datetime | None]:
    """The start and end (UTC) of the year, quarter or month holding `now`, in the community's time zone."""
    if period == "none":
        return None, None
    zone = local_zone()
    local = now.astimezone(zone)
    if period == "year":
        start, end = (local.year, 1), (local.year + 1, 1)
    elif period == "quarter":
        first = 3 * ((local.month - 1) // 3) + 1
        start = (local.year, first)
        end = (local.year + 1, 1) if first == 10 else (local.year, first + 3)
    else:
        start = (local.year, local.month)
        end = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return tuple(datetime(y, m, 1, tzinfo=zone).astimezone(UTC) for y, m in (start, end))


def awards_in_period(user_id: int, indicator: Indicator, now: datetime) -> int:
    start, end = period_bounds(indicator.period, now)
    stmt = select(func.count(Declaration.id)).where(
        Declaration.user_id == user_id,
        Declaration.indicator_id == indicator.id,
        Declaration.state == "approved",
    )
    if start is not None:
        stmt = stmt.where(Declaration.approved_at >= start, Declaration.approved_at < end)
    return db.session.scalar(stmt)


PERIOD_WORDS = {
    "year": _l("this year"),
    "quarter": _l("this quarter"),
    "month": _l("this month"),
    "none": _l("in all"),
}


def decide(declaration_id: int, actor, decision: str, reason: str = "") -> Declaration:
    """Approve (one earn_credit entry, with the indicator's points of today) or reject with a reason."""
    if decision not in ("approve", "reject"):
        raise DomainError("bad_decision", _l("Choose whether to approve or reject."))
    reason = _text(
        reason, NOTE_MAX, "bad_reason", _l("Give a reason for the rejection."), required=decision == "reject"
    )
    declaration = _lock(declaration_id)
    if not is_admin_of(actor, declaration.community_id):
        raise NotAllowed(_l("Only an admin of this community can decide on this declaration."))
    if (refusal := _undecidable(declaration)) is not None:
        raise refusal
    before = snapshot(declaration, "state", "points_awarded")
    if decision == "reject":
        _move(declaration, actor, "rejected", reason)
        record(
            actor,
            "credit_declaration.reject",
            declaration,
            before=before,
            after={"state": "rejected", "reason": reason},
        )
        db.session.commit()
        return declaration
    indicator = declaration.indicator
    now = utcnow()
    account = ledger.account_for(declaration.user_id, declaration.community_id)
    # Lock the resident's account: two admins approving two declarations of one indicator at
    # once must count each other's award against max_awards.
    db.session.execute(select(PointsAccount.id).where(PointsAccount.id == account.id).with_for_update())
    if (
        indicator.max_awards is not None
        and awards_in_period(declaration.user_id, indicator, now) >= indicator.max_awards
    ):
        raise DomainError(
            "limit_reached",
            _l(
                "%(indicator)s can be awarded at most %(n)d time(s) per person %(period)s, and this resident has "
                "reached that. Reject this declaration instead.",
                indicator=indicator.name,
                n=indicator.max_awards,
                period=PERIOD_WORDS[indicator.period],
            ),
            status=409,
        )
    declaration.points_awarded = indicator.points
    declaration.approved_at = now
    _move(declaration, actor, "approved", reason)
    ledger.earn(
        account,
        indicator.points,
        kind="earn_credit",
        key=f"declaration:{declaration.id}:approve",
        source=declaration,
        actor=actor,
        memo=indicator.name,
    )
    record(
        actor,
        "credit_declaration.approve",
        declaration,
        before=before,
        after={"state": "approved", "points_awarded": indicator.points, "note": reason},
    )
    db.session.commit()
    return declaration


def appeal(declaration_id: int, user, reason: str) -> Declaration:
    """The resident appeals a rejection, once, with a reason; the admin decides again."""
    reason = _text(reason, NOTE_MAX, "bad_reason", _l("Say why the decision should change."))
    declaration = _lock(declaration_id)
    if declaration.user_id != user.id:
        raise NotAllowed(_l("Only the resident who declared this can appeal."))
    if declaration.state == "rejected" and declaration.appealed:
        raise DomainError("appealed_once", _l("A declaration can be appealed only once."), status=409)
    if declaration.state != "rejected":
        raise DomainError("bad_state", _l("Only a rejected declaration can be appealed."), status=409)
    declaration.appealed = True
    _move(declaration, user, "appealed", reason)
    record(
        user,
        "credit_declaration.appeal",
        declaration,
        before={"state": "rejected"},
        after={"state": "appealed", "reason": reason},
    )
    db.session.commit()
    return declaration
