"""The demo's credit points: each community's indicators and a year of declarations in every state.

The credit services (volunteer.credit.services) each open their own write transaction and commit,
which would break the demo's one-transaction build. So this module writes the rows they write, in
the same shapes: the declaration's state, recommendation, appealed flag, points_awarded and
approved_at; one DeclarationEvent per step by the right person (the resident, the compound's
collector, one of its council members, the community admin); audit entries for the decisions and
appeals; and, for each approval, one earn_credit entry posted through ledger.services.earn with the
service's key (f"declaration:{id}:approve") dated the day of the approval. Evidence photos go
through the real photos module (process, then save). Manual adjustments and one reversal are posted
through ledger.services.post, audited like adjust_points and reverse_entry do.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from ..core.audit import record
from ..core.models import local_zone, to_local
from ..credit.models import Declaration, DeclarationEvent, DeclarationPhoto, Indicator
from ..extensions import db
from ..ledger import services as ledger
from .pictures import Pictures

WINDOW_DAYS = 365  # the history reaches back a year from the day before seeding


class IndicatorPlan(NamedTuple):
    name: str
    description: str
    points: int
    evidence: bool
    max_awards: int | None
    period: str
    weight: int  # how often residents declare it, relative to the others
    stories: tuple[str, ...]  # what residents write when they declare it


CORE = (
    IndicatorPlan(
        "参加小区义务劳动",
        "参加社区或小区组织的清扫保洁、除草、清理小广告等义务劳动，每次不少于2小时，需附现场照片。",
        10,
        True,
        4,
        "quarter",
        8,
        (
            "{month}参加小区周末大扫除，清理了{place}的落叶和垃圾，约3小时。",
            "和邻居一起清理{place}的小广告和废弃杂物，干了一上午。",
            "参加社区组织的“洁净家园”活动，负责{place}除草。",
        ),
    ),
    IndicatorPlan(
        "垃圾分类示范户",
        "坚持垃圾分类、定时定点投放，经楼栋长或信息员当月抽查合格。",
        5,
        False,
        1,
        "month",
        7,
        (
            "{month}家里坚持垃圾分类，厨余垃圾单独投放，楼栋长抽查合格。",
            "本月按时分类投放，还帮助{place}的邻居学会分类。",
        ),
    ),
    IndicatorPlan(
        "参与议事协商会",
        "参加院落议事会、坝坝会，就小区停车、加装电梯、环境整治等事务提出意见建议。",
        5,
        False,
        12,
        "year",
        5,
        (
            "参加{month}的院落坝坝会，就{place}电动车充电桩位置提了建议。",
            "参加小区加装电梯议事协商会，帮助低层住户和高层住户沟通。",
            "参加物业服务评议会，反映{place}路灯不亮的问题。",
        ),
    ),
    IndicatorPlan(
        "调解邻里纠纷",
        "协助化解邻里矛盾纠纷（噪音、漏水、停车等），经当事双方认可并由信息员核实。",
        15,
        False,
        2,
        "year",
        2,
        (
            "{place}楼上楼下因卫生间漏水起了争执，我陪同两家找物业检修，双方和解。",
            "协调{place}两户因停车位发生的矛盾，双方达成共识。",
        ),
    ),
    IndicatorPlan(
        "志愿巡逻",
        "参加小区平安巡逻、夜间巡防，每次不少于1小时，需附巡逻照片。",
        8,
        True,
        4,
        "month",
        6,
        (
            "{month}参加夜间平安巡逻，重点查看了{place}的电动车停放和消防通道。",
            "周末晚上和红袖标志愿者一起巡逻{place}，发现一处井盖松动已报物业。",
        ),
    ),
    IndicatorPlan(
        "帮扶困难老人",
        "上门陪伴、代购、陪同就医等，帮扶独居、空巢和困难老人。",
        10,
        False,
        2,
        "month",
        5,
        (
            "每周给{place}独居的王婆婆代买米面菜，{month}陪她去社区医院复查。",
            "帮{place}的空巢老人交水电气费，教他用手机视频通话。",
        ),
    ),
    IndicatorPlan(
        "爱心捐赠",
        "向社区爱心超市或公益活动捐赠衣物、书籍、学习用品等，需附捐赠照片或回执。",
        5,
        True,
        4,
        "year",
        4,
        (
            "向社区爱心超市捐赠冬衣6件、儿童绘本10本。",
            "{month}参加“书香社区”活动，捐赠图书15册。",
        ),
    ),
    IndicatorPlan(
        "文明养犬",
        "办理养犬登记、出门牵绳、及时清理犬只粪便，本季度无投诉。",
        3,
        False,
        1,
        "quarter",
        3,
        (
            "家中狗狗已办理登记和免疫，出门都牵绳并随身带拾便袋。",
            "本季度遛狗全程牵绳、清理粪便，无邻居投诉。",
        ),
    ),
    IndicatorPlan(
        "楼道清洁",
        "主动清扫楼道、清理楼道堆放杂物，保持消防通道畅通。",
        3,
        False,
        2,
        "month",
        4,
        (
            "{month}主动清扫{place}楼道，清理了堆放的纸箱。",
            "和对门邻居一起把{place}楼道的杂物清走，消防通道畅通了。",
        ),
    ),
    IndicatorPlan(
        "消防安全宣传",
        "参与消防演练，或协助入户发放消防安全、燃气安全宣传资料。",
        5,
        False,
        2,
        "quarter",
        3,
        (
            "参加社区{month}的消防演练，协助疏散{place}的老人。",
            "协助网格员给{place}各户发放燃气安全宣传单。",
        ),
    ),
)

EXTRAS = (
    IndicatorPlan(
        "文明劝导",
        "在路口、小区门口劝导电动车佩戴头盔、不乱停乱放、不飞线充电。",
        5,
        False,
        4,
        "month",
        3,
        ("{month}在小区门口劝导电动车戴头盔，共劝导二十余人次。", "劝导{place}住户不要在楼道飞线充电。"),
    ),
    IndicatorPlan(
        "无偿献血",
        "参加无偿献血，凭献血证申报。",
        20,
        True,
        2,
        "year",
        1,
        ("参加街道组织的无偿献血，献血300毫升。",),
    ),
    IndicatorPlan(
        "参加社区文体活动",
        "参加社区组织的文艺演出、运动会、读书会等文体活动。",
        3,
        False,
        2,
        "month",
        3,
        ("参加社区{month}的广场舞展演。", "参加社区读书会，分享了一本好书。"),
    ),
    IndicatorPlan(
        "绿化认养",
        "认养小区绿地或花箱，定期浇水、修剪、除草。",
        5,
        False,
        1,
        "quarter",
        2,
        ("认养了{place}门口的两个花箱，每周浇水修剪。",),
    ),
)

# Active for part of the year, then switched off when the campaign ended.
RETIRED = IndicatorPlan(
    "创文迎检志愿服务",
    "全国文明城市创建迎检期间参加街面清洁、文明引导等志愿服务（迎检结束后停用）。",
    10,
    False,
    None,
    "none",
    4,
    ("迎检期间在{place}路口做文明引导志愿者。", "参加创文迎检街面清洁，清理绿化带垃圾。"),
)
RETIRED_AFTER_DAYS = 120  # switched off this many days before seeding

# 望平社区 raised this indicator's points during the year; earlier approvals keep their 5 points.
CHANGED = ("志愿巡逻", 5)
CHANGED_AFTER_DAYS = 150

RETURN_NOTES = (
    "请补充活动现场照片，照片要能看出时间和地点。",
    "请写明具体日期和活动组织人，便于核实。",
    "说明太简单了，请补充做了哪些事、用了多长时间。",
    "请补充受帮扶老人的姓名和楼栋号（可电话告知我）。",
)
CHECK_NOTES = ("", "", "", "已与楼栋长核实，情况属实。", "已电话核实。", "现场见过，属实。")
ASSESS_APPROVE = (
    "情况属实，符合指标要求，建议通过。",
    "经议事会成员核实，同意计分。",
    "有现场照片和邻居证明，建议通过。",
    "多次参与，表现积极，建议通过。",
)
ASSESS_REJECT = (
    "未能提供有效证明，建议不予通过。",
    "与本月已计分的活动为同一次，建议不予通过。",
    "该情况属于本人应尽义务，不符合指标要求。",
)
APPROVE_NOTES = ("", "", "", "同意。", "同意，感谢付出！")
REJECT_REASONS = (
    "经核实，活动当天未签到，不予计分。",
    "与已计分的申报为同一次活动，不重复计分。",
    "不符合本指标的计分条件，可改报其他指标。",
    "证明材料不足，且未按要求补充。",
)
LIMIT_REASON = "本期该项积分已达上限，不再重复计分。"
APPEAL_REASONS = (
    "当天我确实参加了，签到表漏记了我的名字，组织人李老师可以证明。",
    "这次和上次不是同一次活动，上次是清扫，这次是除草，请重新考虑。",
    "我已补充了照片和邻居证明，请再审一次。",
)
APPEAL_APPROVE = ("经复核签到记录，情况属实，予以计分。", "复核后同意计分。")
APPEAL_REJECT = ("经复核，维持原决定。", "复核后仍无法核实，维持不予计分的决定。")
RESUBMIT_NOTE = "（补充：已补充活动时间、组织人和现场照片。）"

PLACES = ("3栋", "5栋", "1栋2单元", "小区南门", "中心花园", "地下车库", "4栋", "东门广场", "2栋", "6栋")
MONTHS = "一二三四五六七八九十"

# After "submitted": the steps of each outcome (a return-and-resubmit cycle may come first).
PATHS = {
    "submitted": (),
    "returned": ("returned",),
    "checked": ("checked",),
    "assessed": ("checked", "assessed"),
    "approved": ("checked", "assessed", "approved"),
    "rejected": ("checked", "assessed", "rejected"),
    "appealed": ("checked", "assessed", "rejected", "appealed"),
    "appeal_approved": ("checked", "assessed", "rejected", "appealed", "approved"),
    "appeal_rejected": ("checked", "assessed", "rejected", "appealed", "rejected"),
}
PENDING = ("submitted", "returned", "checked", "assessed", "appealed")
FINISHED_PER_COMMUNITY = 100
# The demo accounts' own declarations: lived-in pages, a few waiting in every queue of their compound.
DEMO_RESIDENT_PLAN = ["approved"] * 24 + ["rejected", "appeal_approved", "submitted", "returned", "checked", "assessed"]
DEMO_VOLUNTEER_PLAN = ["approved"] * 20 + ["appealed", "appeal_rejected", "submitted", "assessed"]


@dataclass
class _Declared:
    declaration: Declaration
    decisions: list = field(default_factory=list)  # (audit action, actor, before, after, at)
    approved_by: object = None


def _period_key(period: str, day: date):
    if period == "year":
        return day.year
    if period == "quarter":
        return day.year, (day.month - 1) // 3
    if period == "month":
        return day.year, day.month
    return None


class CreditBuilder:
    def __init__(self, *, communities, admins, collectors, councils, residents, demo_users, rng, today, written):
        self.communities = communities
        self.admins = admins  # community id -> admin
        self.collectors = collectors  # compound id -> collector
        self.councils = councils  # compound id -> [council members]
        self.residents = residents
        self.demo_users = demo_users  # (resident, volunteer)
        self.rng = rng
        self.today = today
        self.zone = local_zone()
        self.indicators: dict[int, list[tuple[Indicator, IndicatorPlan]]] = {}
        self.awards: Counter = Counter()  # (user id, indicator id, period key) -> approvals
        self.declared: list[_Declared] = []
        self.pictures = Pictures(rng, written)  # files written are removed by the caller if the build fails
        self.counts: Counter = Counter()

    # time -------------------------------------------------------------------------------------

    def moment(self, day: date) -> datetime:
        """Some time between 08:00 and 20:59 local on `day` (always before the seeding day)."""
        return datetime.combine(day, time(8), tzinfo=self.zone) + timedelta(minutes=self.rng.randrange(13 * 60))

    def days_ago(self, n: int) -> date:
        return self.today - timedelta(days=n)

    # indicators ------------------------------------------------------------------------------

    def build_indicators(self) -> None:
        created = self.moment(self.days_ago(WINDOW_DAYS + 20))
        for number, community in enumerate(self.communities):
            admin = self.admins[community.id]
            dropped = set(self.rng.sample(range(len(CORE)), self.rng.choice((0, 1, 1, 2))))
            plans = [p for i, p in enumerate(CORE) if i not in dropped]
            plans += self.rng.sample(EXTRAS, self.rng.choice((0, 1, 2)))
            rows = []
            for plan in [*plans, RETIRED]:
                points = plan.points
                changed = number == 0 and plan.name == CHANGED[0]
                if changed:
                    points = CHANGED[1]
                indicator = Indicator(
                    community_id=community.id,
                    name=plan.name,
                    description=plan.description,
                    points=points,
                    evidence_required=plan.evidence,
                    max_awards=plan.max_awards,
                    period=plan.period,
                    active=True,
                    created_at=created,
                )
                db.session.add(indicator)
                rows.append((indicator, plan))
            db.session.flush()
            for indicator, plan in rows:
                after = self._snapshot(indicator)
                self._audit(admin, "credit_indicator.create", indicator, None, after, created)
                if indicator.name == CHANGED[0] and number == 0:
                    before = dict(after)
                    indicator.points = plan.points
                    at = self.moment(self.days_ago(CHANGED_AFTER_DAYS))
                    self._audit(admin, "credit_indicator.update", indicator, before, self._snapshot(indicator), at)
                if plan is RETIRED:
                    before = dict(after)
                    indicator.active = False
                    at = self.moment(self.days_ago(RETIRED_AFTER_DAYS))
                    self._audit(admin, "credit_indicator.deactivate", indicator, before, self._snapshot(indicator), at)
            self.indicators[community.id] = rows
            self.counts["credit indicators"] += len(rows)

    @staticmethod
    def _snapshot(indicator: Indicator) -> dict:
        fields = ("name", "description", "points", "evidence_required", "max_awards", "period", "active")
        return {name: getattr(indicator, name) for name in fields}

    @staticmethod
    def _audit(actor, action: str, obj, before, after, at: datetime, **kw) -> None:
        entry = record(actor, action, obj, before=before, after=after, **kw)
        entry.at = at

    def points_on(self, indicator: Indicator, plan: IndicatorPlan, day: date) -> int:
        """The indicator's points on `day` (望平社区's changed indicator paid less before the change)."""
        if indicator.name == CHANGED[0] and indicator.community_id == self.communities[0].id:
            return CHANGED[1] if day < self.days_ago(CHANGED_AFTER_DAYS) else plan.points
        return indicator.points

    def open_on(self, plan: IndicatorPlan, day: date) -> bool:
        return plan is not RETIRED or day < self.days_ago(RETIRED_AFTER_DAYS)

    # photos ------------------------------------------------------------------------------------

    def photo(self, declaration: Declaration, at: datetime) -> None:
        name, picture = self.pictures.save_one()
        declaration.photos.append(
            DeclarationPhoto(
                filename=name, width=picture.width, height=picture.height, size=len(picture.data), created_at=at
            )
        )
        self.counts["evidence photos"] += 1

    # declarations ------------------------------------------------------------------------------

    def build_declarations(self) -> None:
        demo_resident, demo_volunteer = self.demo_users
        staff = {u.id for u in self.collectors.values()} | {u.id for us in self.councils.values() for u in us}
        for plan, user in ((DEMO_RESIDENT_PLAN, demo_resident), (DEMO_VOLUNTEER_PLAN, demo_volunteer)):
            for outcome in plan:
                self.declare(user, outcome)
        for community in self.communities:
            people = [
                u
                for u in self.residents
                if u.building.compound.community_id == community.id and u.id not in staff and u not in self.demo_users
            ]
            weights = [self.rng.choice((0, 0, 0, 1, 1, 2, 4, 8)) for _ in people]
            by_compound = defaultdict(list)
            for user, weight in zip(people, weights, strict=True):
                if weight:
                    by_compound[user.building.compound_id].append(user)

            def pick(compound_id=None, people=people, weights=weights, by_compound=by_compound):
                if compound_id is not None:
                    return self.rng.choice(by_compound[compound_id])
                return self.rng.choices(people, weights=weights)[0]

            for compound in community.compounds:  # every queue of every compound has something waiting
                for outcome, low, high in (("submitted", 1, 3), ("checked", 1, 2), ("assessed", 0, 1)):
                    for _ in range(self.rng.randint(low, high)):
                        self.declare(pick(compound.id), outcome)
            outcomes = ["returned"] * self.rng.randint(1, 3) + ["assessed"] * self.rng.randint(1, 2)
            outcomes += ["appealed"] * self.rng.randint(1, 2)
            outcomes += ["appeal_approved"] * self.rng.randint(1, 2) + ["appeal_rejected"] * self.rng.randint(1, 2)
            rejected = self.rng.randint(6, 10)
            outcomes += ["rejected"] * rejected + ["approved"] * (FINISHED_PER_COMMUNITY - rejected)
            for outcome in outcomes:
                self.declare(pick(), outcome)

    def _steps(self, outcome: str) -> list[str]:
        steps = list(PATHS[outcome])
        if outcome != "returned" and self.rng.random() < 0.12:
            steps[:0] = ["returned", "submitted"]
        return steps

    def _days(self, outcome: str, steps: list[str]) -> list[date]:
        """The day of the submission and of each step: finished ones anywhere in the year, pending ones recent."""
        gaps = [self.rng.randint(1, 4) for _ in steps]
        if outcome in PENDING:
            end = self.days_ago(self.rng.randint(1, 8))
        else:
            end = self.days_ago(self.rng.randint(1, WINDOW_DAYS - sum(gaps)))
        days = [end]
        for gap in reversed(gaps):
            days.insert(0, days[0] - timedelta(days=gap))
        return days

    def _choose(self, user, outcome: str, steps: list[str], days: list[date]):
        """An indicator open on the submission day whose limit an approval (or a pending one) leaves room for."""
        rows = self.indicators[user.building.compound.community_id]
        open_rows = [(i, p) for i, p in rows if self.open_on(p, days[0])]
        if outcome in PENDING:
            open_rows = [(i, p) for i, p in open_rows if p is not RETIRED]
        awarded = "approved" in steps
        decided_on = days[-1] if awarded else self.today
        for _ in range(12):
            indicator, plan = self.rng.choices(open_rows, weights=[p.weight for _i, p in open_rows])[0]
            if outcome not in ("approved", "appeal_approved", "assessed", "appealed") or plan.max_awards is None:
                return indicator, plan, True
            key = (user.id, indicator.id, _period_key(plan.period, decided_on))
            if self.awards[key] < plan.max_awards:
                self.awards[key] += 1
                return indicator, plan, True
        # Every try was over its limit: an approval is rejected for that reason; a pending one stays
        # (the admin will be told the limit is reached when deciding it).
        return indicator, plan, not awarded

    def declare(self, user, outcome: str) -> None:
        steps = self._steps(outcome)
        days = self._days(outcome, steps)
        indicator, plan, room = self._choose(user, outcome, steps, days)
        if not room:  # an approval would pass the limit: rejected for that reason instead
            outcome, steps = "rejected", [s for s in steps if s not in ("approved", "appealed")]
            steps = steps[: steps.index("rejected") + 1] if "rejected" in steps else [*steps, "rejected"]
            days = days[: len(steps) + 1]
        compound = user.building.compound
        story = self.rng.choice(plan.stories).format(
            place=self.rng.choice(PLACES), month=MONTHS[self.rng.randrange(10)] + "月"
        )
        submitted_at = self.moment(days[0])
        declaration = Declaration(
            community_id=compound.community_id,
            compound_id=compound.id,
            user=user,
            indicator=indicator,
            description=story,
            state="submitted",
            created_at=submitted_at,
            appealed=False,
        )
        if plan.evidence or self.rng.random() < 0.08:
            for _ in range(self.rng.choice((1, 1, 2))):
                self.photo(declaration, submitted_at)
        db.session.add(declaration)
        declared = _Declared(declaration)
        self._event(declaration, user, None, "submitted", "", submitted_at)
        admin = self.admins[compound.community_id]
        recommend_reject = room and "rejected" in steps and self.rng.random() < 0.8
        at = submitted_at
        for step, day in zip(steps, days[1:], strict=True):
            at = self.moment(day)
            before_state = declaration.state
            if step == "returned":
                self._event(declaration, self.collectors[compound.id], before_state, step, self.pick(RETURN_NOTES), at)
            elif step == "submitted":  # resubmitted with more detail
                declaration.description = story + RESUBMIT_NOTE
                if len(declaration.photos) < 3 and (plan.evidence or self.rng.random() < 0.5):
                    self.photo(declaration, at)
                self._event(declaration, user, before_state, step, "", at)
            elif step == "checked":
                self._event(declaration, self.collectors[compound.id], before_state, step, self.pick(CHECK_NOTES), at)
            elif step == "assessed":
                declaration.recommendation = "reject" if recommend_reject else "approve"
                reasons = ASSESS_REJECT if recommend_reject else ASSESS_APPROVE
                self._event(
                    declaration, self.rng.choice(self.councils[compound.id]), before_state, step, self.pick(reasons), at
                )
            elif step == "rejected":
                if before_state == "appealed":
                    reason = self.pick(APPEAL_REJECT)
                else:
                    reason = self.pick(REJECT_REASONS) if room else LIMIT_REASON
                self._event(declaration, admin, before_state, step, reason, at)
                declared.decisions.append(
                    (
                        admin,
                        "credit_declaration.reject",
                        {"state": before_state, "points_awarded": None},
                        {"state": "rejected", "reason": reason},
                        at,
                    )
                )
            elif step == "appealed":
                reason = self.pick(APPEAL_REASONS)
                declaration.appealed = True
                self._event(declaration, user, before_state, step, reason, at)
                declared.decisions.append(
                    (
                        user,
                        "credit_declaration.appeal",
                        {"state": "rejected"},
                        {"state": "appealed", "reason": reason},
                        at,
                    )
                )
            elif step == "approved":
                note = self.pick(APPEAL_APPROVE if before_state == "appealed" else APPROVE_NOTES)
                points = self.points_on(indicator, plan, day)
                declaration.points_awarded = points
                declaration.approved_at = at
                declared.approved_by = admin
                self._event(declaration, admin, before_state, step, note, at)
                declared.decisions.append(
                    (
                        admin,
                        "credit_declaration.approve",
                        {"state": before_state, "points_awarded": None},
                        {"state": "approved", "points_awarded": points, "note": note},
                        at,
                    )
                )
        declaration.updated_at = at
        self.declared.append(declared)
        label = outcome if outcome in ("appeal_approved", "appeal_rejected") else declaration.state
        self.counts[label] += 1

    def pick(self, options):
        return self.rng.choice(options)

    @staticmethod
    def _event(declaration: Declaration, actor, from_state, to_state: str, note: str, at: datetime) -> None:
        declaration.events.append(
            DeclarationEvent(actor_id=actor.id, from_state=from_state, to_state=to_state, note=note, at=at)
        )
        declaration.state = to_state

    def post_awards(self) -> None:
        """After the flush gave every declaration its id: the approvals' ledger entries, then the audit entries
        (added last, so the ledger's queries do not flush them one at a time)."""
        accounts = {}
        for item in self.declared:
            declaration = item.declaration
            if declaration.state != "approved":
                continue
            owner = (declaration.user_id, declaration.community_id)
            if owner not in accounts:
                accounts[owner] = ledger.account_for(*owner)
            ledger.earn(
                accounts[owner],
                declaration.points_awarded,
                kind="earn_credit",
                key=f"declaration:{declaration.id}:approve",
                source=declaration,
                actor=item.approved_by,
                memo=declaration.indicator.name,
                at=declaration.approved_at,
            )
        for item in self.declared:
            for actor, action, before, after, at in item.decisions:
                self._audit(actor, action, item.declaration, before, after, at)

    # manual adjustments ------------------------------------------------------------------------

    def adjust(self, community, user, points: int, reason: str, day: date, source=None):
        admin = self.admins[community.id]
        account = ledger.account_for(user.id, community.id)
        at = self.moment(day)
        self.counts["adjustments"] += 1
        posting = ledger.post(
            account,
            "adjust",
            key=f"demo:adjust:{community.id}:{self.counts['adjustments']}",
            amount=points,
            source=source,
            actor=admin,
            memo=reason,
            at=at,
        )
        self._audit(
            admin,
            "points.adjust",
            posting.entry,
            None,
            {"user_id": user.id, "points": points, "reason": reason},
            at,
            community_id=community.id,
        )
        return posting.entry

    def build_adjustments(self) -> None:
        demo_resident = self.demo_users[0]
        approved = [d.declaration for d in self.declared if d.declaration.state == "approved"]
        for number, community in enumerate(self.communities):
            mine = [d for d in approved if d.community_id == community.id and d.user not in self.demo_users]
            people = sorted({d.user for d in mine}, key=lambda u: u.id)
            first, second = self.rng.sample(people, 2)
            self.adjust(
                community,
                first,
                10,
                "补录：社区秋季运动会志愿服务（纸质签到表）",
                self.days_ago(self.rng.randint(20, 60)),
            )
            self.adjust(
                community, second, 20, "获评街道“最美家庭”，社区奖励积分", self.days_ago(self.rng.randint(60, 200))
            )
            # Points taken back for an approval that turned out wrong (the declaration is the source).
            late = [d for d in mine if self.days_ago(200) <= to_local(d.approved_at).date() <= self.days_ago(15)]
            wrong = self.rng.choice(late)
            self.adjust(
                community,
                wrong.user,
                -wrong.points_awarded,
                "经复查，该次活动本人未实际到场，扣回已发积分",
                to_local(wrong.approved_at).date() + timedelta(days=self.rng.randint(3, 10)),
                source=wrong,
            )
            if number == 0:
                self.adjust(community, demo_resident, 15, "补录：协助社区组织重阳节敬老活动", self.days_ago(40))
                self._mistake(community, people)

    def _mistake(self, community, people) -> None:
        """Points given to the wrong neighbour, reversed the next day, then given to the right one."""
        wrong, right = self.rng.sample(people, 2)
        day = self.days_ago(self.rng.randint(25, 35))
        reason = "补录：协助社区开展端午包粽子活动"
        entry = self.adjust(community, wrong, 8, reason, day)
        admin = self.admins[community.id]
        at = self.moment(day + timedelta(days=1))
        memo = "录入错人（同名不同楼栋），冲正；已改记到正确居民名下"
        reversal = ledger.post(
            entry.account,
            "reversal",
            key=f"reversal:{entry.id}",
            amount=-entry.amount,
            held_delta=-entry.held_delta,
            source=entry,
            actor=admin,
            memo=memo,
            reverses=entry,
            at=at,
        ).entry
        self._audit(
            admin,
            "points.reverse",
            reversal,
            {"entry_id": entry.id, "amount": entry.amount},
            {"reason": memo},
            at,
            community_id=community.id,
        )
        self.counts["reversals"] += 1
        self.adjust(community, right, 8, reason, day + timedelta(days=1))

    def run(self) -> dict[str, int]:
        self.build_indicators()
        self.build_declarations()
        db.session.flush()
        self.post_awards()
        self.build_adjustments()
        db.session.flush()
        total = sum(self.counts[s] for s in ("submitted", "returned", "checked", "assessed", "approved"))
        total += sum(self.counts[s] for s in ("rejected", "appealed", "appeal_approved", "appeal_rejected"))
        self.counts["declarations"] = total
        return dict(self.counts)


def build_credit(**kwargs) -> dict[str, int]:
    """Indicators, a year of declarations in every state, their points, a few adjustments; counts."""
    return CreditBuilder(**kwargs).run()
