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

import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.orm import selectinload

from ..accounts.models import Role, RoleGrant
from ..core.audit import record as audit
from ..core.audit import snapshot
from ..core.models import aware, local_zone, utcnow
from ..exchange.models import ExchangeSettings, Item, StockMovement, Voucher
from ..exchange.vouchers import new_code
from ..extensions import db
from ..ledger.models import LedgerEntry, PointsAccount
from ..org.models import Agreement

HISTORY_DAYS = 150  # the supermarket opened this long before the seeding day
VOUCHER_DAYS = (7, 7, 7, 14)  # by community
RANDOM_VOUCHERS = (60, 80)  # reservations tried per community over the history
RETIRE_AFTER = 80  # days after opening the seasonal item left the shelf
CATEGORY_WEIGHTS = {"grain_oil": 4, "daily": 3, "cleaning": 2, "stationery": 1, "service": 2, "other": 1}
DONATION_REASONS = ("党员活动日捐赠", "共建单位慰问物资", "“邻里守望”公益捐赠", "节日慰问捐赠")
# What volunteer.exchange.catalogue snapshots when an item is saved.
ITEM_FIELDS = ("name", "category", "description", "price", "per_person_limit", "limit_period")
ITEM_FIELDS += ("available_from", "available_until", "active", "photo")
UNDO_REASONS = ("扫错了兑换券，撤销后重新核销", "居民改换同价商品，先撤销再核销")


class ItemPlan(NamedTuple):
    name: str
    category: str
    price: int
    units: int  # the first stock
    description: str
    limit: str | None = None  # "month" or "year": one per person per period


CORE = (
    ItemPlan("大米5kg", "grain_oil", 60, 15, "东北长粒香大米，5公斤真空装。", "month"),
    ItemPlan("食用油1.8L", "grain_oil", 50, 15, "非转基因压榨菜籽油，1.8升。", "month"),
    ItemPlan("挂面1kg", "grain_oil", 12, 20, "鸡蛋挂面，1公斤装。"),
    ItemPlan("毛巾（两条装）", "daily", 20, 15, "纯棉毛巾两条，颜色随机。"),
    ItemPlan("洗衣液2kg", "cleaning", 35, 12, "薰衣草香型洗衣液，2公斤装。"),
    ItemPlan("牙膏套装", "daily", 25, 15, "牙膏两支、软毛牙刷两支。"),
    ItemPlan("抽纸（6包）", "daily", 15, 20, "三层抽取式面巾纸六包，每包100抽。"),
    ItemPlan("笔记本（5本）", "stationery", 10, 20, "B5软抄本五本，适合学生使用。"),
    ItemPlan("雨伞", "daily", 45, 7, "三折晴雨伞，黑胶防晒。"),
    ItemPlan("理发服务", "service", 30, 10, "社区理发室理发一次，凭券预约；行动不便的老人可预约上门。", "month"),
    ItemPlan("家电清洗", "service", 120, 4, "空调或油烟机深度清洗一次，师傅上门，请提前三天预约。"),
    ItemPlan("修脚", "service", 40, 6, "专业修脚师傅服务一次，含足部护理。"),
)
OPTIONAL = (
    ItemPlan("面粉2.5kg", "grain_oil", 25, 10, "高筋小麦粉2.5公斤，做面条、包饺子都合适。"),
    ItemPlan("杂粮礼盒", "grain_oil", 80, 5, "小米、红豆、绿豆、黑米等六种杂粮组合。"),
    ItemPlan("卷纸（10卷）", "daily", 22, 15, "四层卫生卷纸十卷装。"),
    ItemPlan("香皂（3块装）", "daily", 12, 15, "植物精油香皂三块。"),
    ItemPlan("保温饭盒", "daily", 70, 5, "不锈钢双层保温饭盒，1.2升。"),
    ItemPlan("床上四件套", "daily", 200, 4, "纯棉床单、被套、枕套四件套，1.5米床适用。", "year"),
    ItemPlan("洗洁精1.5kg", "cleaning", 12, 15, "食品级洗洁精，不伤手。"),
    ItemPlan("84消毒液", "cleaning", 10, 15, "家用含氯消毒液1升，附使用说明。"),
    ItemPlan("拖把", "cleaning", 40, 5, "免手洗平板拖把，附两块替换布。"),
    ItemPlan("中性笔（一盒）", "stationery", 12, 10, "0.5毫米黑色中性笔十二支。"),
    ItemPlan("儿童书包", "stationery", 90, 4, "减负护脊书包，适合小学生。"),
    ItemPlan("家政保洁2小时", "service", 100, 4, "家政阿姨上门保洁两小时，独居老人和困难家庭优先。"),
    ItemPlan("磨刀修伞", "service", 10, 10, "社区便民服务日磨刀或修伞一次。"),
    ItemPlan("电饭煲", "other", 300, 4, "3升智能电饭煲，一年保修。", "year"),
    ItemPlan("绿植盆栽", "other", 25, 7, "绿萝或吊兰一盆。"),
    ItemPlan("老花镜", "other", 30, 7, "多种度数可选，兑换时现场试戴。"),
)
SOLD_OUT = ItemPlan("鸡蛋（30枚）", "grain_oil", 30, 0, "本地土鸡蛋30枚，每周三到货，兑完即止。")
WINDOW = ItemPlan("保温杯（限时兑换）", "daily", 55, 6, "500毫升不锈钢保温杯。限时兑换，活动结束后下架。")
RETIRED = ItemPlan("月饼礼盒", "other", 50, 7, "节日限定礼盒，节后已下架。")


