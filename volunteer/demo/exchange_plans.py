"""The demo supermarket's plans: the catalogue, the timeline of a shelf and a planned voucher."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from ..exchange.models import Item, Voucher
from ..ledger.models import PointsAccount

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
