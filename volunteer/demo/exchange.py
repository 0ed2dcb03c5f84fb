"""The demo's points-exchange supermarket: settings, a catalogue per community, donations, vouchers in every state.

The exchange services (volunteer.exchange.vouchers and .desk) each commit, which would break the demo's
one-transaction build, so this module writes the rows they write, in the same shapes: one StockMovement
per change (donation and restock with their donor unit, reserve, handover, undo, release, a stock-take
count) and each item's counters set to the sums of its movements; for every voucher the ledger entries
the services post, with their keys ("voucher:<id>:hold", ":spend:<n>", ":release"), source and date,
the undo's reversal and audit entry, and each account's balance and held points moved by their sums.
A voucher is planned only if the resident could afford it at that moment, the item had a unit free
then (Timeline) and the per-person limit allowed it. Times are whole days before the seeding day, so
two builds give the same rows, except this morning's hand-overs, which move to yesterday if the clock
has not reached them yet.
"""

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..accounts.models import Role, RoleGrant
from ..core.models import aware, local_zone, utcnow
from ..exchange.models import ExchangeSettings, Item
from ..extensions import db
from ..ledger.models import LedgerEntry, PointsAccount
from ..org.models import Agreement
from .exchange_plans import (
    CATEGORY_WEIGHTS,
    CORE,
    DONATION_REASONS,
    HISTORY_DAYS,
    OPTIONAL,
    RANDOM_VOUCHERS,
    RETIRE_AFTER,
    RETIRED,
    SOLD_OUT,
    UNDO_REASONS,
    VOUCHER_DAYS,
    WINDOW,
    ItemPlan,
    Move,
    Planned,
    Shelf,
    Timeline,
)
from .exchange_rows import RowsPart