class Timeline:
    """Changes to one quantity over time (free stock, available points): none may take it below zero."""

    def __init__(self, events=()):
        self.events: list[tuple[datetime, int]] = list(events)

    def fits(self, changes) -> bool:
        running = 0
        for _at, delta in sorted(self.events + changes):  # at a tie the decrease first: the stricter order
            running += delta
            if running < 0:
                return False
        return True

    @property
    def total(self) -> int:
        return sum(delta for _at, delta in self.events)


class Move(NamedTuple):
    """A StockMovement to write; `planned` is the voucher's plan, if any."""

    at: datetime
    kind: str
    stock: int
    reserved: int
    issued: int
    unit: object
    planned: object
    actor: object
    reason: str


@dataclass
class Shelf:
    """An item while it is planned: its shelf life, free-stock timeline and movements."""

    plan: ItemPlan
    community: object
    item: Item
    days: int  # the community's voucher days
    opens: datetime
    closes: datetime | None = None  # a voucher of the retired item had to end before this
    stock: Timeline = field(default_factory=Timeline)
    moves: list[Move] = field(default_factory=list)
    sold_out: bool = False  # every unit went: its vouchers never give one back


@dataclass
class Planned:
    shelf: Shelf
    account: PointsAccount
    at: datetime
    expires_at: datetime
    state: str
    end: datetime | None = None  # redeemed_at or closed_at
    reserved_by: object = None
    undo: str = ""  # the reason, if the hand-over was undone and done again
    voucher: Voucher | None = None


