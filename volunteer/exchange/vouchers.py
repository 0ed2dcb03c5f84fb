"""Reserving a reward (a unit set aside, its price held) and giving it back (cancel, expiry).

reserve() locks the item row, so per-person limits are counted and the last unit handed out
one reservation at a time; the ledger's conditional UPDATE refuses a hold the resident cannot
afford. A request key makes a double click or a retried request find the first voucher again.
"""

import secrets
from datetime import UTC, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..core import signing
from ..core.database import begin_write
from ..core.errors import DomainError, NotAllowed
from ..core.models import aware, local_today, local_zone, utcnow
from ..extensions import db
from ..ledger import services as ledger
from . import stock
from .models import CODE_ALPHABET, CODE_LENGTH, ExchangeSettings, Item, Voucher

PURPOSE = "voucher"


def settings_for(community_id: int) -> ExchangeSettings:
    return db.session.get(ExchangeSettings, community_id) or ExchangeSettings(community_id=community_id, voucher_days=7)


def qr_token(voucher: Voucher) -> str:
    """What the voucher's QR code encodes: its random public id, signed."""
    return signing.sign(PURPOSE, voucher.public_id)


def public_id_of(token: str) -> str | None:
    value = signing.unsign(PURPOSE, token)
    return value if isinstance(value, str) and 0 < len(value) <= 32 else None


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _period_start(period: str):
    today = local_today()
    if period == "month":
        return today.replace(day=1)
    if period == "year":
        return today.replace(month=1, day=1)
    return None


def _check_limit(item: Item, user_id: int) -> None:
    """Count the person's live and redeemed vouchers of this item in the period (item row is locked)."""
    if item.per_person_limit is None:
        return
    stmt = select(func.count(Voucher.id)).where(
        Voucher.item_id == item.id, Voucher.user_id == user_id, Voucher.state.in_(("reserved", "redeemed"))
    )
    start = _period_start(item.limit_period)
    if start is not None:
        # Stored times are UTC (SQLite keeps only the digits): compare with the local midnight in UTC.
        since = datetime.combine(start, datetime.min.time(), local_zone()).astimezone(UTC)
        stmt = stmt.where(Voucher.created_at >= since)
    if db.session.scalar(stmt) >= item.per_person_limit:
        raise DomainError("limit_reached", _l("You have reached the limit for this item."), status=409)


def _already_made(user, request_key: str | None) -> Voucher | None:
    if not request_key:
        return None
    existing = db.session.scalar(select(Voucher).where(Voucher.request_key == request_key))
    if existing is not None and existing.user_id != user.id:
        raise NotAllowed()
    return existing


def reserve(user, item_id: int, *, request_key: str | None = None, reserved_by=None) -> Voucher:
    """One unit set aside and its price held on the user's account, in one transaction."""
    if (existing := _already_made(user, request_key)) is not None:
        return existing
    begin_write()
    item = db.session.get(Item, item_id, with_for_update=True, populate_existing=True)
    # Asked again under the item's lock: a double click's twin may have finished meanwhile.
    if (existing := _already_made(user, request_key)) is not None:
        db.session.rollback()
        return _already_made(user, request_key)
    if item is None or not item.on_sale(local_today()):
        raise DomainError("not_on_sale", _l("This item is not available now."), status=404)
    _check_limit(item, user.id)
    days = settings_for(item.community_id).voucher_days
    voucher = Voucher(
        public_id=secrets.token_urlsafe(16),
        code=new_code(),
        community_id=item.community_id,
        item_id=item.id,
        user_id=user.id,
        price=item.price,
        expires_at=utcnow() + timedelta(days=days),
        reserved_by_id=getattr(reserved_by, "id", None),
        request_key=request_key or None,
    )
    db.session.add(voucher)
    db.session.flush()
    stock.move(item.id, "reserve", stock=-1, reserved=1, voucher_id=voucher.id, actor=reserved_by or user)
    account = ledger.account_for(user.id, item.community_id)
    ledger.hold(
        account, item.price, key=f"voucher:{voucher.id}:hold", source=voucher, actor=reserved_by or user, memo=item.name
    )
    db.session.commit()
    return voucher


def _give_back(voucher: Voucher, state: str, actor=None) -> None:
    """Release the held points and the reserved unit of a voucher that was not handed over."""
    account = ledger.account_for(voucher.user_id, voucher.community_id)
    ledger.release(account, voucher.price, key=f"voucher:{voucher.id}:release", source=voucher, actor=actor, memo=state)
    stock.move(voucher.item_id, "release", stock=1, reserved=-1, voucher_id=voucher.id, actor=actor, reason=state)
    voucher.state, voucher.closed_at = state, utcnow()


def cancel(user, voucher_id: int) -> Voucher:
    """The resident gives an unredeemed voucher back: points and stock return."""
    begin_write()
    voucher = db.session.get(Voucher, voucher_id, with_for_update=True, populate_existing=True)
    if voucher is None or voucher.user_id != user.id:
        raise DomainError("not_found", _l("This voucher does not exist."), status=404)
    if voucher.state != "reserved":
        raise DomainError("not_reserved", _l("Only a voucher not yet handed over can be cancelled."))
    _give_back(voucher, "cancelled", actor=user)
    db.session.commit()
    return voucher


def expire_due(now=None) -> int:
    """Give back every reserved voucher past its expiry. Safe to run twice (and never needed for safety:
    the desk refuses an expired voucher whether or not this ran)."""
    now = now or utcnow()
    begin_write()
    stmt = select(Voucher).where(Voucher.state == "reserved", Voucher.expires_at <= now).with_for_update()
    count = 0
    for voucher in db.session.scalars(stmt):
        _give_back(voucher, "expired")
        count += 1
    db.session.commit()
    return count


def is_expired(voucher: Voucher, now=None) -> bool:
    return voucher.state == "expired" or (
        voucher.state == "reserved" and aware(voucher.expires_at) <= (now or utcnow())
    )
