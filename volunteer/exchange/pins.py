"""Desk PINs: a resident without a smartphone confirms with a 4-6 digit PIN what a steward reserves for them.

Wrong PINs are kept in the audit log (who typed them, at which desk), not in a counter column or
the rate limiter's memory: the lock then holds across workers and restarts, and a community's
admin can see someone trying PINs. Five wrong PINs in 15 minutes lock the member's PIN for 15
minutes; a right PIN or a new PIN starts the count again. A member's checks run one at a time
(their user row is locked), so guesses sent at once cannot slip past the count.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..accounts.auth import hash_password, verify_password
from ..accounts.models import User
from ..core.audit import AuditEntry
from ..core.audit import record as audit
from ..core.database import begin_write
from ..core.errors import DomainError
from ..core.models import aware, utcnow
from ..extensions import db
from . import vouchers
from .access import desk_community_ids, shop_community_ids
from .models import Item, Voucher

PIN_PATTERN = re.compile(r"^[0-9]{4,6}$")
MAX_FAILURES = 5
LOCK = timedelta(minutes=15)
# Picked so often that a stranger would try them first: keypad columns and diagonals,
# and the numbers that mean "I love you" (520) and "forever" (1314).
COMMON = frozenset({"2580", "0852", "1379", "1397", "1314", "5201", "147258", "258369", "147369", "159753", "741852"})

FAILED, LOCKED, CONFIRMED = "exchange.pin_failed", "exchange.pin_locked", "exchange.pin_ok"
SET, RESET = "exchange.pin_set", "exchange.pin_reset"
PIN_ACTIONS = (FAILED, LOCKED, CONFIRMED, SET, RESET)


def _repeats_a_pattern(pin: str) -> bool:
    """0000, 1212, 123123: the PIN is a shorter run of digits said again."""
    return any(len(pin) % n == 0 and pin == pin[:n] * (len(pin) // n) for n in range(1, len(pin) // 2 + 1))


def _is_sequence(pin: str) -> bool:
    """1234, 4321, 345678: every digit one up (or one down) from the one before."""
    steps = {int(b) - int(a) for a, b in zip(pin, pin[1:], strict=False)}
    return steps in ({1}, {-1})


def check_rules(pin: str, user=None) -> None:
    """Refuse a PIN that is malformed or easy to guess (the masked phone on the desk page shows its last digits)."""
    if not isinstance(pin, str) or not PIN_PATTERN.match(pin):
        raise DomainError("bad_pin", _l("The PIN is 4 to 6 digits."))
    if _repeats_a_pattern(pin) or _is_sequence(pin) or pin in COMMON:
        raise DomainError("weak_pin", _l("This PIN is too easy to guess (such as 0000, 1234 or 1212). Choose another."))
    if user is not None and pin in (user.phone or ""):
        raise DomainError("weak_pin", _l("The PIN must not be part of the phone number. Choose another."))


def has_pin(user) -> bool:
    return bool(user.pin_hash)


@dataclass
class PinState:
    failures: int  # wrong PINs counted towards the lock
    locked_until: datetime | None


def state(user, now: datetime | None = None) -> PinState:
    """Wrong PINs since the last right or new PIN within the lock window, and whether the PIN is locked."""
    now = now or utcnow()
    stmt = (
        select(AuditEntry.action, AuditEntry.at)
        .where(
            AuditEntry.object_type == "User",
            AuditEntry.object_id == user.id,
            AuditEntry.action.in_(PIN_ACTIONS),
            AuditEntry.at > now - LOCK,
        )
        .order_by(AuditEntry.id.desc())
    )
    failures = 0
    for action, at in db.session.execute(stmt):
        if action == LOCKED:
            return PinState(failures, aware(at) + LOCK)
        if action != FAILED:  # a right PIN or a new one
            break
        failures += 1
    return PinState(failures, None)


def set_pin(user, pin: str, actor, *, community_id: int | None = None) -> User:
    """Give the member a new PIN (typed by them on the steward's tablet). Audited as set or reset by `actor`."""
    check_rules(pin, user)
    begin_write()
    member = db.session.get(User, user.id, with_for_update=True, populate_existing=True)
    action = RESET if member.pin_hash else SET
    member.pin_hash = hash_password(pin)
    audit(actor, action, member, community_id=community_id, after={"pin": "changed"})  # never the PIN or its hash
    db.session.commit()
    return member


def confirm(user, pin: str, actor=None, *, community_id: int | None = None) -> None:
    """Pass if `pin` is the member's PIN; else raise no_pin, pin_locked or wrong_pin. A wrong PIN is counted."""
    begin_write()
    member = db.session.get(User, user.id, with_for_update=True, populate_existing=True)  # one check at a time
    if not member.pin_hash:
        db.session.rollback()
        raise DomainError("no_pin", _l("This member has no PIN yet. Let them set one first."))
    now = utcnow()
    current = state(member, now)
    if current.locked_until is not None:
        db.session.rollback()
        raise DomainError("pin_locked", _l("Too many wrong PINs: try again in 15 minutes."), status=429)
    if verify_password(member.pin_hash, pin or ""):
        if current.failures:  # start the count again; a clean record needs no entry
            audit(actor, CONFIRMED, member, community_id=community_id)
        db.session.commit()
        return
    audit(actor, FAILED, member, community_id=community_id)
    left = MAX_FAILURES - current.failures - 1
    if left <= 0:
        audit(actor, LOCKED, member, community_id=community_id)
    db.session.commit()
    if left <= 0:
        raise DomainError("pin_locked", _l("Wrong PIN. Too many wrong PINs: try again in 15 minutes."), status=429)
    raise DomainError("wrong_pin", _l("Wrong PIN. %(num)d tries left before it is locked.", num=left))


def check_pin(user, pin: str, actor=None, *, community_id: int | None = None) -> bool:
    """True if `pin` is the member's PIN; False if it is wrong (counted), locked or not set."""
    try:
        confirm(user, pin, actor, community_id=community_id)
    except DomainError:
        return False
    return True


def reserve_for_member(steward, member, item_id: int, pin: str, *, request_key: str) -> Voucher:
    """The steward reserves an item for the member at the desk, once the member has confirmed with their PIN."""
    item = db.session.get(Item, item_id)
    if item is None or item.community_id not in desk_community_ids(steward) & shop_community_ids(member):
        raise DomainError("not_on_sale", _l("This item is not available now."), status=404)
    community_id = item.community_id
    confirm(member, pin, steward, community_id=community_id)
    try:
        voucher = vouchers.reserve(member, item_id, request_key=request_key, reserved_by=steward)
    except IntegrityError:
        # A double click sent at once: the other request's voucher took the key first. Asked
        # again, reserve() finds that voucher (and a rare random-code clash simply draws again).
        db.session.rollback()
        voucher = vouchers.reserve(member, item_id, request_key=request_key, reserved_by=steward)
    voucher_id = voucher.id
    begin_write()
    voucher = db.session.get(Voucher, voucher_id, with_for_update=True)  # a repeated request waits here...
    already = select(AuditEntry.id).where(
        AuditEntry.action == "exchange.reserve_for_member",
        AuditEntry.object_type == "Voucher",
        AuditEntry.object_id == voucher.id,
    )
    if db.session.scalar(already) is None:  # ...and finds the first one's entry: the voucher is audited once
        audit(steward, "exchange.reserve_for_member", voucher, after={"user_id": member.id, "item_id": item_id})
    db.session.commit()
    return voucher
