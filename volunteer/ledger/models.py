"""A points account per person per community, its append-only entries, and each community's rules."""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import TimestampMixin, utcnow
from ..extensions import db

KINDS = ("earn_service", "earn_credit", "hold", "release", "spend", "expire", "adjust", "reversal")
EARN_KINDS = ("earn_service", "earn_credit")
EXPIRY_MODES = ("never", "end_of_next_year")
DEFAULT_STAR_THRESHOLDS = [20, 40, 60, 80]  # score at or above each gives stars 2..5


class PointsAccount(TimestampMixin, db.Model):
    """Points earned in a community are spent in its supermarket: one account per (person, community)."""

    __tablename__ = "points_accounts"
    __table_args__ = (
        UniqueConstraint("user_id", "community_id"),
        CheckConstraint("balance >= 0", name="balance"),
        CheckConstraint("held >= 0", name="held"),
        CheckConstraint("balance - held >= 0", name="available"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    # Changed only by ledger.services, in the same transaction as the entry that explains it.
    balance: Mapped[int] = mapped_column(Integer, default=0)
    held: Mapped[int] = mapped_column(Integer, default=0)

    user = relationship("User")
    community = relationship("Community")

    @property
    def available(self) -> int:
        return self.balance - self.held


class LedgerEntry(db.Model):
    """One change to an account. Never updated or deleted: a mistake gets a reversal entry.

    `amount` is the change to the balance and `held_delta` the change to the held points, so an
    account's balance is the sum of its amounts and its held points the sum of its held deltas.
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('earn_service','earn_credit','hold','release','spend','expire','adjust','reversal')",
            name="kind",
        ),
        CheckConstraint("amount <> 0 OR held_delta <> 0", name="nonzero"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("points_accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    amount: Mapped[int] = mapped_column(Integer, default=0)
    held_delta: Mapped[int] = mapped_column(Integer, default=0)
    source_type: Mapped[str] = mapped_column(String(40), default="")
    source_id: Mapped[int | None] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    # A reversal points at the entry it undoes; UNIQUE: an entry is reversed at most once.
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"), unique=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    memo: Mapped[str] = mapped_column(String(300), default="")

    account: Mapped[PointsAccount] = relationship()
    actor = relationship("User")
    reverses = relationship("LedgerEntry", remote_side=[id], foreign_keys=[reverses_id])


class PointsPolicy(TimestampMixin, db.Model):
    """A community's rules for points: expiry and star-rating thresholds."""

    __tablename__ = "points_policies"
    __table_args__ = (
        CheckConstraint("expiry_mode IN ('never', 'end_of_next_year')", name="expiry_mode"),
        CheckConstraint("full_score_points > 0", name="full_score"),
    )
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), primary_key=True)
    expiry_mode: Mapped[str] = mapped_column(String(20), default="end_of_next_year")
    # Points earned in a year that give the full 100-point score.
    full_score_points: Mapped[int] = mapped_column(Integer, default=200)
    # Scores at or above which a member has 2, 3, 4 and 5 stars (everyone has at least 1).
    star_thresholds: Mapped[list] = mapped_column(JSON, default=lambda: list(DEFAULT_STAR_THRESHOLDS))

    community = relationship("Community")
