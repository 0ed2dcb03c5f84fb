"""The demo's 1112 service: policies, the three lists, a year of activities, orders and service records.

The service functions (volunteer.service.*) each open a write transaction and commit, which would
break the demo's one-transaction build, so the demo writes the rows they write, in the same
shapes: counters (Activity.taken, Order.taken, Project.claimed) equal to their rows, records made
the way check-out, order confirmation, self-reporting and steward entry make them, and for every
verified record one earn_service entry posted through ledger.services.earn with the key
records.verify uses (f"service-record:{id}:verify:1"), dated the day of the verification, with
the audit entries the services write. Each party member gets a number of verified services this
year chosen for the 1112 tracker (done, on pace, behind, none); the last week's services wait in
the stewards' queues. Everything happens before the seeding day, except one activity per
community that is on right now, and the upcoming ones.
Activities are in demo/service_activities.py, needs and orders in demo/service_orders.py, the
words in demo/service_plans.py.
"""

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from ..accounts.models import Role, RoleGrant
from ..core.audit import record as audit
from ..core.audit import snapshot
from ..core.models import local_zone
from ..extensions import db
from ..ledger import services as ledger
from ..org.models import Agreement, MemberReport
from ..service.lists import PROJECT_FIELDS, RESOURCE_FIELDS
from ..service.models import Activity, Project, ProjectClaim, Resource, ServicePolicy, ServiceRecord
from ..service.records import points_for
from ..service.tracker import expected_by
from . import service_plans as plans
from .pictures import Pictures
from .service_activities import ActivityPart, month_end
from .service_orders import OrderBuilder

POLICIES = ((10, 5), (10, 5), (10, 5), (6, 10))  # (points per hour, per service) by community
RECENT_DAYS = 7  # services of the last week are still waiting for a steward
# Members (other than the demo volunteer) by their 1112 standing; the rest are on pace.
PROFILES = {"done": 9, "behind": 13, "none": 4}


@dataclass
class Member:
    user: object
    community_id: int
    profile: str
    target: int  # verified services this year
    activities: int = 0  # of which from activities
    orders: int = 0  # of which from orders
    verified: int = 0  # so far
    claims: list = field(default_factory=list)  # (project, from day, to day)

    @property
    def active(self) -> bool:
        return self.profile != "none"


