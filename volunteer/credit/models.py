"""Credit indicators, residents' declarations of them, their evidence photos and history."""

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import TimestampMixin, utcnow
from ..extensions import db

PERIODS = ("year", "quarter", "month", "none")
# submitted -> checked | returned; returned -> submitted; checked -> assessed;
# assessed -> approved | rejected; rejected -> appealed (once); appealed -> approved | rejected.
STATES = ("submitted", "returned", "checked", "assessed", "approved", "rejected", "appealed")
RECOMMENDATIONS = ("approve", "reject")


class Indicator(TimestampMixin, db.Model):
    """One matter a community awards credit points for, at most `max_awards` times a period."""

    __tablename__ = "credit_indicators"
    __table_args__ = (
        UniqueConstraint("community_id", "name"),
        CheckConstraint("points > 0", name="points"),
        CheckConstraint("max_awards IS NULL OR max_awards > 0", name="max_awards"),
        CheckConstraint("period IN ('year', 'quarter', 'month', 'none')", name="period"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(String(500), default="")
    points: Mapped[int] = mapped_column(Integer)
    evidence_required: Mapped[bool] = mapped_column(Boolean, default=False)
    # NULL: no limit. Counted over approved declarations in the period of the approval.
    max_awards: Mapped[int | None] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(10), default="year")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    community = relationship("Community")


class Declaration(TimestampMixin, db.Model):
    """A resident's claim to an indicator, moving through the four steps (see STATES)."""

    __tablename__ = "credit_declarations"
    __table_args__ = (
        CheckConstraint(
            "state IN ('submitted','returned','checked','assessed','approved','rejected','appealed')", name="state"
        ),
        CheckConstraint("recommendation IS NULL OR recommendation IN ('approve', 'reject')", name="recommendation"),
        CheckConstraint("points_awarded IS NULL OR points_awarded > 0", name="points_awarded"),
        CheckConstraint("(state = 'approved') = (points_awarded IS NOT NULL)", name="awarded_when_approved"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("credit_indicators.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12), default="submitted", index=True)
    recommendation: Mapped[str | None] = mapped_column(String(10))
    appealed: Mapped[bool] = mapped_column(Boolean, default=False)
    # The indicator's points when approved: later edits of the indicator never change it.
    points_awarded: Mapped[int | None] = mapped_column(Integer)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    community = relationship("Community")
    compound = relationship("Compound")
    user = relationship("User")
    indicator: Mapped[Indicator] = relationship()
    photos: Mapped[list["DeclarationPhoto"]] = relationship(
        back_populates="declaration", order_by="DeclarationPhoto.id"
    )
    events: Mapped[list["DeclarationEvent"]] = relationship(
        back_populates="declaration", order_by="DeclarationEvent.id"
    )


class DeclarationPhoto(TimestampMixin, db.Model):
    """An evidence photo, re-encoded without metadata, stored outside the web root."""

    __tablename__ = "credit_declaration_photos"
    id: Mapped[int] = mapped_column(primary_key=True)
    declaration_id: Mapped[int] = mapped_column(ForeignKey("credit_declarations.id"), index=True)
    filename: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(30), default="image/jpeg")
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)

    declaration: Mapped[Declaration] = relationship(back_populates="photos")


class DeclarationEvent(db.Model):
    """One step of a declaration's history: who moved it from which state to which, and why."""

    __tablename__ = "credit_declaration_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    declaration_id: Mapped[int] = mapped_column(ForeignKey("credit_declarations.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    from_state: Mapped[str | None] = mapped_column(String(12))
    to_state: Mapped[str] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(String(1000), default="")

    declaration: Mapped[Declaration] = relationship(back_populates="events")
    actor = relationship("User")
