"""Build the demo district in one transaction: organisation, units, staff, residents and 双报到 members."""

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import inspect, select, text

from ..accounts.auth import hash_password
from ..accounts.models import Role, RoleGrant, User
from ..core.audit import record
from ..core.models import local_today
from ..credit import photos as photo_files
from ..credit.models import DeclarationPhoto
from ..extensions import db
from ..org.models import Agreement, Building, Community, Compound, MemberReport, Street, Unit
from . import layout
from .credit import build_credit
from .exchange import build_exchange
from .letters import build_letters
from .names import NameMaker, PhoneMaker
from .points import build_points
from .service import build_service


class AlreadySeeded(RuntimeError):
    """The database already holds an organisation or users; the demo would collide with them."""


@dataclass
class Login:
    """One memorable demo account, for the table printed at the end."""

    role: str
    name: str
    phone: str
    place: str


@dataclass
class DemoResult:
    logins: list[Login] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    credit: dict[str, int] = field(default_factory=dict)  # declarations by state, photos, adjustments


def has_data() -> bool:
    """True once any street or user exists."""
    return any(db.session.scalar(select(model.id).limit(1)) is not None for model in (Street, User))


def wipe_all() -> None:
    """Delete every row of every application table, dependants first, in the current transaction."""
    existing = set(inspect(db.session.connection()).get_table_names())
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name in existing]
    if db.session.get_bind().dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())


def photo_filenames() -> list[str]:
    """The stored evidence photos' file names (none if the table is not there yet)."""
    if DeclarationPhoto.__tablename__ not in inspect(db.session.connection()).get_table_names():
        return []
    return list(db.session.scalars(select(DeclarationPhoto.filename)))


def build_demo(rng_seed: int = layout.RNG_SEED, *, reset: bool = False, today: date | None = None) -> DemoResult:
    """Create the whole demo district and commit once; refuse if data exists unless `reset`."""
    old_photos: list[str] = []
    if reset:
        old_photos = photo_filenames()
        wipe_all()
    elif has_data():
        raise AlreadySeeded("the database already has data")
    builder = _Builder(random.Random(rng_seed), hash_password(layout.PASSWORD), today or local_today())
    try:
        result = builder.run()
        db.session.commit()
    except Exception:
        db.session.rollback()
        photo_files.remove(builder.photo_files)  # the files of the photos that were not kept
        raise
    photo_files.remove(old_photos)  # the wiped rows' files, once the wipe is committed
    return result


