"""Street → community → compound/grid → building; units; 双报到 reports; co-building agreements."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import TimestampMixin
from ..extensions import db

COMPOUND_KINDS = ("compound", "grid")


class Street(TimestampMixin, db.Model):
    __tablename__ = "streets"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    district: Mapped[str] = mapped_column(String(80), default="")

    communities: Mapped[list["Community"]] = relationship(back_populates="street", order_by="Community.name")


class Community(TimestampMixin, db.Model):
    __tablename__ = "communities"
    __table_args__ = (UniqueConstraint("street_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")

    street: Mapped[Street] = relationship(back_populates="communities")
    compounds: Mapped[list["Compound"]] = relationship(back_populates="community", order_by="Compound.name")

    @property
    def community_id(self) -> int:
        return self.id


class Compound(TimestampMixin, db.Model):
    """A residential compound (小区) or a grid (网格): the level a collector and council serve."""

    __tablename__ = "compounds"
    __table_args__ = (
        UniqueConstraint("community_id", "name"),
        CheckConstraint("kind IN ('compound', 'grid')", name="kind"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(10), default="compound")

    community: Mapped[Community] = relationship(back_populates="compounds")
    buildings: Mapped[list["Building"]] = relationship(back_populates="compound", order_by="Building.name")


class Building(TimestampMixin, db.Model):
    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("compound_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))

    compound: Mapped[Compound] = relationship(back_populates="buildings")

    @property
    def community_id(self) -> int:
        return self.compound.community_id

    @property
    def label(self) -> str:
        return f"{self.compound.name} {self.name}"


class Unit(TimestampMixin, db.Model):
    """An employer or other unit in the area (驻区单位)."""

    __tablename__ = "units"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    contact_person: Mapped[str] = mapped_column(String(40), default="")
    contact_email: Mapped[str] = mapped_column(String(120), default="")
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    address: Mapped[str] = mapped_column(String(200), default="")


class MemberReport(TimestampMixin, db.Model):
    """双报到: a party member reports to one community for a year (their 1112 assignment)."""

    __tablename__ = "member_reports"
    __table_args__ = (
        UniqueConstraint("user_id", "year"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    year: Mapped[int] = mapped_column()
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user = relationship("User", foreign_keys=[user_id], back_populates="reports")
    community: Mapped[Community] = relationship()
    unit: Mapped[Unit] = relationship()
    recorded_by = relationship("User", foreign_keys=[recorded_by_id])


class Agreement(TimestampMixin, db.Model):
    """A co-building agreement (共建协议) between a unit and a community."""

    __tablename__ = "agreements"
    __table_args__ = (
        UniqueConstraint("unit_id", "community_id", "signed_on"),
        CheckConstraint("ends_on IS NULL OR ends_on >= signed_on", name="dates"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    signed_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    content: Mapped[str] = mapped_column(Text, default="")
    terminated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    unit: Mapped[Unit] = relationship()
    community: Mapped[Community] = relationship()

    def is_active(self, on: date) -> bool:
        return self.terminated_at is None and self.signed_on <= on and (self.ends_on is None or on <= self.ends_on)
