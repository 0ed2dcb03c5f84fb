"""Users (phone number as login) and the roles they hold per community, unit or street."""

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import TimestampMixin
from ..core.phone import mask
from ..extensions import db


class Role:
    """Role names. Community roles are held in one community; the others in a unit or street."""

    RESIDENT = "resident"
    VOLUNTEER = "volunteer"
    COLLECTOR = "collector"
    COUNCIL = "council"
    STEWARD = "steward"
    ADMIN = "admin"
    EMPLOYER = "employer"
    ORGANISER = "organiser"

    COMMUNITY = (RESIDENT, VOLUNTEER, COLLECTOR, COUNCIL, STEWARD, ADMIN)
    COMPOUND_SCOPED = (COLLECTOR, COUNCIL)
    ALL = COMMUNITY + (EMPLOYER, ORGANISER)


class User(TimestampMixin, db.Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(40))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_party_member: Mapped[bool] = mapped_column(Boolean, default=False)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"), index=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    # A 4-6 digit PIN (argon2) a resident without a smartphone confirms desk reservations with.
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    # Bumped on password change or reset so every other session is logged out.
    session_version: Mapped[int] = mapped_column(Integer, default=1)

    building = relationship("Building")
    roles: Mapped[list["RoleGrant"]] = relationship(
        back_populates="user",
        foreign_keys="RoleGrant.user_id",
        cascade="all, delete-orphan",
        order_by="RoleGrant.id",
    )
    reports = relationship("MemberReport", foreign_keys="MemberReport.user_id", back_populates="user")

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def masked_phone(self) -> str:
        return mask(self.phone)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.masked_phone}>"


class RoleGrant(TimestampMixin, db.Model):
    """One role held by one user in one scope (community, compound, unit, street or district)."""

    __tablename__ = "role_grants"
    __table_args__ = (
        UniqueConstraint("user_id", "role", "scope_key"),
        CheckConstraint(
            "role IN ('resident','volunteer','collector','council','steward','admin','employer','organiser')",
            name="role",
        ),
        CheckConstraint(
            "(role IN ('employer') AND unit_id IS NOT NULL AND community_id IS NULL)"
            " OR (role = 'organiser' AND unit_id IS NULL AND community_id IS NULL)"
            " OR (role NOT IN ('employer','organiser') AND community_id IS NOT NULL"
            " AND unit_id IS NULL AND street_id IS NULL)",
            name="scope",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    # organiser: a street, or NULL for the whole district
    street_id: Mapped[int | None] = mapped_column(ForeignKey("streets.id"), index=True)
    # A NULL-free key for the unique constraint (NULLs never collide in UNIQUE).
    scope_key: Mapped[str] = mapped_column(String(40))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(back_populates="roles", foreign_keys=[user_id])
    community = relationship("Community")
    compound = relationship("Compound")
    unit = relationship("Unit")
    street = relationship("Street")
    granted_by = relationship("User", foreign_keys=[granted_by_id])

    @staticmethod
    def make_scope_key(community_id=None, compound_id=None, unit_id=None, street_id=None) -> str:
        if unit_id:
            return f"u{unit_id}"
        if community_id:
            return f"c{community_id}" + (f"p{compound_id}" if compound_id else "")
        if street_id:
            return f"s{street_id}"
        return "district"
