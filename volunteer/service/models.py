"""1112 service: the three lists, activities and sign-ups, needs and orders, service records, rules.

Counters that guard places (Activity.taken, Order.taken, Project.claimed) are changed only by
the services, under a row lock, and the database refuses any value outside 0..capacity.
"""

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Integer, String, UniqueConstraint, and_
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import TimestampMixin, one_of, utcnow
from ..extensions import db

TARGET = 12  # services a year in the assigned community: the "12" of 1112
CATEGORIES = ("elderly", "children", "environment", "safety", "culture", "health", "repair", "other")
RESOURCE_KINDS = ("venue", "goods", "skill")
PROJECT_KINDS = ("project", "post")
RECORD_KINDS = ("activity", "order", "project", "other")
# qr: checked in and out by QR or its code (or the steward scanned the member card);
# order: a taken order the resident confirmed; self: reported by the volunteer; steward: entered by one.
RECORD_SOURCES = ("qr", "order", "self", "steward")
# Hours the system measured. They stay "checked" until a steward corrects them (records.is_checked).
CHECKED_SOURCES = ("qr", "order")
RECORD_STATES = ("pending", "verified", "rejected")
SIGNUP_STATES = ("confirmed", "waiting", "cancelled")
CHECKIN_METHODS = ("qr", "code", "card", "steward")
NEED_STATES = ("open", "ordered", "declined", "withdrawn")
# open -> taken (all places filled) -> done -> confirmed | disputed -> confirmed | closed; open/taken -> cancelled
ORDER_STATES = ("open", "taken", "done", "confirmed", "disputed", "cancelled", "closed")
MAX_MINUTES = 24 * 60


class ServicePolicy(TimestampMixin, db.Model):
    """A community's rule for the points a verified service earns: per hour and/or per service."""

    __tablename__ = "service_policies"
    __table_args__ = (
        CheckConstraint("points_per_hour >= 0 AND points_per_hour <= 1000", name="per_hour"),
        CheckConstraint("points_per_service >= 0 AND points_per_service <= 1000", name="per_service"),
        CheckConstraint("points_per_hour + points_per_service > 0", name="some_points"),
    )
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), primary_key=True)
    points_per_hour: Mapped[int] = mapped_column(Integer, default=10)
    points_per_service: Mapped[int] = mapped_column(Integer, default=5)


