"""The desk's figures for one local day: hand-overs, items out, stock left, reservations waiting."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..core.models import local_today, local_zone, utcnow
from ..extensions import db
from .models import Item, Voucher


@dataclass
class Summary:
    handed_over: int  # vouchers handed over today (an undone hand-over no longer counts)
    waiting: int  # reserved, not yet expired: residents who may come to the desk
    on_shelf: int  # units free to reserve, all items
    sold_out: int  # active items with nothing left to reserve


def day_bounds(day: date | None = None) -> tuple[datetime, datetime]:
    """Start of the local day and of the next, in UTC: SQLite compares stored times as UTC text."""
    start = datetime.combine(day or local_today(), time.min, tzinfo=local_zone())
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def _handed_over_on(community_ids, day: date | None):
    start, end = day_bounds(day)
    return (
        Voucher.community_id.in_(community_ids),
        Voucher.state == "redeemed",
        Voucher.redeemed_at >= start,
        Voucher.redeemed_at < end,
    )


def _waiting(community_ids, now: datetime | None):
    return Voucher.community_id.in_(community_ids), Voucher.state == "reserved", Voucher.expires_at > (now or utcnow())


def handovers(community_ids, day: date | None = None):
    """A select() of the day's hand-overs, newest first, with what the list shows loaded."""
    return (
        select(Voucher)
        .where(*_handed_over_on(community_ids, day))
        .options(joinedload(Voucher.item), joinedload(Voucher.user), joinedload(Voucher.redeemed_by))
        .order_by(Voucher.redeemed_at.desc(), Voucher.id.desc())
    )


def items_out(community_ids, day: date | None = None) -> list[tuple[Item, int]]:
    """Units handed out on the day, per item, most first."""
    count = func.count(Voucher.id)
    rows = db.session.execute(
        select(Item, count)
        .join(Voucher, Voucher.item_id == Item.id)
        .where(*_handed_over_on(community_ids, day))
        .group_by(Item.id)
        .order_by(count.desc(), Item.name)
    ).all()
    return [(item, number) for item, number in rows]


def stock_left(community_ids) -> list[Item]:
    """Every item of the communities with its counters: free to reserve (stock) and set aside (reserved)."""
    return list(
        db.session.scalars(
            select(Item)
            .where(Item.community_id.in_(community_ids))
            .order_by(Item.active.desc(), Item.community_id, Item.name)
        )
    )


def waiting(community_ids, now: datetime | None = None):
    """A select() of reservations still to be collected, oldest first."""
    return (
        select(Voucher)
        .where(*_waiting(community_ids, now))
        .options(joinedload(Voucher.item), joinedload(Voucher.user))
        .order_by(Voucher.created_at, Voucher.id)
    )


def recent_handovers(community_ids, window: timedelta, now: datetime | None = None, limit: int = 10) -> list[Voucher]:
    """Hand-overs still inside the undo window, newest first: the desk offers to undo them."""
    since = (now or utcnow()) - window
    stmt = (
        select(Voucher)
        .where(Voucher.community_id.in_(community_ids), Voucher.state == "redeemed", Voucher.redeemed_at > since)
        .options(joinedload(Voucher.item), joinedload(Voucher.user), joinedload(Voucher.redeemed_by))
        .order_by(Voucher.redeemed_at.desc(), Voucher.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt).unique())


def summary(community_ids, day: date | None = None, now: datetime | None = None) -> Summary:
    """The numbers at the top of the desk, in three queries."""
    handed = db.session.scalar(select(func.count(Voucher.id)).where(*_handed_over_on(community_ids, day)))
    waiting_now = db.session.scalar(select(func.count(Voucher.id)).where(*_waiting(community_ids, now)))
    shelf, sold_out = db.session.execute(
        select(
            func.coalesce(func.sum(Item.stock), 0),
            func.count(Item.id).filter(Item.active.is_(True), Item.stock == 0),
        ).where(Item.community_id.in_(community_ids))
    ).one()
    return Summary(handed_over=handed or 0, waiting=waiting_now or 0, on_shelf=int(shelf), sold_out=sold_out or 0)