class ExchangeBuilder(RowsPart):
    def __init__(self, *, communities, admins, demo_users, rng, today):
        self.communities, self.admins, self.rng, self.today = communities, admins, rng, today
        self.demo_resident, self.demo_volunteer = demo_users
        self.zone = local_zone()
        self.now = utcnow()
        self.start = today - timedelta(days=HISTORY_DAYS)
        grants = db.session.scalars(select(RoleGrant).where(RoleGrant.role == Role.STEWARD))
        self.stewards = {g.community_id: g.user for g in grants}
        self.donors: dict[int, list] = {}
        for agreement in db.session.scalars(select(Agreement).order_by(Agreement.id)):
            self.donors.setdefault(agreement.community_id, []).append(agreement.unit)
        self.settings: dict[int, ExchangeSettings] = {}
        self.shelves: dict[int, list[Shelf]] = {}
        self.planned: list[Planned] = []
        self.limits: Counter = Counter()  # (user, item name, community, period) -> vouchers
        self._accounts()

    # time -------------------------------------------------------------------------------------------

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=self.zone).astimezone(UTC)

    def moment(self, day: date, first: int = 7, last: int = 22) -> datetime:
        return self.at(day, first) + timedelta(minutes=self.rng.randrange((last - first) * 60))

    def ago(self, days: int) -> date:
        return self.today - timedelta(days=days)

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def between(self, first: datetime, last: datetime, low: float = 0.1, high: float = 0.9) -> datetime:
        """A whole minute part-way from `first` to `last`."""
        minutes = (last - first).total_seconds() / 60
        return first + timedelta(minutes=max(1, int(minutes * self.rng.uniform(low, high))))

    # points --------------------------------------------------------------------------------------------

    def _accounts(self) -> None:
        """Each account's available points over time, from its entries so far."""
        self.accounts: dict[int, list[PointsAccount]] = {c.id: [] for c in self.communities}
        stmt = select(PointsAccount).options(selectinload(PointsAccount.user)).order_by(PointsAccount.id)
        for account in db.session.scalars(stmt):
            self.accounts[account.community_id].append(account)
        history: dict[int, list] = {}
        rows = db.session.execute(
            select(LedgerEntry.account_id, LedgerEntry.at, LedgerEntry.amount, LedgerEntry.held_delta)
        )
        for account_id, at, amount, held in rows:
            history.setdefault(account_id, []).append((aware(at), amount - held))
        self.history = {key: Timeline(events) for key, events in history.items()}

    def _affords(self, account: PointsAccount, changes) -> bool:
        return self.history.get(account.id, Timeline()).fits(changes)

    # the catalogue ----------------------------------------------------------------------------------------

    def catalogue(self, community, number: int) -> None:
        self.settings[community.id] = ExchangeSettings(community_id=community.id, voucher_days=VOUCHER_DAYS[number])
        db.session.add(self.settings[community.id])
        plans = [(p, self.start) for p in CORE]
        for plan in self.rng.sample(OPTIONAL, self.rng.randint(1, 8)):
            plans.append((plan, self.start + timedelta(days=self.rng.randrange(90))))
        plans += [(SOLD_OUT, self.start), (WINDOW, self.ago(20)), (RETIRED, self.start)]
        shelves = self.shelves[community.id] = []
        for plan, day in plans:
            shelves.append(self._shelf(community, plan, day))
        self._stocktake(community, self.rng.choice([s for s in shelves if s.plan in CORE[:9]]))

    def _shelf(self, community, plan: ItemPlan, day: date) -> Shelf:
        opens = self.moment(day, 9, 11)
        item = Item(
            community_id=community.id,
            category=plan.category,
            name=plan.name,
            description=plan.description,
            photo=None,
            price=plan.price,
            stock=0,
            reserved=0,
            issued=0,
            per_person_limit=1 if plan.limit else None,
            limit_period=plan.limit or "none",
            available_from=day if plan is WINDOW else None,
            available_until=self.today + timedelta(days=3) if plan is WINDOW else None,
            active=plan is not RETIRED,
            created_at=opens,
        )
        db.session.add(item)
        days = VOUCHER_DAYS[self.communities.index(community)]
        shelf = Shelf(plan, community, item, days, opens, sold_out=plan is SOLD_OUT)
        if plan is RETIRED:
            shelf.closes = self.at(day + timedelta(days=RETIRE_AFTER), 9)
        if plan.units:
            self._stock_in(community, shelf, opens, plan.units)
            if day < self.ago(60) and plan is not RETIRED and self.rng.random() < 0.7:
                later = day + timedelta(days=self.rng.randint(40, min(100, (self.today - day).days - 1)))
                self._stock_in(community, shelf, self.moment(later, 9, 17), max(2, plan.units // 2))
        return shelf

    def _stock_in(self, community, shelf: Shelf, at: datetime, units: int) -> None:
        """A donation from a unit that signed with the community, or the community's own restock."""
        donors = self.donors.get(community.id, [])
        actor = self.admins[community.id] if self.rng.random() < 0.5 else self.stewards[community.id]
        if donors and shelf.plan.category != "service" and self.rng.random() < 0.45:
            unit, kind, reason = self.rng.choice(donors), "donation", self.rng.choice(DONATION_REASONS)
        else:
            unit, kind = None, "restock"
            reason = "本期服务名额" if shelf.plan.category == "service" else "社区采购入库"
        shelf.moves.append(Move(at, kind, units, 0, 0, unit, None, actor, reason))
        shelf.stock.events.append((at, units))

    def _stocktake(self, community, shelf: Shelf) -> None:
        at = self.moment(self.ago(self.rng.randint(5, 25)), 16, 18)
        reason = "盘点：一件包装破损，报损"
        shelf.moves.append(Move(at, "count", -1, 0, 0, None, None, self.stewards[community.id], reason))
        shelf.stock.events.append((at, -1))

    # vouchers -----------------------------------------------------------------------------------------

    def _on_sale(self, shelf: Shelf, at: datetime, expires_at: datetime) -> bool:
        item = shelf.item
        if at < shelf.opens or (shelf.closes and expires_at >= shelf.closes):
            return False
        day = self.local_day(at)
        return (item.available_from is None or item.available_from <= day) and (
            item.available_until is None or day <= item.available_until
        )

    def _period(self, shelf: Shelf, account, at: datetime):
        day = self.local_day(at)
        when = (day.year, day.month) if shelf.plan.limit == "month" else day.year
        return (account.user_id, shelf.plan.name, shelf.item.community_id, when)

    def plan(self, shelf: Shelf, account, at: datetime, state: str, end=None, **extra) -> Planned | None:
        """The voucher if the item was on sale with a unit free, the resident could afford it, and within the limit."""
        expires_at = at + timedelta(days=shelf.days)
        if shelf.sold_out and state in ("cancelled", "expired"):
            state, end = "redeemed", self._desk_time(at, expires_at)
        if not self._on_sale(shelf, at, expires_at) or (end is not None and not at < end < self.now):
            return None
        if shelf.plan.limit and self.limits[self._period(shelf, account, at)] >= 1:
            return None
        gives_back = state in ("cancelled", "expired")
        stock = [(at, -1)] + ([(end, 1)] if gives_back else [])
        points = [(at, -shelf.item.price)] + ([(end, shelf.item.price)] if gives_back else [])
        if not (shelf.sold_out or shelf.stock.fits(stock)) or not self._affords(account, points):
            return None
        shelf.stock.events += stock
        self.history.setdefault(account.id, Timeline()).events.extend(points)
        if shelf.plan.limit:
            self.limits[self._period(shelf, account, at)] += 1
        planned = Planned(shelf, account, at, expires_at, state, end, **extra)
        self.planned.append(planned)
        return planned

    def _desk_time(self, after: datetime, before: datetime) -> datetime:
        """A hand-over at the desk (08:30-18:30) within a few days of the reservation, else soon after it."""
        moment = self.moment(self.local_day(after) + timedelta(days=self.rng.randint(0, 3)), 8, 18)
        moment += timedelta(minutes=30) if moment > after + timedelta(minutes=10) else timedelta(days=1)
        if moment < before:
            return moment
        return self.between(after, min(before, self.at(self.today, 0)), 0.2, 0.8)

    def _outcome(self, at: datetime, expires_at: datetime) -> tuple[str, datetime | None]:
        """Closed if it expired before today (expired ones swept the night after); open if it expires after today."""
        midnight = self.at(self.today, 0)
        roll = self.rng.random()
        if expires_at < midnight:
            sweep = self.at(self.local_day(expires_at) + timedelta(days=1), 2, 30)  # nightly `flask exchange expire`
            if roll < 0.74 or (roll >= 0.86 and sweep >= midnight):
                return "redeemed", self._desk_time(at, expires_at)
            if roll < 0.86:
                return "cancelled", self.between(at, expires_at, 0.05, 0.7)
            return "expired", sweep
        if roll < 0.6:
            return "reserved", None
        if roll < 0.9:
            return "redeemed", self._desk_time(at, min(expires_at, midnight))
        return "cancelled", self.between(at, midnight)

    def _pick(self, shelves, account, at: datetime) -> Shelf | None:
        headroom = self.history.get(account.id, Timeline()).total
        options = [s for s in shelves if s.item.price <= headroom and s.opens <= at]
        if not options:
            return None
        return self.rng.choices(options, [CATEGORY_WEIGHTS[s.plan.category] for s in options])[0]

    def history_of(self, community) -> None:
        """Reservations on random days of the history, by residents with points there, in time order."""
        days = VOUCHER_DAYS[self.communities.index(community)]
        shoppers = [a for a in self.accounts[community.id] if a.user not in (self.demo_resident, self.demo_volunteer)]
        span = (self.ago(1) - self.start).days
        moments = []
        for _ in range(self.rng.randint(*RANDOM_VOUCHERS)):
            day = self.start + timedelta(days=self.rng.randrange(span + 1))
            if day == self.ago(days):  # it would expire today: open or closed depending on the clock
                day -= timedelta(days=1)
            moments.append(self.moment(day))
        for at in sorted(moments):
            account = self.rng.choice(shoppers)
            expires_at = at + timedelta(days=days)
            state, end = self._outcome(at, expires_at)
            for _ in range(3):
                shelf = self._pick(self.shelves[community.id], account, at)
                if shelf is None or self.plan(shelf, account, at, state, end):
                    break

    def _try(self, community, accounts, days_ago: tuple[int, int], state: str, end_of=None, **extra):
        """One voucher of a given kind, by the first of a few random residents and items it fits."""
        shelves = self.shelves[community.id]
        for _ in range(30):
            account = self.rng.choice(accounts)
            at = self.moment(self.ago(self.rng.randint(*days_ago)))
            shelf = self._pick(shelves, account, at)
            end = end_of(at) if end_of else None
            if shelf is not None and (found := self.plan(shelf, account, at, state, end, **extra)):
                return found
        return None

    def this_morning(self, _reserved_at: datetime) -> datetime:
        """A hand-over today at the desk, or yesterday if the clock has not got there yet."""
        moment = self.moment(self.today, 8, 12)
        return moment if moment < self.now else moment - timedelta(days=1)

    def scenes(self, community) -> None:
        """What the desk shows today: hand-overs this morning, vouchers about to expire, one expired but not
        yet swept, one reserved by the steward at the desk, one hand-over undone and done again."""
        days = VOUCHER_DAYS[self.communities.index(community)]
        steward = self.stewards[community.id]
        demo = (self.demo_resident, self.demo_volunteer)
        accounts = [a for a in self.accounts[community.id] if a.user not in demo]
        for _ in range(self.rng.randint(3, 5)):
            self._try(community, accounts, (2, days - 1), "redeemed", self.this_morning)
        for _ in range(2):
            self._try(community, accounts, (days - 1, days - 1), "reserved")  # expires tomorrow
        self._try(community, accounts, (days + 1, days + 1), "reserved")  # expired yesterday, not swept
        self._try(community, accounts, (1, 3), "reserved", reserved_by=steward)
        undo = self.rng.choice(UNDO_REASONS)
        self._try(community, accounts, (days + 2, 60), "redeemed", self.handed_over(days), undo=undo)
        sold_out = next(s for s in self.shelves[community.id] if s.sold_out)
        for _ in range(2):
            for account in self.rng.sample(accounts, len(accounts)):
                at = self.moment(self.ago(self.rng.randint(days + 2, 40)))
                if self.plan(sold_out, account, at, "redeemed", self.handed_over(days)(at)):
                    break

    def handed_over(self, days: int):
        return lambda at: self._desk_time(at, at + timedelta(days=days))

    def demo_people(self) -> None:
        """The demo resident: a voucher to show at the desk and a history; the demo volunteer: one hand-over."""
        community, days = self.communities[0], VOUCHER_DAYS[0]
        resident, volunteer = (
            [a for a in self.accounts[community.id] if a.user is user]
            for user in (self.demo_resident, self.demo_volunteer)
        )
        self._try(community, resident, (1, 1), "reserved")
        cancelled = lambda at: at + timedelta(hours=self.rng.randint(2, 48))  # noqa: E731
        for state, end_of in (("redeemed", self.handed_over(days)),) * 2 + (("cancelled", cancelled),):
            self._try(community, resident, (days + 2, 90), state, end_of)
        self._try(community, volunteer, (days + 2, 90), "redeemed", self.handed_over(days))

    def run(self) -> dict[str, int]:
        for number, community in enumerate(self.communities):
            self.catalogue(community, number)
        for community in self.communities:
            self.history_of(community)
            self.scenes(community)
        self.demo_people()
        return self.write()


def build_exchange(**kwargs) -> dict[str, int]:
    """Settings, catalogues with donations and restocks, vouchers in every state with their points; counts."""
    return ExchangeBuilder(**kwargs).run()