class Resource(TimestampMixin, db.Model):
    """What a unit offers the community (资源清单): a venue, goods or a skill."""

    __tablename__ = "service_resources"
    __table_args__ = (CheckConstraint(one_of("kind", RESOURCE_KINDS), name="kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(String(500), default="")
    availability: Mapped[str] = mapped_column(String(80), default="")
    contact: Mapped[str] = mapped_column(String(60), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    unit = relationship("Unit")


class Project(TimestampMixin, db.Model):
    """A standing service project or public-welfare post (项目清单) that volunteers claim."""

    __tablename__ = "service_projects"
    __table_args__ = (
        CheckConstraint(one_of("kind", PROJECT_KINDS), name="kind"),
        CheckConstraint("capacity > 0", name="capacity"),
        CheckConstraint("claimed >= 0 AND claimed <= capacity", name="claimed"),
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="period"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="project")
    title: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(String(500), default="")
    capacity: Mapped[int] = mapped_column(Integer)
    claimed: Mapped[int] = mapped_column(Integer, default=0)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    claims: Mapped[list["ProjectClaim"]] = relationship(back_populates="project", order_by="ProjectClaim.claimed_at")

    def is_open_on(self, day: date) -> bool:
        return self.active and self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


class ProjectClaim(db.Model):
    """A volunteer's claim of a project; released_at set when they give it up (one row per pair)."""

    __tablename__ = "service_project_claims"
    __table_args__ = (UniqueConstraint("project_id", "volunteer_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("service_projects.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    project: Mapped[Project] = relationship(back_populates="claims")
    volunteer = relationship("User")


class Activity(TimestampMixin, db.Model):
    """A dated service event with places, a waiting list and QR check-in."""

    __tablename__ = "service_activities"
    __table_args__ = (
        CheckConstraint(one_of("category", CATEGORIES), name="category"),
        CheckConstraint("ends_at > starts_at", name="times"),
        CheckConstraint("places > 0", name="places"),
        CheckConstraint("taken >= 0 AND taken <= places", name="taken"),
        CheckConstraint("state IN ('open', 'cancelled')", name="state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    title: Mapped[str] = mapped_column(String(80))
    category: Mapped[str] = mapped_column(String(20), default="other")
    place: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(String(1000), default="")
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    places: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)  # confirmed sign-ups
    state: Mapped[str] = mapped_column(String(10), default="open")
    cancel_reason: Mapped[str] = mapped_column(String(300), default="")
    # Key of the rotating check-in codes: random per activity, never shown.
    secret: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    community = relationship("Community")
    signups: Mapped[list["Signup"]] = relationship(back_populates="activity", order_by="Signup.queued_at")

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


class Signup(db.Model):
    """A volunteer on an activity: confirmed, waiting (in queued_at order) or cancelled; then attendance."""

    __tablename__ = "service_signups"
    __table_args__ = (
        UniqueConstraint("activity_id", "volunteer_id"),
        CheckConstraint(one_of("state", SIGNUP_STATES), name="state"),
        CheckConstraint(f"checkin_method IS NULL OR {one_of('checkin_method', CHECKIN_METHODS)}", name="method"),
        CheckConstraint("checked_out_at IS NULL OR checked_in_at IS NOT NULL", name="out_after_in"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("service_activities.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(String(10))
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    checked_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    checkin_method: Mapped[str | None] = mapped_column(String(10))
    # Checked out by the end-of-activity job, not by the volunteer: a steward should look.
    auto_closed: Mapped[bool] = mapped_column(Boolean, default=False)

    activity: Mapped[Activity] = relationship(back_populates="signups")
    volunteer = relationship("User", foreign_keys=[volunteer_id])
    record = relationship("ServiceRecord", back_populates="signup", uselist=False)


class Need(TimestampMixin, db.Model):
    """A resident's need (需求清单, 群众点单); a steward makes it an order or declines it."""

    __tablename__ = "service_needs"
    __table_args__ = (
        CheckConstraint(one_of("category", CATEGORIES), name="category"),
        CheckConstraint(one_of("state", NEED_STATES), name="state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(1000))
    preferred_time: Mapped[str] = mapped_column(String(60), default="")
    state: Mapped[str] = mapped_column(String(10), default="open", index=True)
    decline_reason: Mapped[str] = mapped_column(String(300), default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    resident = relationship("User", foreign_keys=[resident_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    order = relationship("Order", back_populates="need", uselist=False)


class Order(TimestampMixin, db.Model):
    """A service order (社区下单) that volunteers of the community take (义工接单)."""

    __tablename__ = "service_orders"
    __table_args__ = (
        CheckConstraint(one_of("category", CATEGORIES), name="category"),
        CheckConstraint(one_of("state", ORDER_STATES), name="state"),
        CheckConstraint("places BETWEEN 1 AND 10", name="places"),
        CheckConstraint("taken >= 0 AND taken <= places", name="taken"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating"),
        CheckConstraint(f"done_minutes IS NULL OR done_minutes BETWEEN 1 AND {MAX_MINUTES}", name="done_minutes"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    need_id: Mapped[int | None] = mapped_column(ForeignKey("service_needs.id"), unique=True)
    category: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(String(1000), default="")
    scheduled: Mapped[str] = mapped_column(String(60), default="")
    places: Mapped[int] = mapped_column(Integer, default=1)
    taken: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(10), default="open", index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    done_note: Mapped[str] = mapped_column(String(500), default="")
    done_minutes: Mapped[int | None] = mapped_column(Integer)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    auto_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    rating: Mapped[int | None] = mapped_column(Integer)
    feedback: Mapped[str] = mapped_column(String(500), default="")
    dispute_reason: Mapped[str] = mapped_column(String(500), default="")
    resolution: Mapped[str] = mapped_column(String(500), default="")
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    need: Mapped[Need | None] = relationship(back_populates="order")
    takes: Mapped[list["OrderTake"]] = relationship(back_populates="order", order_by="OrderTake.taken_at")
    created_by = relationship("User", foreign_keys=[created_by_id])

    @property
    def resident_id(self) -> int | None:
        return self.need.resident_id if self.need is not None else None


class OrderTake(db.Model):
    """A volunteer who took an order (one per place)."""

    __tablename__ = "service_order_takes"
    __table_args__ = (UniqueConstraint("order_id", "volunteer_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("service_orders.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    order: Mapped[Order] = relationship(back_populates="takes")
    volunteer = relationship("User")


class ServiceRecord(TimestampMixin, db.Model):
    """One service a volunteer did (服务轨迹): pending until a steward verifies it, which earns points.

    While verified, earn_entry_id is the earn_service entry of the current verification;
    un-verifying reverses it and `verifications` numbers the next one's idempotency key.
    """

    __tablename__ = "service_records"
    __table_args__ = (
        CheckConstraint(one_of("kind", RECORD_KINDS), name="kind"),
        CheckConstraint(one_of("source", RECORD_SOURCES), name="source"),
        CheckConstraint(one_of("status", RECORD_STATES), name="status"),
        CheckConstraint(f"minutes BETWEEN 1 AND {MAX_MINUTES}", name="minutes"),
        CheckConstraint("(status = 'verified') = (earn_entry_id IS NOT NULL)", name="earned_when_verified"),
        CheckConstraint("(corrected_at IS NULL) = (corrected_by_id IS NULL)", name="corrected_by"),
        CheckConstraint(
            f"checked_minutes IS NULL OR (corrected_at IS NOT NULL AND checked_minutes BETWEEN 1 AND {MAX_MINUTES})",
            name="checked_minutes",
        ),
        UniqueConstraint("order_id", "volunteer_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    served_on: Mapped[date] = mapped_column(Date, index=True)
    minutes: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("service_activities.id"), index=True)
    signup_id: Mapped[int | None] = mapped_column(ForeignKey("service_signups.id"), unique=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("service_orders.id"), index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("service_projects.id"), index=True)
    photo: Mapped[str | None] = mapped_column(String(80))
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reject_reason: Mapped[str] = mapped_column(String(300), default="")
    points: Mapped[int | None] = mapped_column(Integer)
    earn_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"), unique=True)
    verifications: Mapped[int] = mapped_column(Integer, default=0)
    # Set by a steward's correction of the hours: the record no longer counts as checked. For a
    # checked record the first correction keeps the measured minutes (later ones leave them).
    corrected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    corrected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    checked_minutes: Mapped[int | None] = mapped_column(Integer)

    community = relationship("Community")
    volunteer = relationship("User", foreign_keys=[volunteer_id])
    entered_by = relationship("User", foreign_keys=[entered_by_id])
    verified_by = relationship("User", foreign_keys=[verified_by_id])
    corrected_by = relationship("User", foreign_keys=[corrected_by_id])
    activity = relationship("Activity")
    signup = relationship("Signup", back_populates="record")
    order = relationship("Order")
    project = relationship("Project")

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)

    @hybrid_property
    def is_checked(self) -> bool:
        """Hours the system measured (QR, a confirmed order) that no steward has corrected since."""
        return self.source in CHECKED_SOURCES and self.corrected_at is None

    @is_checked.inplace.expression
    @classmethod
    def _is_checked_sql(cls):
        # The same rule for reports that sum in SQL; keep the two in step.
        return and_(cls.source.in_(CHECKED_SOURCES), cls.corrected_at.is_(None))