class RowsPart:
    """The rows of what ExchangeBuilder planned, in the shapes the exchange services write them."""

    def write(self) -> dict[str, int]:
        for shelves in self.shelves.values():  # the eggs: exactly as many as were reserved, all gone
            for shelf in shelves:
                if shelf.sold_out and (taken := sum(p.shelf is shelf for p in self.planned)):
                    self._stock_in(shelf.community, shelf, shelf.opens, taken)
        db.session.flush()  # item ids
        self.planned.sort(key=lambda p: p.at)
        for planned in self.planned:
            planned.voucher = self._voucher(planned)
        db.session.flush()  # voucher ids, for the ledger keys and the movements
        self._post_points()
        stock_ins = self._write_movements()
        db.session.flush()  # movement ids, for the audit entries
        self._audits(stock_ins)
        return self._counts()

    def _voucher(self, p: Planned) -> Voucher:
        redeemed = p.state == "redeemed"
        voucher = Voucher(
            public_id=secrets.token_urlsafe(16),
            code=new_code(),
            community_id=p.shelf.item.community_id,
            item_id=p.shelf.item.id,
            user_id=p.account.user_id,
            price=p.shelf.item.price,
            state=p.state,
            expires_at=p.expires_at,
            redeemed_at=(p.end + timedelta(minutes=5) if p.undo else p.end) if redeemed else None,
            redeemed_by_id=self.stewards[p.shelf.item.community_id].id if redeemed else None,
            closed_at=p.end if p.state in ("cancelled", "expired") else None,
            reserved_by_id=getattr(p.reserved_by, "id", None),
            handovers=(2 if p.undo else 1) if redeemed else 0,
            created_at=p.at,
        )
        db.session.add(voucher)
        return voucher

    def _steps(self, p: Planned):
        """(at, step) for what happened to a voucher, in order: as reserve, hand_over, undo, cancel, expire_due do."""
        yield p.at, "reserve"
        if p.state == "redeemed":
            yield p.end, "handover"
            if p.undo:
                yield p.end + timedelta(minutes=3), "undo"
                yield p.end + timedelta(minutes=5), "handover"
        elif p.state in ("cancelled", "expired"):
            yield p.end, "release"

    def _post_points(self) -> None:
        """The entries ledger.services would post, in time order, then each account moved by their sums at once.

        Posting them one by one through ledger.post costs a second on PostgreSQL; the history Timelines
        have already shown every step affordable at its moment, and the accounts' CHECKs guard the result."""
        steps = [(at, n, i, step) for i, p in enumerate(self.planned) for n, (at, step) in enumerate(self._steps(p))]
        spent: dict[int, LedgerEntry] = {}
        moved: dict[int, list[int]] = {}  # account id -> [amount, held]
        for at, _n, index, step in sorted(steps):
            p = self.planned[index]
            voucher, price, steward = p.voucher, p.voucher.price, self.stewards[p.voucher.community_id]
            if step == "reserve":
                actor = p.reserved_by or p.account.user
                entry = self._entry(p, "hold", "hold", 0, price, at, actor, memo=p.shelf.item.name)
            elif step == "handover":
                key = f"spend:{2 if index in spent else 1}"
                entry = spent[index] = self._entry(p, "spend", key, -price, -price, at, steward)
            elif step == "undo":
                db.session.flush()  # the spend's id, which the reversal points at
                first = spent[index]
                entry = self._entry(p, "reversal", "", price, price, at, steward, memo=p.undo, reverses=first)
                before = {"redeemed_at": p.end.isoformat(), "redeemed_by_id": steward.id}
                audit(steward, "exchange.handover_undo", voucher, before=before, after={"reason": p.undo}).at = at
            else:
                actor = p.account.user if p.state == "cancelled" else None
                entry = self._entry(p, "release", "release", 0, -price, at, actor, memo=p.state)
            total = moved.setdefault(p.account.id, [0, 0])
            total[0] += entry.amount
            total[1] += entry.held_delta
        if not moved:
            return
        table = PointsAccount.__table__
        db.session.execute(
            table.update()
            .where(table.c.id == bindparam("account"))
            .values(balance=table.c.balance + bindparam("amount"), held=table.c.held + bindparam("held")),
            [{"account": key, "amount": amount, "held": held} for key, (amount, held) in moved.items()],
        )
        for account in (a for accounts in self.accounts.values() for a in accounts if a.id in moved):
            db.session.expire(account, ["balance", "held"])

    @staticmethod
    def _entry(p: Planned, kind, key, amount, held, at, actor, memo="", reverses=None) -> LedgerEntry:
        """One entry as the exchange services write it: keyed by its voucher and step, or a reversal's key."""
        source = reverses or p.voucher
        entry = LedgerEntry(
            account_id=p.account.id,
            kind=kind,
            amount=amount,
            held_delta=held,
            source_type=type(source).__name__,
            source_id=source.id,
            idempotency_key=f"reversal:{reverses.id}" if reverses else f"voucher:{p.voucher.id}:{key}",
            reverses_id=getattr(reverses, "id", None),
            actor_id=getattr(actor, "id", None),
            memo=memo[:300],
            at=at,
        )
        db.session.add(entry)
        return entry

    def _write_movements(self) -> list:
        """Each voucher's movements beside the items' own, then every item's counters from their sums;
        the stock-ins and stock-take counts, with the shelf's stock before them, for their audit entries."""
        for p in self.planned:
            steward = self.stewards[p.voucher.community_id]
            for at, step in self._steps(p):
                if step == "reserve":
                    move = Move(at, "reserve", -1, 1, 0, None, p, p.reserved_by or p.account.user, "")
                elif step == "handover":
                    move = Move(at, "handover", 0, -1, 1, None, p, steward, "")
                elif step == "undo":
                    move = Move(at, "undo", 0, 1, -1, None, p, steward, p.undo)
                else:
                    actor = p.account.user if p.state == "cancelled" else None
                    move = Move(at, "release", 1, -1, 0, None, p, actor, p.state)
                p.shelf.moves.append(move)
        stock_ins = []
        for shelf in (s for shelves in self.shelves.values() for s in shelves):
            moves = sorted(shelf.moves, key=lambda m: m.at)
            rows = [self._movement(shelf.item, move) for move in moves]
            db.session.add_all(rows)
            on_shelf = 0  # stock + reserved: what a stock-take counts
            for move, row in zip(moves, rows, strict=True):
                if row.kind in ("donation", "restock", "count"):
                    stock_ins.append((shelf, move.actor, row, on_shelf))
                on_shelf += row.stock_delta + row.reserved_delta
            shelf.item.stock = sum(m.stock_delta for m in rows)
            shelf.item.reserved = sum(m.reserved_delta for m in rows)
            shelf.item.issued = sum(m.issued_delta for m in rows)
        return stock_ins

    def _audits(self, stock_ins) -> None:
        """The entries volunteer.exchange.catalogue writes: the settings, each item saved (and the seasonal one
        taken off the shelf), each restock and donation, and each stock-take."""
        for community in self.communities:
            admin, days = self.admins[community.id], self.settings[community.id].voucher_days
            entry = audit(admin, "exchange.settings", self.settings[community.id], community_id=community.id)
            entry.after, entry.at = {"voucher_days": days}, self.at(self.start, 9)
        for shelf in (s for shelves in self.shelves.values() for s in shelves):
            admin = self.admins[shelf.item.community_id]
            saved = snapshot(shelf.item, *ITEM_FIELDS)
            audit(admin, "exchange.item_save", shelf.item, after=saved | {"active": True}).at = shelf.opens
            if shelf.closes:
                audit(
                    admin, "exchange.item_save", shelf.item, before=saved | {"active": True}, after=saved
                ).at = shelf.closes
        for shelf, actor, row, on_shelf in stock_ins:
            if row.kind == "count":
                counted = {"expected": on_shelf, "counted": on_shelf + row.stock_delta}
                after = {"reason": row.reason, "counted": 1, "differences": {str(shelf.item.id): counted}}
                entry = audit(
                    actor, "exchange.stocktake", shelf.community, community_id=shelf.community.id, after=after
                )
            else:
                after = {"kind": row.kind, "quantity": row.stock_delta, "unit_id": row.unit_id, "note": row.reason}
                entry = audit(actor, f"exchange.{row.kind}", shelf.item, after=after | {"movement_id": row.id})
            entry.at = row.at

    @staticmethod
    def _movement(item, move: Move) -> StockMovement:
        return StockMovement(
            item_id=item.id,
            kind=move.kind,
            stock_delta=move.stock,
            reserved_delta=move.reserved,
            issued_delta=move.issued,
            unit_id=getattr(move.unit, "id", None),
            voucher_id=move.planned.voucher.id if move.planned else None,
            actor_id=getattr(move.actor, "id", None),
            reason=move.reason,
            at=move.at,
        )

    def _counts(self) -> dict[str, int]:
        moves = [m for shelves in self.shelves.values() for s in shelves for m in s.moves]
        return {
            "exchange items": sum(len(s) for s in self.shelves.values()),
            "vouchers": len(self.planned),
            "hand-overs": sum(p.state == "redeemed" for p in self.planned),
            "donations": sum(m.kind == "donation" for m in moves),
        }


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
