"""The points-exchange supermarket: items and their stock movements, vouchers, per-community settings.

An item's counters are the sums of its movements, like an account and its ledger entries:
stock (on the shelf, free to reserve), reserved (set aside for open vouchers) and issued
(handed over). The database refuses any of them below zero.
"""

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import TimestampMixin, one_of, utcnow
from ..extensions import db

CATEGORIES = ("grain_oil", "daily", "cleaning", "stationery", "service", "other")
LIMIT_PERIODS = ("none", "month", "year")
# donation/restock: new stock; reserve/release: a voucher takes or gives back a unit;
# handover: a reserved unit leaves the desk; undo: a hand-over taken back; count: a stock-take correction.
MOVEMENT_KINDS = ("donation", "restock", "reserve", "release", "handover", "undo", "count")
VOUCHER_STATES = ("reserved", "redeemed", "cancelled", "expired")
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed at the desk
CODE_LENGTH = 8


class ExchangeSettings(TimestampMixin, db.Model):
    """A community's supermarket rules."""

    __tablename__ = "exchange_settings"
    __table_args__ = (CheckConstraint("voucher_days BETWEEN 1 AND 90", name="voucher_days"),)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), primary_key=True)
    voucher_days: Mapped[int] = mapped_column(Integer, default=7)


class Item(TimestampMixin, db.Model):
    """A reward in a community's catalogue."""

    __tablename__ = "exchange_items"
    __table_args__ = (
        UniqueConstraint("community_id", "name"),
        CheckConstraint(one_of("category", CATEGORIES), name="category"),
        CheckConstraint("price > 0", name="price"),
        CheckConstraint("stock >= 0", name="stock"),
        CheckConstraint("reserved >= 0", name="reserved"),
        CheckConstraint("issued >= 0", name="issued"),
        CheckConstraint("per_person_limit IS NULL OR per_person_limit > 0", name="limit"),
        CheckConstraint(one_of("limit_period", LIMIT_PERIODS), name="limit_period"),
        CheckConstraint(
            "available_until IS NULL OR available_from IS NULL OR available_until >= available_from", name="window"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    category: Mapped[str] = mapped_column(String(20), default="daily")
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(String(500), default="")
    photo: Mapped[str | None] = mapped_column(String(80))
    price: Mapped[int] = mapped_column(Integer)
    # Changed only by exchange.stock, with the movement that explains the change.
    stock: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    issued: Mapped[int] = mapped_column(Integer, default=0)
    per_person_limit: Mapped[int | None] = mapped_column(Integer)
    limit_period: Mapped[str] = mapped_column(String(10), default="none")
    available_from: Mapped[date | None] = mapped_column(Date)
    available_until: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    community = relationship("Community")

    def on_sale(self, day: date) -> bool:
        return (
            self.active
            and (self.available_from is None or self.available_from <= day)
            and (self.available_until is None or day <= self.available_until)
        )


class StockMovement(db.Model):
    """One change to an item's counters. Never updated or deleted."""

    __tablename__ = "exchange_stock_movements"
    __table_args__ = (
        CheckConstraint(one_of("kind", MOVEMENT_KINDS), name="kind"),
        CheckConstraint("stock_delta <> 0 OR reserved_delta <> 0 OR issued_delta <> 0", name="nonzero"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("exchange_items.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    stock_delta: Mapped[int] = mapped_column(Integer, default=0)
    reserved_delta: Mapped[int] = mapped_column(Integer, default=0)
    issued_delta: Mapped[int] = mapped_column(Integer, default=0)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)  # the donor
    voucher_id: Mapped[int | None] = mapped_column(ForeignKey("exchange_vouchers.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(300), default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)

    item = relationship("Item")
    unit = relationship("Unit")
    actor = relationship("User")


class Voucher(TimestampMixin, db.Model):
    """A reserved reward: its points held and one unit set aside until it is handed over or given back.

    The QR code carries a signed `public_id` (random, never the row id); `code` is what a person types.
    """

    __tablename__ = "exchange_vouchers"
    __table_args__ = (
        CheckConstraint(one_of("state", VOUCHER_STATES), name="state"),
        CheckConstraint("price > 0", name="price"),
        CheckConstraint("(state = 'redeemed') = (redeemed_at IS NOT NULL)", name="redeemed_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    code: Mapped[str] = mapped_column(String(CODE_LENGTH), unique=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("exchange_items.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    price: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(10), default="reserved", index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    redeemed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    redeemed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # cancelled or expired
    # Reserved at the desk by a steward for a resident without a smartphone (who confirmed with a PIN).
    reserved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    handovers: Mapped[int] = mapped_column(Integer, default=0)  # numbers the spend keys across undos
    # The reserving form's one-time token: a double click or a retried request finds this voucher again.
    request_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    item: Mapped[Item] = relationship()
    user = relationship("User", foreign_keys=[user_id])
    redeemed_by = relationship("User", foreign_keys=[redeemed_by_id])
    reserved_by = relationship("User", foreign_keys=[reserved_by_id])