class ServiceBuilder(ActivityPart):
    def __init__(self, *, communities, units, admins, residents, demo_users, rng, today, written):
        self.communities = communities
        self.units = units  # in the order of layout.UNITS
        self.admins = admins
        self.residents = residents
        self.demo_resident, self.demo_volunteer = demo_users
        self.rng = rng
        self.live_rng = random.Random(rng.random())  # the live activities depend on the clock: keep them apart
        # Evidence photos of self-reports: a stream of their own, so the rest of the plan does not move.
        self.pictures = Pictures(random.Random("service evidence photos"), written)
        self.today = today
        self.year = today.year
        self.zone = local_zone()
        # On pace for tomorrow too: the seed's date.today() may still be yesterday in the district's zone.
        self.expected = expected_by(self.year, today + timedelta(days=1))
        self.stewards = {
            g.community_id: g.user for g in db.session.scalars(select(RoleGrant).where(RoleGrant.role == Role.STEWARD))
        }
        self.members: dict[int, list[Member]] = {c.id: [] for c in communities}
        self.by_user: dict[int, Member] = {}
        self.activities: dict[int, list[Activity]] = {c.id: [] for c in communities}
        self.records: list[tuple[ServiceRecord, str, object, datetime | None, str]] = []
        self.audits: list[tuple] = []  # (actor, action, obj, before, after, at)
        self.counts: Counter = Counter()

    # time and people ----------------------------------------------------------------------------

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=self.zone).astimezone(UTC)

    def moment(self, day: date, rng=None) -> datetime:
        """Some time between 08:00 and 20:59 local on `day`."""
        return self.at(day, 8) + timedelta(minutes=(rng or self.rng).randrange(13 * 60))

    def ago(self, days: int) -> date:
        return self.today - timedelta(days=days)

    def staff(self, community_id: int):
        """Mostly the steward, sometimes the admin: who runs the community's service day to day."""
        return self.stewards[community_id] if self.rng.random() < 0.8 else self.admins[community_id]

    def note(self, actor, action: str, obj, at: datetime, before=None, after=None) -> None:
        self.audits.append((actor, action, obj, before, after, at))

    def settled(self, day: date) -> bool:
        return day < self.ago(RECENT_DAYS)

    # records --------------------------------------------------------------------------------------

    def add_record(self, user, community_id: int, day: date, minutes: int, created_at: datetime, *, status=None, **kw):
        """A record in its final state: verified if settled (unless told), else pending."""
        status = status or ("verified" if self.settled(day) else "pending")
        row = ServiceRecord(
            volunteer_id=user.id,
            community_id=community_id,
            served_on=day,
            minutes=minutes,
            status="rejected" if status == "rejected" else "pending",  # verified once its entry exists
            created_at=created_at,
            **kw,
        )
        db.session.add(row)
        actor, decided_at, reason = None, None, ""
        if status in ("verified", "rejected"):
            actor = self.staff(community_id)
            day_after = min(day + timedelta(days=self.rng.randint(1, 6)), self.ago(1))
            decided_at = max(self.moment(day_after), created_at + timedelta(hours=1))
        if status == "rejected":
            reason = self.rng.choice(plans.REJECT_REASONS)
            row.reject_reason, row.verified_by_id, row.verified_at = reason, actor.id, decided_at
            self.note(actor, "service.record_reject", row, decided_at, after={"reason": reason})
        if status == "verified" and (member := self.by_user.get(user.id)) and member.community_id == community_id:
            member.verified += 1
        self.records.append((row, status, actor, decided_at, reason))
        return row

    # policies and lists ---------------------------------------------------------------------------

    def policies(self) -> None:
        for community, (per_hour, per_service) in zip(self.communities, POLICIES, strict=True):
            db.session.add(
                ServicePolicy(community_id=community.id, points_per_hour=per_hour, points_per_service=per_service)
            )

    def resources(self) -> None:
        """Each community's partner units offer two things each; a few other units and people one each."""
        signed: dict[int, list] = {}
        for agreement in db.session.scalars(select(Agreement).order_by(Agreement.id)):
            signed.setdefault(agreement.community_id, []).append(agreement.unit)
        offered = {unit.id: plans.UNIT_RESOURCES[number] for number, unit in enumerate(self.units, start=1)}
        for number, community in enumerate(self.communities):
            mine = signed.get(community.id, [])
            offers = [(u, p) for u in mine for p in offered[u.id]]
            others = [(u, p) for u in self.units if u not in mine for p in offered[u.id]]
            extra = self.rng.sample(others, self.rng.randint(1, 3))
            extra += [(None, p) for p in self.rng.sample(plans.OTHER_RESOURCES, self.rng.randint(1, 2))]
            for index, (unit, plan) in enumerate(offers + extra):
                who = unit.contact_person if unit else self.rng.choice(plans.RESOURCE_CONTACTS)
                admin = self.admins[community.id]
                resource = Resource(
                    community_id=community.id,
                    unit_id=unit.id if unit else None,
                    kind=plan.kind,
                    title=plan.title,
                    description=plan.description,
                    availability=plan.availability,
                    contact=f"{who} 028-{self.rng.randint(8300, 8499)}{self.rng.randint(1000, 9999)}",
                    active=not (number == 1 and index == len(offers)),  # one offer that has lapsed
                    created_by_id=admin.id,
                    created_at=self.moment(date(self.year, 1, 1) + timedelta(days=self.rng.randrange(40))),
                )
                db.session.add(resource)
                self.counts["resources"] += 1
                self.audits.append((admin, "service.resource_save", resource, None, RESOURCE_FIELDS, None))

    def projects(self) -> None:
        for community in self.communities:
            fixed, optional = plans.PROJECTS[:3], plans.PROJECTS[3:]
            chosen = list(fixed) + self.rng.sample(optional, self.rng.randint(3, 7))
            for plan in chosen:
                self._project(community, plan)

    def _project(self, community, plan) -> None:
        first, last = plan.months or (1, 12)
        starts = date(self.year, first, 1)
        ends = None if plan.title == "楼栋长" else month_end(self.year, last)
        admin = self.admins[community.id]
        created = min(starts - timedelta(days=self.rng.randint(5, 20)), self.ago(1))
        project = Project(
            community_id=community.id,
            kind=plan.kind,
            title=plan.title,
            description=plan.description,
            capacity=self.rng.randint(*plan.capacity),
            claimed=0,
            starts_on=starts,
            ends_on=ends,
            created_by_id=admin.id,
            created_at=self.moment(created),
        )
        db.session.add(project)
        self.counts["projects"] += 1
        self.audits.append((admin, "service.project_save", project, None, PROJECT_FIELDS, None))
        if starts >= self.today:
            return
        wanted = project.capacity if self.rng.random() < 0.3 else self.rng.randint(0, project.capacity - 1)
        if plan.title == "文明劝导岗":  # every community has a post nobody else can claim...
            wanted = project.capacity
        elif plan.title == "楼栋长":  # ...and one with places left
            wanted = self.rng.randint(1, project.capacity - 1)
        pool = [m for m in self.members[community.id] if m.active]
        self.rng.shuffle(pool)
        if plan.title == "楼栋长" and community is self.communities[0]:
            pool.sort(key=lambda m: m.user is not self.demo_volunteer)  # the demo volunteer is one
        last_day = min(ends or self.today, self.ago(1))
        for member in pool[:wanted]:
            day = starts + timedelta(days=self.rng.randrange(max(1, min(45, (last_day - starts).days))))
            self._claim(project, member, day, last_day)
        if wanted and self.rng.random() < 0.4 and len(pool) > wanted and (last_day - starts).days >= 2:
            day = starts + timedelta(days=self.rng.randrange((last_day - starts).days // 2))
            self._claim(project, pool[wanted], day, last_day, released=True)  # claimed once, then given up

    def _claim(self, project, member, day: date, last_day: date, *, released=False) -> None:
        claim = ProjectClaim(project=project, volunteer_id=member.user.id, claimed_at=self.moment(day))
        db.session.add(claim)
        until = last_day
        if released:
            until = day + timedelta(days=self.rng.randint(1, (last_day - day).days))
            claim.released_at = self.moment(until)
        else:
            project.claimed += 1
        member.claims.append((project, day, until))

    # members and their targets ----------------------------------------------------------------------

    def plan_members(self) -> None:
        reports = db.session.scalars(
            select(MemberReport).where(MemberReport.year == self.year).order_by(MemberReport.id)
        ).all()
        others = [r for r in reports if r.user is not self.demo_volunteer]
        profiles = [p for p, n in PROFILES.items() for _ in range(n)]
        profiles += ["on_pace"] * (len(others) - len(profiles))
        self.rng.shuffle(profiles)
        pairs = [(r, p) for r, p in zip(others, profiles, strict=True)]
        pairs += [(r, "demo") for r in reports if r.user is self.demo_volunteer]
        for report, profile in pairs:
            target = self._target(profile)
            member = Member(report.user, report.community_id, profile, target)
            member.activities = round(target * self.rng.uniform(0.55, 0.75))
            member.orders = min(target - member.activities, round(target * self.rng.uniform(0.1, 0.25)))
            self.members[report.community_id].append(member)
            self.by_user[report.user_id] = member

    def _target(self, profile: str) -> int:
        expected, rng = self.expected, self.rng
        if profile == "done":
            return 12 + rng.randint(0, 8) if expected >= 4 else expected + rng.randint(1, 3)
        if profile == "behind":
            return max(0, expected - rng.randint(2, 5))
        if profile == "none":
            return 0
        if profile == "demo":
            return expected
        return max(expected, min(expected + rng.randint(0, 2), 11))

    # self-reported and steward-entered services ---------------------------------------------------------

    def top_up(self, community) -> None:
        """The rest of each member's services: reported by themselves or entered by the steward."""
        first = date(self.year, 1, 1)
        last = self.ago(RECENT_DAYS + 1)
        for member in self.members[community.id]:
            while member.verified < member.target and first <= last:
                day = first + timedelta(days=self.rng.randrange((last - first).days + 1))
                if self.rng.random() < 0.7:
                    self.report(member, community.id, day)
                else:
                    self.enter(member, community.id, day)
        active = [m for m in self.members[community.id] if m.active]
        idle = [m for m in self.members[community.id] if not m.active]
        for member in self.rng.sample(active, min(2, len(active))):
            self.report(member, community.id, self._day_between(first, last), status="rejected")
        for member in (idle[:1] + self.rng.sample(active, min(2, len(active))))[:2]:
            self.report(member, community.id, self.ago(self.rng.randint(1, RECENT_DAYS)))
        member = self.rng.choice(active)
        day = self.ago(self.rng.randint(2, RECENT_DAYS))
        self.add_record(
            member.user,
            community.id,
            day,
            480,
            self.moment(day + timedelta(days=1)),
            kind="other",
            source="self",
            description=plans.LONG_STORY,
            needs_review=True,
            entered_by_id=member.user.id,
        )
        self.enter(self.rng.choice(active), community.id, self.ago(self.rng.randint(1, RECENT_DAYS)))
        demo = self.by_user[self.demo_volunteer.id]
        waiting = [r for r, status, *_ in self.records if status == "pending" and r.volunteer_id == demo.user.id]
        if demo.community_id == community.id and not waiting:  # their home page shows one waiting
            self.report(demo, community.id, self.ago(self.rng.randint(1, 3)))

    def _day_between(self, first: date, last: date) -> date:
        return first + timedelta(days=self.rng.randrange(max(1, (last - first).days + 1)))

    def report(self, member, community_id: int, day: date, status=None) -> None:
        claims = [c for c in member.claims if c[1] <= day <= c[2]]
        project = None
        if claims and self.rng.random() < 0.6:
            project = self.rng.choice(claims)[0]
            story = self.rng.choice(plans.PROJECT_STORIES).format(title=project.title)
        else:
            story = self.rng.choice(plans.SELF_STORIES)
        created = self.moment(min(day + timedelta(days=self.rng.randint(0, 3)), self.ago(1)))
        self.add_record(
            member.user,
            community_id,
            day,
            self.rng.choice((60, 90, 120, 150, 180)),
            created,
            status=status,
            kind="project" if project else "other",
            source="self",
            description=story,
            project=project,
            entered_by_id=member.user.id,
            photo=self.evidence(),
        )

    def evidence(self) -> str | None:
        """Most self-reports carry a photo (the form asks for one; it is not required)."""
        if self.pictures.rng.random() < 0.6:
            self.counts["service evidence photos"] += 1
            return self.pictures.save_one()[0]
        return None

    def enter(self, member, community_id: int, day: date) -> None:
        steward = self.stewards[community_id]
        story, kind = self.rng.choice(plans.STEWARD_STORIES)
        created = self.moment(min(day + timedelta(days=self.rng.randint(1, 5)), self.ago(1)))
        row = self.add_record(
            member.user,
            community_id,
            day,
            self.rng.choice((90, 120, 180, 240)),
            created,
            kind=kind,
            source="steward",
            description=story,
            entered_by_id=steward.id,
        )
        self.note(steward, "service.record_enter", row, created, after={"minutes": row.minutes})

    # points and the audit log -------------------------------------------------------------------------

    def verify(self) -> None:
        """One earn_service entry per verified record, then the record marked verified with it."""
        policies = {p.community_id: p for p in db.session.scalars(select(ServicePolicy))}
        accounts, done = {}, []
        for row, status, actor, at, _reason in self.records:
            if status != "verified":
                continue
            owner = (row.volunteer_id, row.community_id)
            if owner not in accounts:
                accounts[owner] = ledger.account_for(*owner)
            points = points_for(policies[row.community_id], row.minutes)
            posting = ledger.earn(
                accounts[owner],
                points,
                kind="earn_service",
                key=f"service-record:{row.id}:verify:1",
                source=row,
                actor=actor,
                memo=row.description[:300],
                at=at,
            )
            done.append((row, actor, at, points, posting.entry.id))
        for row, actor, at, points, entry_id in done:
            row.status, row.verifications, row.points, row.earn_entry_id = "verified", 1, points, entry_id
            row.verified_by_id, row.verified_at = actor.id, at
            self.note(actor, "service.record_verify", row, at, after={"points": points})

    def write_audits(self) -> None:
        for actor, action, obj, before, after, at in self.audits:
            if isinstance(after, tuple):  # created: the fields as they were saved
                after = snapshot(obj, *after)
            elif callable(after):  # needs the ids the flush gave
                after = after()
            entry = audit(actor, action, obj, community_id=obj.community_id, before=before, after=after)
            entry.at = at or obj.created_at

    def run(self) -> dict[str, int]:
        self.policies()
        self.resources()
        self.plan_members()
        self.projects()
        for community in self.communities:
            self.schedule(community)
            self.fill_activities(community)
            self.live(community)
        orders = OrderBuilder(self)
        for community in self.communities:
            orders.build(community)
        for community in self.communities:
            self.top_up(community)
        db.session.flush()
        self.verify()
        db.session.flush()
        self.write_audits()
        db.session.flush()
        return self.summary(orders.counts)

    def summary(self, order_counts: Counter) -> dict[str, int]:
        statuses = Counter(status for _row, status, *_ in self.records)
        signups = sum(n for key, n in self.counts.items() if key.startswith("signup "))
        return {
            "activities": sum(len(a) for a in self.activities.values()),
            "sign-ups": signups,
            "needs": order_counts["needs"],
            "orders": order_counts["orders"],
            "service records": len(self.records),
            "verified services": statuses["verified"],
            "projects": self.counts["projects"],
            "resources": self.counts["resources"],
        }


def build_service(**kwargs) -> dict[str, int]:
    """Policies, resources, projects, a year of activities and orders, records and their points; counts."""
    return ServiceBuilder(**kwargs).run()
