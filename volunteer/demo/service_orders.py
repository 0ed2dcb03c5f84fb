"""The demo's needs and orders (群众点单、社区下单、义工接单) in every state, for demo/service.py.

Rows in the shapes volunteer.service.orders writes: a need made into an order is 'ordered' with
the steward and time of the decision; Order.taken counts its OrderTake rows and the order is
'taken' once every place is; a confirmed order gives each taker one record (source 'order').
Orders done in the last week still wait for the resident (auto-confirmation comes after 7 days).
"""

from collections import Counter
from datetime import date, timedelta

from ..extensions import db
from ..service.models import Need, Order, OrderTake
from . import service_plans as plans

WEEKDAYS = "一二三四五六日"


class OrderBuilder:
    def __init__(self, builder):
        self.b = builder
        self.rng = builder.rng
        self.counts: Counter = Counter()
        self.residents: dict[int, list] = {}  # community id -> residents who may post needs
        for user in builder.residents:
            if not user.is_party_member and user is not builder.demo_resident:
                self.residents.setdefault(user.building.compound.community_id, []).append(user)

    def scheduled(self, day: date) -> str:
        part = self.rng.choice(("上午", "下午"))
        return f"{day.month}月{day.day}日（周{WEEKDAYS[day.weekday()]}）{part}"

    # rows -----------------------------------------------------------------------------------------

    def need(self, community, plan, resident, day: date, state: str = "ordered") -> Need:
        resident = resident or self.rng.choice(self.residents[community.id])
        need = Need(
            community_id=community.id,
            resident_id=resident.id,
            category=plan.category,
            description=plan.description,
            preferred_time=self.rng.choice(plans.PREFERRED),
            state=state,
            created_at=self.b.moment(day),
        )
        db.session.add(need)
        self.counts["needs"] += 1
        self.counts[f"need {state}"] += 1
        return need

    def order(self, community, plan, day: date, *, resident=None, raised=False, places=None, when=None) -> Order:
        """The steward's order, made of a resident's need posted a day or two before (or raised directly)."""
        steward = self.b.stewards[community.id]
        need = None
        if not raised:
            need = self.need(community, plan, resident, day - timedelta(days=self.rng.randint(0, 2)))
        created = self.b.moment(day)
        if need is not None:
            created = max(created, need.created_at + timedelta(hours=1))
            need.decided_by_id, need.decided_at = steward.id, created
        order = Order(
            community_id=community.id,
            need=need,
            category=plan.category,
            title=plan.title,
            description=plan.description,
            scheduled=self.scheduled(when or day + timedelta(days=self.rng.randint(1, 3))),
            places=places or plan.places,
            taken=0,
            state="open",
            created_by_id=steward.id,
            created_at=created,
        )
        db.session.add(order)
        self.counts["orders"] += 1

        def after():
            return {"need_id": order.need_id, "places": order.places} if need else {"places": order.places}

        self.b.note(steward, "service.order_create", order, created, after=after)
        return order

    def take(self, order: Order, user, day: date | None = None) -> None:
        at = order.created_at + timedelta(minutes=self.rng.randint(20, 600))
        at = min(at, self.b.at(day, 7) if day else self.b.at(self.b.today, 0) - timedelta(minutes=1))
        order.takes.append(OrderTake(volunteer=user, taken_at=at))
        order.taken += 1
        if order.taken == order.places:
            order.state = "taken"

    def finish(self, order: Order, plan, day: date) -> None:
        order.done_at = max(self.b.moment(day), max(t.taken_at for t in order.takes) + timedelta(hours=1))
        order.done_note = plan.note
        order.done_minutes = self.rng.randrange(plan.minutes[0], plan.minutes[1] + 1, 5)
        order.state = "done"

    def confirm(self, order: Order, *, auto=False, rating=None, feedback="", hours=None) -> None:
        """Closed as confirmed: each taker's record, verified if the week for it has passed."""
        if auto:
            order.closed_at = order.done_at + timedelta(days=7, minutes=self.rng.randint(5, 65))
        else:
            order.closed_at = order.done_at + timedelta(hours=hours or self.rng.randint(2, 60))
        order.state, order.auto_confirmed, order.rating, order.feedback = "confirmed", auto, rating, feedback
        day = order.done_at.astimezone(self.b.zone).date()
        for taken in order.takes:
            self.b.add_record(
                taken.volunteer,
                order.community_id,
                day,
                order.done_minutes,
                order.closed_at,
                kind="order",
                source="order",
                description=order.title,
                order=order,
            )
            member = self.b.by_user.get(taken.volunteer.id)
            if member is not None and self.b.settled(day):
                member.orders -= 1

    def rate(self) -> tuple[int, str]:
        rating = self.rng.choices((5, 4, 3), weights=(6, 3, 1))[0]
        return rating, self.rng.choice(plans.FEEDBACK[rating])

    # each state -------------------------------------------------------------------------------------

    def build(self, community) -> None:
        first = community is self.b.communities[0]
        members = self.b.members[community.id]
        active = [m for m in members if m.active]
        self.settled_orders(community, members, first)
        for _ in range(2):
            self.recent_confirmed(community, active)
        self.waiting(community, active, first)
        self.disputed(community, active)
        self.in_progress(community, active, first)
        self.cancelled(community, active)
        self.open_needs(community, first)

    def settled_orders(self, community, members, first) -> None:
        """Done and confirmed more than a week ago: the members' order services of the year."""
        start, last = date(self.b.year, 1, 4), self.b.ago(9)
        index = 0
        while start <= last:
            takers = sorted((m for m in members if m.orders > 0), key=lambda m: (-m.orders, self.rng.random()))
            if not takers:
                return
            resident = self.b.demo_resident if first and index == 0 else None
            raised = resident is None and self.rng.random() < 0.15
            plan = self.rng.choice(plans.COMMUNITY_ORDERS if raised else plans.NEEDS)
            places = min(plan.places, len(takers))
            done = start + timedelta(days=self.rng.randrange((last - start).days + 1))
            order = self.order(
                community,
                plan,
                done - timedelta(days=self.rng.randint(2, 6)),
                resident=resident,
                raised=raised,
                places=places,
                when=done,
            )
            for member in takers[:places]:
                self.take(order, member.user, done)
            self.finish(order, plan, done)
            if index == 3:  # disputed, then upheld by the steward: it counts after all
                self.uphold(order)
            elif resident is None and (index == 1 or self.rng.random() < 0.2):  # the resident never answered
                self.confirm(order, auto=True)
            else:
                rating, feedback = (5, plans.FEEDBACK[5][0]) if resident else self.rate()
                self.confirm(order, rating=rating, feedback=feedback)
            index += 1

    def uphold(self, order: Order) -> None:
        steward = self.b.stewards[order.community_id]
        order.dispute_reason = self.rng.choice(plans.DISPUTE_REASONS)
        order.resolution, order.resolved_by_id = plans.RESOLVE_UPHELD, steward.id
        self.confirm(order, hours=self.rng.randint(48, 96))
        after = {"upheld": True, "note": plans.RESOLVE_UPHELD}
        self.b.note(steward, "service.order_resolve", order, order.closed_at, after=after)

    def recent_confirmed(self, community, active) -> None:
        """Confirmed this week: the takers' records wait in the steward's queue."""
        plan = self.rng.choice(plans.NEEDS)
        done = self.b.ago(self.rng.randint(2, 6))
        order = self.order(community, plan, done - timedelta(days=self.rng.randint(1, 3)), when=done)
        for member in self.rng.sample(active, plan.places):
            self.take(order, member.user, done)
        self.finish(order, plan, done)
        rating, feedback = self.rate()
        self.confirm(order, rating=rating, feedback=feedback, hours=self.rng.randint(2, 20))

    def waiting(self, community, active, first) -> None:
        """Done in the last few days: the resident has still to confirm and rate it."""
        for index in range(2):
            story = first and index == 0
            plan = plans.NEEDS[4] if story else self.rng.choice(plans.NEEDS)
            done = self.b.ago(1 if story else self.rng.randint(1, 5))
            resident = self.b.demo_resident if story else None
            order = self.order(community, plan, done - timedelta(days=2), resident=resident, when=done)
            takers = [self.b.demo_volunteer] if story else [m.user for m in self.rng.sample(active, plan.places)]
            for user in takers:
                self.take(order, user, done)
            self.finish(order, plan, done)

    def disputed(self, community, active) -> None:
        """One the resident disputes (the steward has to look) and one closed as not done."""
        for state in ("disputed", "closed"):
            plan = self.rng.choice([p for p in plans.NEEDS if p.places == 1])
            done = self.b.ago(self.rng.randint(9, 20) if state == "disputed" else self.rng.randint(25, 90))
            order = self.order(community, plan, done - timedelta(days=2), when=done)
            self.take(order, self.rng.choice(active).user, done)
            self.finish(order, plan, done)
            order.state, order.dispute_reason = "disputed", self.rng.choice(plans.DISPUTE_REASONS)
            if state == "closed":
                steward = self.b.stewards[community.id]
                order.state, order.resolution, order.resolved_by_id = "closed", plans.RESOLVE_CLOSED, steward.id
                order.closed_at = order.done_at + timedelta(days=self.rng.randint(2, 4))
                after = {"upheld": False, "note": plans.RESOLVE_CLOSED}
                self.b.note(steward, "service.order_resolve", order, order.closed_at, after=after)

    def in_progress(self, community, active, first) -> None:
        """Taken and not done yet, open with free places (one partly taken), for the days ahead."""
        singles = [p for p in plans.NEEDS if p.places == 1]
        for index in range(2):
            plan = self.rng.choice(singles if first and index == 0 else plans.NEEDS)
            order = self.order(community, plan, self.b.ago(self.rng.randint(1, 5)), when=self.b.today)
            order.scheduled = self.scheduled(self.b.today + timedelta(days=self.rng.randint(1, 6)))
            takers = (
                [self.b.demo_volunteer]
                if first and index == 0
                else [m.user for m in self.rng.sample(active, plan.places)]
            )
            for user in takers:
                self.take(order, user)
        raised = [p for p in plans.COMMUNITY_ORDERS if p.places > 1]
        for index in range(self.rng.randint(2, 3)):  # the first raised by the community, for several volunteers
            plan = self.rng.choice(raised if index == 0 else singles)
            day = self.b.ago(self.rng.randint(1, 4))
            order = self.order(community, plan, day, raised=index == 0, when=self.b.today)
            order.scheduled = self.scheduled(self.b.today + timedelta(days=self.rng.randint(2, 8)))
            if index == 0:
                self.take(order, self.rng.choice(active).user)

    def cancelled(self, community, active) -> None:
        steward = self.b.stewards[community.id]
        plan = self.rng.choice([p for p in plans.NEEDS if p.places == 1])
        day = self.b.ago(self.rng.randint(10, 40))
        order = self.order(community, plan, day)
        if self.rng.random() < 0.5:
            self.take(order, self.rng.choice(active).user)
        reason = self.rng.choice(plans.CANCEL_ORDER_REASONS)
        order.state, order.resolution = "cancelled", reason
        order.closed_at = order.created_at + timedelta(days=self.rng.randint(1, 3))
        self.b.note(steward, "service.order_cancel", order, order.closed_at, after={"reason": reason})

    def open_needs(self, community, first) -> None:
        """Needs not (or never) made orders: waiting for the steward, declined with a reason, withdrawn."""
        steward = self.b.stewards[community.id]
        resident = self.b.demo_resident if first else None
        for index in range(2):
            plan = self.rng.choice(plans.NEEDS)
            self.need(community, plan, resident if index == 0 else None, self.b.ago(self.rng.randint(1, 3)), "open")
        for index in range(2):
            plan = self.rng.choice(plans.NEEDS)
            day = self.b.ago(self.rng.randint(10, 200))
            need = self.need(community, plan, resident if index == 0 else None, day, "declined")
            reason = self.rng.choice(plans.DECLINE_REASONS)
            need.decline_reason, need.decided_by_id = reason, steward.id
            need.decided_at = self.b.moment(day + timedelta(days=1))
            self.b.note(steward, "service.need_decline", need, need.decided_at, after={"reason": reason})
        self.need(community, self.rng.choice(plans.NEEDS), resident, self.b.ago(self.rng.randint(5, 60)), "withdrawn")
