"""The demo's activities: a year of them with sign-ups, check-ins and their records, and one on right now.

Mixed into demo.service.ServiceBuilder, whose helpers (at, moment, settled, add_record, ...) it uses.
Rows in the shapes volunteer.service.activities writes: Activity.taken counts the confirmed
sign-ups; the waiting list is only on full activities, queued after the places went; check-out
writes the record with the minutes activities.attended_minutes gives (capped at the activity's
times), and a forgotten check-out is closed at the end and flagged for review.
"""

import secrets
from datetime import UTC, date, datetime, time, timedelta

from ..core.models import utcnow
from ..extensions import db
from ..service.activities import attended_minutes
from ..service.models import Activity, Signup
from ..service.records import mark_corrected
from . import service_plans as plans

AHEAD_DAYS = 24  # activities are published this far ahead
METHODS = (("qr", 55), ("code", 30), ("steward", 10), ("card", 5))


def month_end(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


class ActivityPart:
    """Scheduling, filling and the live activity; `self` is the ServiceBuilder."""

    def schedule(self, community) -> None:
        last = self.today + timedelta(days=AHEAD_DAYS)
        month = date(self.year, 1, 1)
        busiest = 5 if len(self.members[community.id]) >= 15 else 4  # fewer volunteers, fewer events
        while month <= last:
            seasonal = list(plans.SEASONAL.get(month.month, ()))
            chosen = self.rng.sample(seasonal, min(len(seasonal), self.rng.choice((1, 2))))
            everyday = [p for p in plans.EVERYDAY if not (month.month in (7, 8) and p.weekend is False)]
            chosen += self.rng.sample(everyday, self.rng.randint(3, busiest) - len(chosen))
            for plan in chosen:
                day = self._day_in(month, plan.weekend)
                if day != self.today and day <= last:
                    self._activity(community, plan, day)
            month = month_end(month.year, month.month) + timedelta(days=1)
        # A few to sign up for in the next fortnight, whatever day of the month it is.
        soon = (self.at(self.today, 23), self.at(self.today + timedelta(days=15), 0))
        while sum(soon[0] < a.starts_at < soon[1] for a in self.activities[community.id]) < 4:
            plan = self.rng.choice([p for p in plans.EVERYDAY if p.weekend is None])
            self._activity(community, plan, self.today + timedelta(days=self.rng.randint(2, 14)))
        self.activities[community.id].sort(key=lambda a: a.starts_at)

    def _day_in(self, month: date, weekend: bool | None) -> date:
        days = [month + timedelta(days=i) for i in range((month_end(month.year, month.month) - month).days + 1)]
        if weekend is not None:
            days = [d for d in days if (d.weekday() >= 5) == weekend]
        return self.rng.choice(days)

    def _activity(self, community, plan, day: date, starts=None, rng=None) -> Activity:
        rng = rng or self.rng
        starts = starts or self.at(day, *plan.start)
        created_day = day - timedelta(days=rng.randint(5, 14))
        if created_day >= self.today:
            created_day = self.ago(rng.randint(1, 10))
        actor = self.staff(community.id) if rng is self.rng else self.stewards[community.id]
        activity = Activity(
            community_id=community.id,
            title=plan.title,
            category=plan.category,
            place=plan.place.format(community=community.name, compound=rng.choice(community.compounds).name),
            description=plan.description,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=plan.minutes),
            places=rng.randint(*plan.places),
            taken=0,
            state="open",
            secret=secrets.token_hex(16),
            created_by_id=actor.id,
            created_at=min(self.moment(created_day, rng), starts - timedelta(hours=2)),
        )
        db.session.add(activity)
        self.activities[community.id].append(activity)
        self.audits.append((actor, "service.activity_create", activity, None, ("title", "places"), activity.created_at))
        return activity

    def signup(self, activity: Activity, user, state: str = "confirmed", rng=None, **kw) -> Signup:
        rng = rng or self.rng
        latest = min(activity.starts_at - timedelta(hours=1), self.at(self.ago(1), 23, 30))
        span = max(60, int((latest - activity.created_at).total_seconds() // 60))
        queued = activity.created_at + timedelta(minutes=rng.randrange(span))
        if state == "waiting":  # came after the places were gone
            last = max((s.queued_at for s in activity.signups if s.state == "confirmed"), default=queued)
            queued = min(max(queued, last + timedelta(minutes=rng.randint(5, 600))), latest)
        row = Signup(activity=activity, volunteer_id=user.id, state=state, queued_at=queued, **kw)
        db.session.add(row)
        if state == "confirmed":
            activity.taken += 1
        if state == "cancelled":
            row.cancelled_by_id = user.id
        self.counts[f"signup {state}"] += 1
        return row

    @staticmethod
    def signed(activity: Activity, user) -> bool:
        return any(s.volunteer_id == user.id for s in activity.signups)

    def attend(self, activity: Activity, member, community_id: int) -> None:
        """Signed up, checked in and out (or closed at the end when they forgot); the record of it."""
        rng = self.rng
        signup = self.signup(activity, member.user)
        method = rng.choices([m for m, _ in METHODS], weights=[w for _, w in METHODS])[0]
        signup.checked_in_at = activity.starts_at + timedelta(minutes=rng.randint(-12, 8))
        signup.checkin_method = method
        forgot = rng.random() < 0.04
        if forgot:
            signup.checked_out_at, signup.auto_closed = activity.ends_at, True
        else:
            signup.checked_out_at = activity.ends_at + timedelta(minutes=rng.randint(-25, 10))
        minutes = max(1, attended_minutes(activity, signup))
        day = activity.starts_at.astimezone(self.zone).date()
        created = signup.checked_out_at + timedelta(minutes=rng.randint(31, 90) if forgot else 0)
        row = self.add_record(
            member.user,
            community_id,
            day,
            minutes,
            created,
            kind="activity",
            source="steward" if method == "steward" else "qr",
            description=activity.title,
            activity=activity,
            signup=signup,
            needs_review=forgot or minutes < 15,
        )
        if forgot and self.settled(day):  # the steward corrected the hours before verifying them
            steward = self.stewards[community_id]
            mark_corrected(row, steward, max(30, minutes - rng.choice((30, 45, 60))), at=created)
            after = {"minutes": row.minutes, "reason": plans.CORRECT_REASON}
            self.note(steward, "service.record_correct", row, created, {"minutes": minutes}, after)
        if self.settled(day):
            member.activities -= 1

    def fill_activities(self, community) -> None:
        acts = self.activities[community.id]
        members = self.members[community.id]
        midnight = self.at(self.today, 0)
        past = [a for a in acts if a.starts_at < midnight]
        settled = [a for a in past if self.settled(a.starts_at.astimezone(self.zone).date())]
        recent = [a for a in past if a not in settled]
        future = [a for a in acts if a not in past]
        if future:
            self._cancel(community, self.rng.choice(future[:4]))
        future = [a for a in future if a.state == "open"]
        demo = community is self.communities[0]
        # The demo volunteer: one service of the last week waiting for the steward, two coming up.
        mine = {self.rng.choice(recent)} if demo and recent else set()
        if demo:
            mine.update(self.rng.sample(future, min(2, len(future))))
        self._fill_settled(community, settled, members)
        for activity in recent:
            self._fill_recent(community, activity, members, demo=activity in mine)
        for index, activity in enumerate(future):
            self._fill_future(activity, members, full=index % 5 == 2 and activity not in mine, demo=activity in mine)
        for activity in past:
            self._extras(activity, members)

    def _fill_settled(self, community, settled, members) -> None:
        """Attendance from the members' quotas: someone at every activity, a few popular ones full."""
        for activity in self.rng.sample(settled, len(settled)):
            keen = [m for m in members if m.activities > 0]
            if keen:
                self.attend(activity, max(keen, key=lambda m: (m.activities, self.rng.random())), community.id)
        small = [a for a in settled if a.places <= 6]
        for activity in self.rng.sample(small, len(small) // 4):
            keen = [m for m in members if m.activities > 0 and not self.signed(activity, m.user)]
            keen.sort(key=lambda m: (-m.activities, self.rng.random()))
            if len(keen) < activity.places - activity.taken:
                continue
            for member in keen[: activity.places - activity.taken]:
                self.attend(activity, member, community.id)
            for member in [m for m in members if m.active and not self.signed(activity, m.user)][:2]:
                self.signup(activity, member.user, "waiting")  # never moved up: nobody cancelled
        while any(m.activities > 0 for m in members):
            moved = False
            for member in self.rng.sample(members, len(members)):
                if member.activities <= 0:
                    continue
                open_ = [a for a in settled if a.taken < a.places and not self.signed(a, member.user)]
                if not open_:
                    member.activities = 0
                    continue
                weights = [1 / (1 + a.taken) ** 2 for a in open_]
                self.attend(self.rng.choices(open_, weights=weights)[0], member, community.id)
                moved = True
            if not moved:
                break

    def _ordered(self, members, demo: bool) -> list:
        """Active members in random order, the demo volunteer first when `demo`, else not at all."""
        pool = [m for m in members if m.active and m.user is not self.demo_volunteer]
        self.rng.shuffle(pool)
        if demo:
            pool.insert(0, self.by_user[self.demo_volunteer.id])
        return pool

    def _fill_recent(self, community, activity, members, *, demo: bool) -> None:
        pool = [m for m in self._ordered(members, demo) if not self.signed(activity, m.user)]
        for member in pool[: self.rng.randint(1, min(activity.places, 4))]:
            self.attend(activity, member, community.id)

    def _fill_future(self, activity, members, *, full: bool, demo: bool) -> None:
        count = activity.places + 2 if full else self.rng.randint(int(demo), min(activity.places - 2, 5))
        for member in self._ordered(members, demo)[:count]:
            self.signup(activity, member.user, "confirmed" if activity.taken < activity.places else "waiting")

    def _extras(self, activity, members) -> None:
        """No-shows and sign-ups taken back, as real rosters have."""
        pool = [m for m in members if m.active and not self.signed(activity, m.user)]
        if pool and self.rng.random() < 0.25:
            self.signup(activity, self.rng.choice(pool).user, "cancelled")
        pool = [m for m in pool if not self.signed(activity, m.user)]
        if pool and activity.taken < activity.places and self.rng.random() < 0.12:
            self.signup(activity, self.rng.choice(pool).user)  # confirmed, never came

    def _cancel(self, community, activity) -> None:
        steward = self.stewards[community.id]
        for member in self.rng.sample(self.members[community.id], min(3, len(self.members[community.id]))):
            self.signup(activity, member.user, "cancelled").cancelled_by_id = steward.id
        activity.state, activity.cancel_reason = "cancelled", plans.CANCEL_REASON
        at = max(s.queued_at for s in activity.signups) + timedelta(minutes=self.rng.randint(5, 25))
        self.note(steward, "service.activity_cancel", activity, at, after={"reason": plans.CANCEL_REASON})

    def live(self, community) -> None:
        """An activity on right now, some volunteers already checked in: the check-in screens have something."""
        rng, now = self.live_rng, utcnow()
        if abs((now.astimezone(self.zone).date() - self.today).days) > 1:
            now = self.at(self.today, 10)  # built for another day: that day's morning
        local = now.astimezone(self.zone)
        plan = next(p for hours, p in plans.LIVE if local.hour in hours)
        midnight = datetime.combine(local.date(), time(0), tzinfo=self.zone)
        starts = max(local.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1), midnight)
        plan = plan._replace(minutes=max(plan.minutes, 150))
        activity = self._activity(community, plan, local.date(), starts=starts.astimezone(UTC), rng=rng)
        pool = [m for m in self.members[community.id] if m.active and m.user is not self.demo_volunteer]
        rng.shuffle(pool)
        for index, member in enumerate(pool[: rng.randint(3, min(6, activity.places - 1))]):
            signup = self.signup(activity, member.user, rng=rng)
            if index % 2 == 0:
                signup.checkin_method = rng.choice(("qr", "code"))
                signup.checked_in_at = min(now, activity.starts_at + timedelta(minutes=rng.randint(-10, 10)))
        if community is self.communities[0]:
            self.signup(activity, self.demo_volunteer, rng=rng)  # not checked in yet: try it with the code
