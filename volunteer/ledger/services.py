"""The only code that writes points: entries and the balances they explain, in one transaction.

Every posting is idempotent (a unique key; writing the same key twice gives the first entry back)
and guarded: a conditional UPDATE refuses any change that would make the balance, the held points
or the available points (balance - held) negative, so concurrent spenders can never overdraw.
post() and its wrappers run inside the caller's write transaction (core.database.begin_write);
the *_points() functions at the bottom are whole units of work that commit.
"""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..core.audit import record
from ..core.database import begin_write
from ..core.errors import DomainError
from ..extensions import db
from .models import EARN_KINDS, LedgerEntry, PointsAccount


class InsufficientPoints(DomainError):
    status = 409

    def __init__(self, message=None):
        super().__init__("insufficient_points", message or _l("Not enough points available for this."))


@dataclass
class Posting:
    entry: LedgerEntry
    created: bool  # False: this key was written before, and `entry` is that first entry


def account_for(user_id: int, community_id: int) -> PointsAccount:
    """The user's account in the community, opened on first use (safe when two requests race)."""
    stmt = select(PointsAccount).where(PointsAccount.user_id == user_id, PointsAccount.community_id == community_id)
    account = db.session.scalar(stmt)
    if account is not None:
        return account
    try:
        with db.session.begin_nested():
            account = PointsAccount(user_id=user_id, community_id=community_id, balance=0, held=0)
            db.session.add(account)
    except IntegrityError:
        account = db.session.scalar(stmt)
    return account


def find_account(user_id: int, community_id: int) -> PointsAccount | None:
    return db.session.scalar(
        select(PointsAccount).where(PointsAccount.user_id == user_id, PointsAccount.community_id == community_id)
    )


def post(
    account: PointsAccount,
    kind: str,
    *,
    key: str,
    amount: int = 0,
    held_delta: int = 0,
    source=None,
    actor=None,
    memo: str = "",
    reverses: LedgerEntry | None = None,
    at: datetime | None = None,
) -> Posting:
    """Write one entry and apply it to the account, or return the entry already written for `key`."""
    existing = db.session.scalar(select(LedgerEntry).where(LedgerEntry.idempotency_key == key))
    if existing is not None:
        return _same_posting(existing, account, kind)
    savepoint = db.session.begin_nested()
    changed = db.session.execute(
        update(PointsAccount)
        .where(
            PointsAccount.id == account.id,
            PointsAccount.balance + amount >= 0,
            PointsAccount.held + held_delta >= 0,
            (PointsAccount.balance + amount) - (PointsAccount.held + held_delta) >= 0,
        )
        .values(balance=PointsAccount.balance + amount, held=PointsAccount.held + held_delta)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        savepoint.rollback()
        return _after_refusal(key, reverses, account, kind)
    entry = LedgerEntry(
        account_id=account.id,
        kind=kind,
        amount=amount,
        held_delta=held_delta,
        source_type=type(source).__name__ if source is not None else "",
        source_id=getattr(source, "id", None),
        idempotency_key=key,
        reverses_id=reverses.id if reverses is not None else None,
        actor_id=getattr(actor, "id", None),
        memo=(memo or "")[:300],
    )
    if at is not None:
        entry.at = at
    db.session.add(entry)
    try:
        db.session.flush()
    except IntegrityError:  # the same key (or a second reversal) won a race: undo our update
        savepoint.rollback()
        db.session.expire(account, ["balance", "held"])
        return _existing_after_race(key, reverses, account, kind)
    savepoint.commit()
    db.session.expire(account, ["balance", "held"])
    return Posting(entry, True)


def _same_posting(existing: LedgerEntry, account: PointsAccount, kind: str) -> Posting:
    if existing.account_id != account.id or existing.kind != kind:
        raise DomainError("key_conflict", _l("This request was already used for a different change."))
    return Posting(existing, False)


def _after_refusal(key: str, reverses, account, kind) -> Posting:
    """The guard refused: a racer may have written this key (or this reversal) first, which made it so."""
    existing = db.session.scalar(select(LedgerEntry).where(LedgerEntry.idempotency_key == key))
    if existing is not None:
        return _same_posting(existing, account, kind)
    if reverses is not None and db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.reverses_id == reverses.id)):
        raise DomainError("already_reversed", _l("This entry has already been reversed."))
    raise InsufficientPoints()


def _existing_after_race(key: str, reverses, account, kind) -> Posting:
    existing = db.session.scalar(select(LedgerEntry).where(LedgerEntry.idempotency_key == key))
    if existing is not None:
        return _same_posting(existing, account, kind)
    raise DomainError("already_reversed", _l("This entry has already been reversed."))


def _positive(points: int) -> int:
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise DomainError("bad_points", _l("Points must be a whole number above zero."))
    return points


def earn(account, points: int, *, kind: str, key: str, source=None, actor=None, memo="", at=None) -> Posting:
    if kind not in EARN_KINDS:
        raise ValueError(kind)
    return post(account, kind, key=key, amount=_positive(points), source=source, actor=actor, memo=memo, at=at)