class _Builder:
    def __init__(self, rng: random.Random, password_hash: str, today: date):
        self.rng = rng
        self.password_hash = password_hash  # one argon2 hash shared by every demo user
        self.today = today
        self.names = NameMaker(rng)
        self.phones = PhoneMaker(rng, layout.FIXED_PREFIX)
        self.result = DemoResult()
        self.streets: list[Street] = []
        self.communities: list[Community] = []
        self.units: list[Unit] = []
        self.admins: dict[int, User] = {}  # community id -> its admin
        self.users = 0
        self.residents: list[User] = []
        self.plain_residents: list[User] = []  # no staff seat: the pool party members come from
        self.collectors: dict[int, User] = {}  # compound id -> its information collector
        self.councils: dict[int, list[User]] = {}  # compound id -> its council members
        self.photo_files: list[str] = []  # evidence photo files written during the build

    def run(self) -> DemoResult:
        self._organisation()
        self._units()
        self._agreements()
        self._district_staff()
        self._community_staff()
        self._compound_staff()
        self._demo_residents()
        self._other_residents()
        self._party_members()
        db.session.flush()
        self._audit_trail()
        build_points(
            self.communities,
            self.admins,
            self.residents,
            self.rng,
            self.today,
            always=(self.demo_resident, self.demo_volunteer),
        )
        db.session.flush()
        credit_counts = build_credit(
            communities=self.communities,
            admins=self.admins,
            collectors=self.collectors,
            councils=self.councils,
            residents=self.residents,
            demo_users=(self.demo_resident, self.demo_volunteer),
            rng=self.rng,
            today=self.today,
            written=self.photo_files,
        )
        service_counts = build_service(
            communities=self.communities,
            units=self.units,
            admins=self.admins,
            residents=self.residents,
            demo_users=(self.demo_resident, self.demo_volunteer),
            rng=self.rng,
            today=self.today,
            written=self.photo_files,
        )
        exchange_counts = build_exchange(
            communities=self.communities,
            admins=self.admins,
            demo_users=(self.demo_resident, self.demo_volunteer),
            rng=self.rng,
            today=self.today,
        )
        db.session.flush()
        letter_counts = build_letters(communities=self.communities, admins=self.admins, today=self.today)
        self.result.counts = self._counts()
        for key in ("credit indicators", "declarations", "evidence photos", "adjustments"):
            self.result.counts[key] = credit_counts.get(key, 0)
        self.result.counts["approved"] = credit_counts.get("approved", 0) + credit_counts.get("appeal_approved", 0)
        self.result.counts.update(service_counts)
        self.result.counts.update(exchange_counts)
        self.result.counts.update(letter_counts)
        self.result.credit = credit_counts
        return self.result

    # organisation ---------------------------------------------------------------------------

    def _organisation(self) -> None:
        for street_plan in layout.STREETS:
            street = Street(name=street_plan.name, district=layout.DISTRICT)
            self.streets.append(street)
            for plan in street_plan.communities:
                community = Community(street=street, name=plan.name, address=plan.address, phone=plan.phone)
                self.communities.append(community)
                for compound_plan in plan.compounds:
                    self._compound(community, compound_plan)
        db.session.add_all(self.streets)
        db.session.flush()  # ids for the role grants' scope keys

    def _compound(self, community: Community, plan: layout.CompoundPlan) -> None:
        compound = Compound(community=community, name=plan.name, kind=plan.kind)
        for number in range(1, plan.buildings + 1):
            Building(compound=compound, name=f"{number}栋")

    def _units(self) -> None:
        for number, (name, address) in enumerate(layout.UNITS, start=1):
            unit = Unit(
                name=name,
                address=address,
                contact_person=self.names(),
                contact_email=f"hr@unit{number}.example.cn",
                contact_phone=self.phones(),
            )
            self.units.append(unit)
        db.session.add_all(self.units)
        db.session.flush()

    def _agreements(self) -> None:
        year = self.today.year - 1
        for plan in layout.AGREEMENTS:
            signed_on = date(year, plan.month, 1 + self.rng.randrange(20))
            ends_on = signed_on.replace(year=year + 3) - timedelta(days=1)
            db.session.add(
                Agreement(
                    unit=self.units[plan.unit_no - 1],
                    community=self.communities[plan.community_no - 1],
                    signed_on=signed_on,
                    ends_on=ends_on,
                    content=plan.content,
                )
            )

    # people ------------------------------------------------------------------------------------

    def _user(self, phone: str | None = None, building: Building | None = None) -> User:
        user = User(
            name=self.names(),
            phone=self.phones.take(phone) if phone else self.phones(),
            password_hash=self.password_hash,
            building=building,
            is_party_member=False,
        )
        db.session.add(user)
        self.users += 1
        return user

    @staticmethod
    def _grant(user: User, role: str, *, community=None, compound=None, unit=None, street=None, by=None) -> None:
        ids = {
            "community_id": community.id if community else None,
            "compound_id": compound.id if compound else None,
            "unit_id": unit.id if unit else None,
            "street_id": street.id if street else None,
        }
        user.roles.append(RoleGrant(role=role, scope_key=RoleGrant.make_scope_key(**ids), granted_by=by, **ids))

    def _login(self, role: str, user: User, place: str) -> None:
        self.result.logins.append(Login(role, user.name, user.phone, place))

    def _district_staff(self) -> None:
        organiser = self._user(layout.fixed_phone(layout.DISTRICT_ORGANISER))
        self._grant(organiser, Role.ORGANISER)
        self._login(Role.ORGANISER, organiser, f"{layout.DISTRICT}（全区）")
        for number, street in enumerate(self.streets, start=1):
            user = self._user(layout.fixed_phone(layout.street_organiser(number)))
            self._grant(user, Role.ORGANISER, street=street)
            self._login(Role.ORGANISER, user, street.name)
        for number in layout.UNITS_WITH_LOGIN:
            unit = self.units[number - 1]
            contact = self._user(layout.fixed_phone(layout.employer_contact(number)))
            unit.contact_person, unit.contact_phone = contact.name, contact.phone
            self._grant(contact, Role.EMPLOYER, unit=unit)
            self._login(Role.EMPLOYER, contact, unit.name)

    def _community_staff(self) -> None:
        for role in (Role.ADMIN, Role.STEWARD):
            for number, community in enumerate(self.communities, start=1):
                user = self._user(layout.fixed_phone(layout.community_staff(role, number)))
                self._grant(user, role, community=community)
                self._login(role, user, community.name)
                if role == Role.ADMIN:
                    self.admins[community.id] = user

    def _compound_staff(self) -> None:
        """A collector and two council members per compound, each living there (and a resident too)."""
        for cno, community in enumerate(self.communities, start=1):
            for mno, compound in enumerate(community.compounds, start=1):
                for seat, role in enumerate((Role.COLLECTOR, Role.COUNCIL, Role.COUNCIL)):
                    phone = layout.fixed_phone(layout.compound_staff(seat, cno, mno))
                    user = self._resident(self.rng.choice(compound.buildings), phone)
                    self._grant(user, role, community=community, compound=compound, by=self.admins[community.id])
                    if role == Role.COLLECTOR:
                        self.collectors[compound.id] = user
                    else:
                        self.councils.setdefault(compound.id, []).append(user)
                    if cno == 1 and mno == 1 and seat < 2:
                        self._login(role, user, f"{community.name} · {compound.name}")

    def _resident(self, building: Building, phone: str | None = None) -> User:
        user = self._user(phone, building)
        self._grant(user, Role.RESIDENT, community=building.compound.community)
        self.residents.append(user)
        return user

    def _demo_residents(self) -> None:
        """The resident and the party-member volunteer named in the README, both in the first compound."""
        community = self.communities[0]
        compound = community.compounds[0]
        self.demo_resident = self._resident(compound.buildings[0], layout.fixed_phone(layout.DEMO_RESIDENT))
        self._login(Role.RESIDENT, self.demo_resident, f"{community.name} · {compound.name}")
        self.demo_volunteer = self._resident(compound.buildings[1], layout.fixed_phone(layout.DEMO_VOLUNTEER))
        self._login(Role.VOLUNTEER, self.demo_volunteer, f"{community.name} · {compound.name}")

    def _other_residents(self) -> None:
        buildings = [b for c in self.communities for p in c.compounds for b in p.buildings]
        while len(self.residents) < layout.RESIDENTS:
            self.plain_residents.append(self._resident(self.rng.choice(buildings)))

    def _party_members(self) -> None:
        """双报到: each member reports for this year to a community, mostly their own, via an employer."""
        self._report(self.demo_volunteer, self.communities[0], self.units[0])
        for user in self.rng.sample(self.plain_residents, layout.PARTY_MEMBERS - 1):
            home = user.building.compound.community
            if self.rng.random() < layout.REPORT_AT_HOME:
                community = home
            else:
                community = self.rng.choice([c for c in self.communities if c is not home])
            self._report(user, community, self.rng.choice(self.units))

    def _report(self, user: User, community: Community, unit: Unit) -> None:
        admin = self.admins[community.id]
        user.is_party_member = True
        db.session.add(MemberReport(user=user, community=community, unit=unit, year=self.today.year, recorded_by=admin))
        self._grant(user, Role.VOLUNTEER, community=community, by=admin)

    def _audit_trail(self) -> None:
        """What the admins did to build this district, so each community's audit log has a history."""
        start = datetime.combine(self.today.replace(month=1, day=1), time(9), tzinfo=UTC)
        span = max((self.today - start.date()).days, 1)
        for report in db.session.scalars(select(MemberReport)):
            entry = record(
                report.recorded_by,
                "report.create",
                report,
                after={"user_id": report.user_id, "unit_id": report.unit_id, "year": report.year},
            )
            entry.at = start + timedelta(days=self.rng.randrange(span), minutes=self.rng.randrange(480))
        for grant in db.session.scalars(select(RoleGrant).where(RoleGrant.role.in_(Role.COMPOUND_SCOPED))):
            entry = record(
                grant.granted_by,
                "role.grant",
                grant.user,
                community_id=grant.community_id,
                after={"role": grant.role, "compound_id": grant.compound_id},
            )
            entry.at = start + timedelta(days=self.rng.randrange(min(span, 30)), minutes=self.rng.randrange(480))

    def _counts(self) -> dict[str, int]:
        compounds = [p for c in self.communities for p in c.compounds]
        return {
            "streets": len(self.streets),
            "communities": len(self.communities),
            "compounds": len(compounds),
            "buildings": sum(len(p.buildings) for p in compounds),
            "units": len(self.units),
            "agreements": len(layout.AGREEMENTS),
            "residents": len(self.residents),
            "party members": layout.PARTY_MEMBERS,
            "users": self.users,
        }