def hold(account, points: int, *, key: str, source=None, actor=None, memo="") -> Posting:
    """Set points aside (a reserved reward): still in the balance, no longer available."""
    return post(account, "hold", key=key, held_delta=_positive(points), source=source, actor=actor, memo=memo)


def release(account, points: int, *, key: str, source=None, actor=None, memo="") -> Posting:
    return post(account, "release", key=key, held_delta=-_positive(points), source=source, actor=actor, memo=memo)


def spend(account, points: int, *, key: str, from_hold: bool = True, source=None, actor=None, memo="") -> Posting:
    """Take points away: a held amount becomes spent, or (from_hold=False) available points go."""
    points = _positive(points)
    held = -points if from_hold else 0
    return post(account, "spend", key=key, amount=-points, held_delta=held, source=source, actor=actor, memo=memo)


def expire(account, points: int, *, key: str, memo="", at=None) -> Posting:
    return post(account, "expire", key=key, amount=-_positive(points), memo=memo, at=at)


def adjust(account, points: int, *, key: str, actor, reason: str, source=None) -> Posting:
    if not isinstance(points, int) or isinstance(points, bool) or points == 0:
        raise DomainError("bad_points", _l("Enter a whole number of points other than zero."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("reason_required", _l("Give a reason for the adjustment."))
    return post(account, "adjust", key=key, amount=points, source=source, actor=actor, memo=reason)


def reverse(entry: LedgerEntry, *, actor=None, memo: str = "", key: str | None = None) -> Posting:
    """Undo an entry with a new one pointing at it (at most once; never a reversal of a reversal)."""
    if entry.kind == "reversal":
        raise DomainError("reverse_reversal", _l("A reversal cannot itself be reversed."))
    account = db.session.get(PointsAccount, entry.account_id)
    return post(
        account,
        "reversal",
        key=key or f"reversal:{entry.id}",
        amount=-entry.amount,
        held_delta=-entry.held_delta,
        source=entry,
        actor=actor,
        memo=memo,
        reverses=entry,
    )


# Whole units of work ---------------------------------------------------------------------------


def adjust_points(user, community_id: int, points: int, reason: str, actor, key: str) -> LedgerEntry:
    """A community admin's manual adjustment with a mandatory reason, audited."""
    begin_write()
    account = account_for(user.id, community_id)
    posting = adjust(account, points, key=key, actor=actor, reason=reason)
    if posting.created:
        record(
            actor,
            "points.adjust",
            posting.entry,
            community_id=community_id,
            after={"user_id": user.id, "points": points, "reason": posting.entry.memo},
        )
    db.session.commit()
    return posting.entry


def reverse_entry(entry: LedgerEntry, actor, reason: str) -> LedgerEntry:
    """Correct a mistaken entry by reversing it, with a reason, audited."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("reason_required", _l("Give a reason for the reversal."))
    begin_write()
    entry = db.session.get(LedgerEntry, entry.id)
    posting = reverse(entry, actor=actor, memo=reason)
    if posting.created:
        record(
            actor,
            "points.reverse",
            posting.entry,
            community_id=entry.account.community_id,
            before={"entry_id": entry.id, "amount": entry.amount},
            after={"reason": reason},
        )
    db.session.commit()
    return posting.entry


# The desk's hot path: built once, with bound parameters (building a statement costs more than running it).
_accounts = PointsAccount.__table__
_SPEND_HELD = (
    update(_accounts)
    .where(
        _accounts.c.user_id == bindparam("user"),
        _accounts.c.community_id == bindparam("community"),
        _accounts.c.held >= bindparam("points"),
        _accounts.c.balance >= bindparam("points"),
    )
    .values(balance=_accounts.c.balance - bindparam("points"), held=_accounts.c.held - bindparam("points"))
    .returning(_accounts.c.id)
)
_INSERT_ENTRY = insert(LedgerEntry.__table__)  # `at` from the column's default, like an ORM insert


def spend_held(
    user_id: int,
    community_id: int,
    points: int,
    *,
    key: str,
    source_type: str,
    source_id: int,
    actor_id: int | None = None,
    memo: str = "",
) -> int:
    """Turn held points into spent ones and return the entry's id: the exchange desk's hot path, two statements.

    No key lookup or savepoint: the caller has already made this once-only with its own conditional
    UPDATE in the same transaction (a voucher flipped from reserved to redeemed); the unique key is
    the backstop. Refused (InsufficientPoints) if the account does not hold that many points.
    Both statements are built once (above), so a hand-over does not pay for building them.
    """
    points = _positive(points)
    held = {"user": user_id, "community": community_id, "points": points}
    account_id = db.session.execute(_SPEND_HELD, held).scalar()
    if account_id is None:
        raise InsufficientPoints()
    entry = {
        "account_id": account_id,
        "kind": "spend",
        "amount": -points,
        "held_delta": -points,
        "source_type": source_type,
        "source_id": source_id,
        "idempotency_key": key,
        "reverses_id": None,
        "actor_id": actor_id,
        "memo": memo[:300],
    }
    return db.session.execute(_INSERT_ENTRY, entry).inserted_primary_key[0]
