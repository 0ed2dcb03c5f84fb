"""Every role against every protected page and object of another community: 403/404, never the data.

The routes come from the app's url_map, so a new route is covered the day it is added: each
URL argument is filled with an object of the OTHER community (b; c for the organiser of
street a, whose street also holds b), every route is fetched with GET and posted to with an
empty body, and the answer must be a refusal that shows nothing of the other community and
changes nothing. A route that is rightly open to an actor is listed in ALLOWED with the
reason, and its page is still searched for the other community's people; an empty POST that is
a valid form there (OWN_WRITES) may write the actor's own community's row of one named table, nothing else.
"""

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from volunteer.accounts.models import Role, RoleGrant, User
from volunteer.core.audit import AuditEntry
from volunteer.core.models import local_today
from volunteer.exchange import pins, vouchers
from volunteer.exchange.models import Voucher
from volunteer.extensions import db
from volunteer.letters import documents as letter_documents
from volunteer.letters import queue
from volunteer.letters.models import Document
from volunteer.org.models import MemberReport
from volunteer.service import checkin_codes
from volunteer.service.models import Activity

from . import crawl, factories
from .conftest import login
from .credit import factories as credit_factories
from .exchange import factories as exchange_factories
from .exchange import matrix_objects as exchange_objects
from .letters import matrix_objects as letter_objects
from .service import matrix_objects

# Open to everyone, or not a page at all; core.home is still searched for markers below, and the
# verification page (a document's key facts, for anyone holding its number) in its own test.
PUBLIC = {
    *{"core.home", "core.healthz", "core.set_language", "accounts.login", "accounts.register", "accounts.logout"},
    *{"verify.document", "verify.lookup"},
}

# URL argument -> the attribute of Side holding candidate ids for it.
ARGUMENTS = {
    "user_id": "users",
    "grant_id": "grants",
    "community_id": "community",
    "compound_id": "compound",
    "building_id": "building",
    "report_id": "report",
    "agreement_id": "agreement",
    "street_id": "street",
    "unit_id": "unit",
    "indicator_id": "indicator",
    "declaration_id": "declaration",
    "photo_id": "photo",
    "entry_id": "entries",
    "activity_id": "activity",
    "signup_id": "signup",
    "need_id": "need",
    "order_id": "order",
    "resource_id": "resource",
    "project_id": "project",
    "record_id": "record",
    "token": "token",
    "item_id": "item",
    "voucher_id": "voucher",
    "batch_id": "batch",
    "document_id": "document",
    "email_id": "email",
}

ACTORS = [
    "anonymous",
    "resident_a",
    "member_a",
    "collector_a",
    "council_a",
    "steward_a",
    "admin_a",
    "employer_a",
    "organiser_a",
]
LOGGED_IN = [a for a in ACTORS if a != "anonymous"]
ADMIN_PAGES = {
    # The list and create pages of an admin's own communities; ids of others are never offered.
    "core.audit": "the log of the admin's own communities; ?community=<other> is ignored",
    "users.index": "users of the admin's own communities",
    "users.desk_register": "desk registration into the admin's own buildings",
    "org.communities": "the admin's own communities",
    "org.reports": "双报到 reports of the admin's own communities; ?community=<other> is a 404",
    "org.report_new": "records a report in the admin's own communities",
    "org.units": "units are district-wide: names and contacts of employers, no residents",
    "org.unit_new": "units are district-wide; any admin may add one",
    "org.unit": "units are district-wide; the page lists only members and agreements of the viewer's communities",
    "credit.indicators": "indicators of the admin's own communities; ?community=<other> is a 404",
    "credit.admin_queue": "declarations waiting in the admin's own communities; ?community=<other> is a 404",
    "ledger.index": "links to the points pages of the admin's own communities",
}
STAFF = ["steward_a", "admin_a", "organiser_a"]
STEWARD_PAGES = {
    # The 1112 pages a steward (or an admin, or an organiser) runs for their own communities.
    **{
        f"service.{e}": f"{what} of the steward's own communities; ?community=<other> is a 404"
        for e, what in (
            ("records", "services waiting for verification"),
            ("tracker", "the 1112 tracker"),
            ("tracker_csv", "the 1112 tracker"),
        )
    },
    **{
        f"service.{e}": "publishes in the steward's own communities: the community box offers only those"
        for e in ("activity_new", "order_new", "resource_new", "project_new")
    },
    "service.record_enter": "enters a service in the steward's own communities for one of their volunteers",
    "service.records_verify": "verifies the steward's own communities' services; other ids are skipped (below)",
}
# The three lists and the activities of the viewer's own communities (as resident, volunteer or steward).
MEMBER_PAGES = {
    f"service.{e}": f"the {e} of the viewer's own communities; ?community=<other> is a 404"
    for e in ("activities", "resources", "projects")
}
MEMBERS = ["resident_a", "member_a", "steward_a", "admin_a", "organiser_a"]
# The exchange pages desk staff run for their own communities; no URL names a community or an object.
DESK_PAGES = {
    "exchange.items": "the catalogue of the steward's own communities; ?community=<other> is a 404",
    "exchange.item_new": "adds an item to the steward's own communities: the community box offers only those",
    "exchange.desk": "the desk of the steward's own communities; ?community=<other> is a 404",
    "exchange.desk_report": "the day's report of the steward's own communities; ?community=<other> is a 404",
    "exchange.desk_scan": "scans a voucher: another community's is answered other_community (404, tested below)",
    "exchange.desk_handover": "hands a voucher over: another community's is refused (404, tested below)",
}
# (actor, endpoint) -> why this actor may open it even though its URL names another community's object.
ALLOWED = {
    **{(a, "accounts.change_password"): "everyone changes their own password" for a in LOGGED_IN},
    **{(a, "ledger.my_points"): "everyone sees their own points; ?community=<other> is a 404" for a in LOGGED_IN},
    ("member_a", "org.my_report"): "a party member's own 双报到 page; the community names offered are public",
    ("employer_a", "org.staff"): "the employer's own staff only",
    ("steward_a", "users.desk_register"): "a steward registers residents into their own community's buildings",
    **{("admin_a", e): why for e, why in ADMIN_PAGES.items()},
    **{("organiser_a", e): why for e, why in ADMIN_PAGES.items()},
    ("organiser_a", "org.streets"): "the organiser's own street",
    ("organiser_a", "org.community_new"): "new communities in the organiser's own street",
    ("organiser_a", "org.unit_edit"): "organisers edit any unit (units are district-wide)",
    **{(a, "credit.mine"): "everyone's own declarations (an empty list if they made none)" for a in LOGGED_IN},
    ("resident_a", "credit.declare"): "a resident declares their own community's indicators",
    ("member_a", "credit.declare"): "a party member living in a is a resident there too",
    ("collector_a", "credit.collector_queue"): "declarations of the collector's own compound",
    ("council_a", "credit.council_queue"): "declarations of the council member's own compound",
    **{(a, "service.trail"): "everyone's own service trail" for a in LOGGED_IN},
    **{(a, "service.my_card"): "everyone's own member card" for a in LOGGED_IN},
    **{(a, "service.my_card_png"): "everyone's own member card, as an image" for a in LOGGED_IN},
    **{(a, "service.checkin"): "everyone checks themselves in; another's activity is refused" for a in LOGGED_IN},
    **{(a, e): why for e, why in STEWARD_PAGES.items() for a in STAFF},
    **{(a, e): why for e, why in MEMBER_PAGES.items() for a in MEMBERS},
    ("resident_a", "service.needs"): "a resident's own needs",
    ("member_a", "service.needs"): "a party member living in a posts needs there too: their own",
    **{(a, "service.needs"): "needs of the steward's own communities; ?community=<other> is a 404" for a in STAFF},
    ("resident_a", "service.need_new"): "a resident posts a need to their own community",
    ("member_a", "service.need_new"): "a party member living in a is a resident there too",
    ("member_a", "service.orders"): "open orders of the volunteer's own communities; ?community=<other> is a 404",
    **{(a, "service.orders"): "orders of the steward's own communities; ?community=<other> is a 404" for a in STAFF},
    ("member_a", "service.report"): "a volunteer reports a service to their own community",
    **{(a, "exchange.my_vouchers"): "everyone's own vouchers (an empty list if they hold none)" for a in LOGGED_IN},
    **{
        (a, "exchange.shop"): "the supermarkets of the viewer's own communities; ?community=<other> is a 404"
        for a in MEMBERS
    },
    **{(a, e): why for e, why in DESK_PAGES.items() for a in STAFF},
    **letter_objects.allowed(LOGGED_IN, admins=["admin_a", "organiser_a"]),
}


# (actor, endpoint) -> (table, why): an empty POST is a valid form there and may change that table (nothing else: no
# audit entry, no other table). None today: the letter settings refuse a body without their fields.
OWN_WRITES: dict[tuple[str, str], tuple[str, str]] = {}
# (actor, endpoint) -> (where a GET sends them, why): a page that is not theirs but has a counterpart that is.
SENT_ON = {("resident_a", "service.orders"): ("/service/needs", "a resident has no orders: their own needs instead")}


@pytest.fixture(autouse=True)
def _empty_queue():
    """A letters batch started here is queued in the app's memory queue: leave no task to the next test."""
    yield
    queue.get().huey.flush()


@dataclass
class Side:
    """The objects of one community as seen from outside it: candidate ids per URL argument."""

    community: list[int]
    compound: list[int]
    building: list[int]
    report: list[int]
    agreement: list[int]
    street: list[int]
    unit: list[int]
    users: list[int]  # paired with grants by position: grants[i] belongs to users[i]
    grants: list[int]
    markers: list[str] = field(default_factory=list)  # private text that must never show
    indicator: list[int] = field(default_factory=list)  # credit indicators
    declaration: list[int] = field(default_factory=list)  # credit declarations
    photo: list[int] = field(default_factory=list)  # their evidence photos
    entries: list[int] = field(default_factory=list)  # points ledger entries
    # 1112 service objects (tests/service/matrix_objects.py); token: a volunteer's member card
    activity: list[int] = field(default_factory=list)
    signup: list[int] = field(default_factory=list)
    need: list[int] = field(default_factory=list)
    order: list[int] = field(default_factory=list)
    resource: list[int] = field(default_factory=list)
    project: list[int] = field(default_factory=list)
    record: list[int] = field(default_factory=list)
    token: list[str] = field(default_factory=list)
    # exchange objects (tests/exchange/matrix_objects.py): items on sale, a live and a redeemed voucher
    item: list[int] = field(default_factory=list)
    voucher: list[int] = field(default_factory=list)
    # letters objects (tests/letters/matrix_objects.py): a batch, its letter (and a certificate), the letter's email
    batch: list[int] = field(default_factory=list)
    document: list[int] = field(default_factory=list)
    email: list[int] = field(default_factory=list)


def _grant(user, role) -> int:
    return db.session.scalar(select(RoleGrant.id).where(RoleGrant.user_id == user.id, RoleGrant.role == role))


def _report(user) -> int:
    return db.session.scalar(select(MemberReport.id).where(MemberReport.user_id == user.id))


def _private(*people) -> list[str]:
    return [text for p in people for text in (p.name, p.phone)]


def populate(d):
    """The `district` fixture plus people and agreements in c, and audit entries in b and c."""
    d.compound_c = factories.compound(d.c, name="安康小区")
    d.building_c = factories.building(d.compound_c, name="3栋")
    d.unit_c = factories.unit(name="西郊水厂")
    d.resident_c = factories.resident(d.building_c, name="蒋居民")
    d.member_c = factories.resident(d.building_c, name="沈党员", party_member=True)
    factories.report(d.member_c, d.c, d.unit_c)
    d.steward_c = factories.staff(Role.STEWARD, d.c, name="韩管家")
    d.admin_c = factories.staff(Role.ADMIN, d.c, name="杨主任")
    # Members of b and c employed by unit_a: employer_a's own staff, but another community's members.
    d.member_b2 = factories.resident(d.building_b, name="孔党员", party_member=True)
    factories.report(d.member_b2, d.b, d.unit_a)
    d.member_c2 = factories.resident(d.building_c, name="秦党员", party_member=True)
    factories.report(d.member_c2, d.c, d.unit_a)
    d.agreement_a = factories.agreement(d.unit_a, d.a, content="幸福共建条款甲")
    d.agreement_b = factories.agreement(d.unit_b, d.b, content="和平共建条款乙")
    d.agreement_c = factories.agreement(d.unit_c, d.c, content="安康共建条款丙")
    # Lives in a but is a steward in b: admin_a sees the account, yet may not take it over.
    d.two_homes = factories.resident(d.building_a, name="卢双栖")
    factories.grant(d.two_homes, Role.STEWARD, community_=d.b)
    factories.audit(d.admin_b, d.b, action="user.password_reset", object_id=d.resident_b.id)
    factories.audit(d.admin_c, d.c, action="user.password_reset", object_id=d.resident_c.id)
    # Credit indicators and a declaration with a photo in each community, waiting for its admin.
    for key, resident, text in (("a", d.resident_a, "幸福"), ("b", d.resident_b, "和平"), ("c", d.resident_c, "安康")):
        indicator = credit_factories.indicator(getattr(d, key), name=f"{text}指标")
        declaration = credit_factories.declaration(
            resident, indicator, "assessed", description=f"{text}申报", photos_=1
        )
        setattr(d, f"indicator_{key}", indicator)
        setattr(d, f"declaration_{key}", declaration)
        setattr(d, f"photo_{key}", declaration.photos[0])
    d.entry_a = _points(d.resident_a, d.a, "幸福积分备注甲")
    d.entry_b = _points(d.resident_b, d.b, "和平积分备注乙")
    d.entry_c = _points(d.resident_c, d.c, "安康积分备注丙")
    # One service object of each kind in each community, taken or claimed by its party member.
    for key, text, mark in (("a", "幸福", "甲"), ("b", "和平", "乙"), ("c", "安康", "丙")):
        member, resident = getattr(d, f"member_{key}"), getattr(d, f"resident_{key}")
        setattr(d, f"service_{key}", matrix_objects.create(getattr(d, key), member, resident, text, mark))
    # Exchange items (one with a photo and a unit's donation), a live voucher and a redeemed one of its resident.
    for key, text, mark in (("a", "幸福", "甲"), ("b", "和平", "乙"), ("c", "安康", "丙")):
        steward, resident, unit = (getattr(d, f"{role}_{key}") for role in ("steward", "resident", "unit"))
        setattr(d, f"exchange_{key}", exchange_objects.create(getattr(d, key), steward, resident, unit, text, mark))
    # A letter of each community's member (its batch, its failed email) and the member's certificate. c signs
    # its letters with a marker; a and b do not (organiser_a's empty POST saves their first one's settings: blank).
    for key, text, mark in (("a", "幸福", "甲"), ("b", "和平", "乙"), ("c", "安康", "丙")):
        member, admin = getattr(d, f"member_{key}"), getattr(d, f"admin_{key}")
        objects = letter_objects.create(getattr(d, key), member, admin, text, mark, signed=key == "c")
        setattr(d, f"letters_{key}", objects)
    # member_a has no smartphone: a's steward reserves for them at the desk, confirmed by their PIN.
    pins.set_pin(d.member_a, PIN, d.steward_a, community_id=d.a.id)
    exchange_factories.fund(d.member_a, d.a, 50)
    return d


def _points(user, community, memo):
    """A ledger entry (points earned) of `user` in `community`, its memo a marker."""
    from volunteer.core.database import begin_write
    from volunteer.ledger import services

    begin_write()
    account = services.account_for(user.id, community.id)
    entry = services.earn(account, 10, kind="earn_credit", key=f"matrix:{user.id}", memo=memo).entry
    db.session.commit()
    return entry.id


def _service(d, key: str) -> dict:
    objects = getattr(d, f"service_{key}")
    names = ("activity", "signup", "need", "order", "resource", "project", "record", "token")
    return {name: [getattr(objects, name)] for name in names}


def _exchange(d, key: str) -> dict:
    objects = getattr(d, f"exchange_{key}")
    return {"item": [objects.item, objects.plain_item], "voucher": [objects.voucher, objects.redeemed]}


def _credit(d, key: str) -> dict:
    return {
        "indicator": [getattr(d, f"indicator_{key}").id],
        "declaration": [getattr(d, f"declaration_{key}").id],
        "photo": [getattr(d, f"photo_{key}").id],
    }


def side_b(d) -> Side:
    markers = _private(d.resident_b, d.member_b, d.steward_b, d.admin_b, d.member_b2)
    return Side(
        community=[d.b.id],
        compound=[d.compound_b.id],
        building=[d.building_b.id],
        report=[_report(d.member_b)],
        agreement=[d.agreement_b.id],
        street=[d.street_b.id],
        unit=[d.unit_b.id],
        # member_b: the volunteer whose claim, records and trail b's pages hold
        users=[d.resident_b.id, d.admin_b.id, d.member_b.id],
        grants=[_grant(d.resident_b, Role.RESIDENT), _grant(d.admin_b, Role.ADMIN), _grant(d.member_b, Role.VOLUNTEER)],
        markers=[
            *markers,
            *side_c(d).markers,
            *["和平共建条款乙", "和平小区", "和平积分备注乙", "和平指标", "和平申报"],
            *d.service_b.markers,
            *d.exchange_b.markers,
            *d.letters_b.markers,
        ],
        **_credit(d, "b"),
        entries=[d.entry_b],
        **_service(d, "b"),
        **_exchange(d, "b"),
        **letter_objects.side(d.letters_b),
    )


def side_c(d) -> Side:
    markers = _private(d.resident_c, d.member_c, d.steward_c, d.admin_c, d.member_c2)
    return Side(
        community=[d.c.id],
        compound=[d.compound_c.id],
        building=[d.building_c.id],
        report=[_report(d.member_c)],
        agreement=[d.agreement_c.id],
        street=[d.street_b.id],
        unit=[d.unit_c.id],
        users=[d.resident_c.id, d.admin_c.id, d.member_c.id],
        grants=[_grant(d.resident_c, Role.RESIDENT), _grant(d.admin_c, Role.ADMIN), _grant(d.member_c, Role.VOLUNTEER)],
        markers=[
            *markers,
            *["安康共建条款丙", "安康小区", "安康积分备注丙", "安康指标", "安康申报"],
            *d.service_c.markers,
            *d.exchange_c.markers,
            *d.letters_c.markers,
        ],
        **_credit(d, "c"),
        entries=[d.entry_c],
        **_service(d, "c"),
        **_exchange(d, "c"),
        **letter_objects.side(d.letters_c),
    )


def side_a(d) -> Side:
    return Side(
        community=[d.a.id],
        compound=[d.compound_a.id],
        building=[d.building_a.id],
        report=[_report(d.member_a)],
        agreement=[d.agreement_a.id],
        street=[d.street_a.id],
        unit=[d.unit_a.id],
        # A party member living in a: a user page, and a volunteer with a trail and a claim there.
        users=[d.member_a.id],
        grants=[_grant(d.member_a, Role.RESIDENT)],
        entries=[d.entry_a],
        **_credit(d, "a"),
        **_service(d, "a"),
        # The item with a photo (the photo-less one's photo is rightly a 404) and the resident's vouchers.
        item=[d.exchange_a.item],
        voucher=[d.exchange_a.voucher, d.exchange_a.redeemed],
        # The letter only: admin_a opens it on every document route; the certificate is member_a's (below).
        **letter_objects.side(d.letters_a, certificate=False),
    )


def other_side(d, actor: str) -> Side:
    """What is foreign to `actor`: c and street b for the organiser of street a, b (and c) for the rest."""
    if actor == "organiser_a":
        return side_c(d)
    side = side_b(d)
    if actor == "employer_a":  # 孔党员 and 秦党员 work at unit_a: the employer's own staff
        own = set(_private(d.member_b2, d.member_c2))
        side.markers = [m for m in side.markers if m not in own]
    return side


class UnmappedArgument(Exception):
    pass


def urls_for(app, rule, side: Side) -> list[str]:
    """The rule's URL with each argument filled from `side`; one URL per candidate (users[i] with grants[i])."""
    unknown = set(rule.arguments) - ARGUMENTS.keys()
    if unknown:
        raise UnmappedArgument(
            f"{rule.endpoint} ({rule.rule}) has URL arguments {sorted(unknown)} that this test cannot fill: "
            "add them to ARGUMENTS and to Side"
        )
    pools = {a: getattr(side, ARGUMENTS[a]) for a in rule.arguments}
    count = max((len(p) for p in pools.values()), default=1)
    urls = []
    for i in range(count):
        url = crawl.build(app, rule.endpoint, **{a: p[min(i, len(p) - 1)] for a, p in pools.items()})
        if url not in urls:
            urls.append(url)
    return urls


def browser(make_client, d, actor: str):
    client = make_client()
    if actor != "anonymous":
        login(client, getattr(d, actor))
    return client


def _refusal_problem(actor: str, response) -> str | None:
    status = response.status_code
    if actor == "anonymous":
        if status == 302 and "/login" in response.headers.get("Location", ""):
            return None
        return None if status in (401, 403, 404, 405) else f"status {status}, expected a redirect to /login"
    return None if status in (403, 404, 405) else f"status {status}, expected 403/404/405"


def _allowed_problem(method: str, variant: bool, response, post_only: bool = False) -> str | None:
    status = response.status_code
    # An empty form is refused (4xx) or sent back (3xx); a GET-only page answers 405, and so does
    # a GET of a POST-only route.
    ok = set(range(300, 500)) - {304}
    if method == "GET":
        ok = {405} if post_only else {200, 400, 404} if variant else {200}
    return None if status in ok else f"status {status}, expected one of {sorted(ok)[:6]}"


def _sent_on_problem(target: str, response) -> str | None:
    location = urlsplit(response.headers.get("Location", "")).path
    if response.status_code in (302, 303) and location == target:
        return None
    return f"status {response.status_code} to {location!r}, expected a redirect to {target}"


def _get_problem(actor, rule, allowed, variant, response) -> str | None:
    if (actor, rule.endpoint) in SENT_ON:
        return _sent_on_problem(SENT_ON[actor, rule.endpoint][0], response)
    if allowed:
        return _allowed_problem("GET", variant, response, post_only="GET" not in rule.methods)
    return _refusal_problem(actor, response)


def _text(response) -> str:
    """The body as text; a binary one (the member card's PNG) is still searched for the markers."""
    return response.get_data().decode("utf-8", "replace")


def _check_get(client, actor, rule, allowed, url, variant, side) -> list[str]:
    response = client.get(url)
    problems = []
    problem = _get_problem(actor, rule, allowed, variant, response)
    if problem:
        problems.append(problem)
    if leaked := crawl.shown(_text(response), side.markers):
        problems.append(f"shows {leaked}")
    return problems


def _check_post(client, actor, rule, allowed, url, side) -> list[str]:
    """An empty POST: refused (or sent back, if allowed), nothing shown, nothing changed (but OWN_WRITES)."""
    before = crawl.snapshot()
    response = client.post(url, data={})
    own = OWN_WRITES.get((actor, rule.endpoint), ("",))[0]
    changed = [c for c in crawl.changes(before, crawl.snapshot()) if not c.startswith(f"{own} (")]
    problems = [f"changed {changed}"] if changed else []
    problem = _allowed_problem("POST", False, response) if allowed else _refusal_problem(actor, response)
    if problem:
        problems.append(problem)
    if leaked := crawl.shown(_text(response), side.markers):
        problems.append(f"shows {leaked}")
    return problems


def crawl_as(app, client, actor: str, side: Side) -> list[str]:
    """Every route as `actor` against `side`'s objects; returns a line per problem."""
    problems = []
    for rule in crawl.routes(app):
        if rule.endpoint in PUBLIC:
            continue
        allowed = (actor, rule.endpoint) in ALLOWED
        for url in urls_for(app, rule, side):
            # Plain; naming the other community; searching for its people (one character, so the
            # query echoed back into the page is not itself a marker).
            gets = [
                (url, False),
                (f"{url}?community={side.community[0]}", True),
                (f"{url}?q={side.markers[0][0]}", True),
            ]
            for target, variant in gets:
                for p in _check_get(client, actor, rule, allowed, target, variant, side):
                    problems.append(f"{actor} GET {target} [{rule.endpoint}]: {p}")
            for p in _check_post(client, actor, rule, allowed, url, side):
                problems.append(f"{actor} POST {url} [{rule.endpoint}]: {p}")
    if leaked := crawl.shown(client.get("/").get_data(as_text=True), side.markers):
        problems.append(f"{actor} GET / [core.home]: shows {leaked}")
    return problems


@pytest.mark.parametrize("actor", ACTORS)
def test_actor_gets_nothing_of_another_community(app, make_client, district, actor):
    d = populate(district)
    side = other_side(d, actor)
    client = browser(make_client, d, actor)
    audits = db.session.scalar(select(func.count(AuditEntry.id)))
    problems = crawl_as(app, client, actor, side)
    added = db.session.scalar(select(func.count(AuditEntry.id))) - audits
    if added:
        problems.append(f"{actor}: the crawl added {added} audit entr{'y' if added == 1 else 'ies'}")
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)


def test_every_url_argument_can_be_filled(app, district):
    """A new route with an argument this matrix cannot fill must fail here, not be skipped."""
    side = side_b(populate(district))
    for rule in crawl.routes(app):
        if rule.endpoint not in PUBLIC:
            assert urls_for(app, rule, side)


def test_every_allowed_entry_names_a_real_route(app):
    endpoints = {r.endpoint for r in crawl.routes(app)}
    assert {e for _, e in ALLOWED} <= endpoints
    assert {e for _, e in SENT_ON} <= endpoints
    assert OWN_WRITES.keys() <= ALLOWED.keys()
    assert not ALLOWED.keys() & SENT_ON.keys()


# --- forms that name another community's objects in their fields ---------------------------------


def _cross_cases(d):
    """(actor, url, data, statuses): a form of the actor's own community pointing at another's."""
    a_user = d.resident_a.id
    desk = {
        "name": "新居民",
        "phone": "13712345678",
        "building": d.building_b.id,
        "password": "password123",
        "confirm": "password123",
    }
    return [
        # A grant of b, revoked through a user of a.
        ("admin_a", f"/admin/users/{a_user}/roles/{_grant(d.resident_b, Role.RESIDENT)}/revoke", {}, {404}),
        (
            "admin_a",
            f"/admin/users/{a_user}/roles",
            {"role": "steward", "community": d.b.id, "compound": 0},
            {303, 403},
        ),
        (
            "admin_a",
            f"/admin/users/{a_user}/roles",
            {"role": "collector", "community": d.a.id, "compound": d.compound_b.id},
            {303, 400},
        ),
        # Someone living in a who is staff in b: visible to admin_a, but not theirs to take over.
        ("admin_a", f"/admin/users/{d.two_homes.id}/password", {"password": "newpass123"}, {403}),
        ("admin_a", f"/admin/users/{d.two_homes.id}/active", {"active": "0"}, {403}),
        ("steward_a", "/admin/users/desk/register", desk, {400}),
        (
            "admin_a",
            "/org/reports/new",
            {"phone": d.member_b2.phone, "community": d.b.id, "unit": d.unit_a.id, "year": 2026},
            {400},
        ),
        ("organiser_a", "/org/communities/new", {"street": d.street_b.id, "name": "西新社区"}, {400}),
        ("organiser_a", f"/org/units/{d.unit_c.id}/edit", {"name": ""}, {400}),
        *[(actor, url(d, "b"), data(d, "b"), statuses) for actor, url, data, statuses in SERVICE_FORMS.values()],
        *[(actor, url(d, "b"), data(d, "b"), statuses) for actor, url, data, statuses in EXCHANGE_FORMS.values()],
        *[(a, url(d, "b"), data(d, "b"), statuses) for a, url, data, statuses in letter_objects.CROSS_FORMS.values()],
        # A look-up writes nothing (its own-community control is in the exchange positive controls below).
        ("steward_a", "/exchange/desk/scan", {"value": _voucher_of(d, "b").code}, {404}),
        ("steward_a", "/exchange/desk/scan", {"value": vouchers.qr_token(_voucher_of(d, "b", "redeemed"))}, {404}),
    ]


def _day(days: int = 0) -> str:
    return (local_today() + timedelta(days=days)).isoformat()


def _checkin(d, key: str, mode: str, short: bool) -> dict:
    activity = db.session.get(Activity, getattr(d, f"service_{key}").activity)
    if short:
        return {"code": checkin_codes.short_code(activity, mode, checkin_codes.window_at())}
    return {"t": checkin_codes.token(activity, mode)}


def _new(**fields):
    """A create form naming community k ("a": the steward's own, "b": another) in its community box.
    Dates are functions, read when the form is sent (today is the app's local day)."""
    return lambda d, k: {"community": getattr(d, k).id, **{f: v() if callable(v) else v for f, v in fields.items()}}


# name -> (actor, url(d, key), data(d, key), statuses when key is "b"). With key "a" the same form
# names the actor's own community's objects and goes through (tested below), so b's refusal is
# for the community and not for a bad payload.
SERVICE_FORMS = {
    "activity_new": (
        "steward_a",
        lambda d, k: "/service/activities/new",
        _new(
            title="新活动",
            category="elderly",
            place="广场",
            day=lambda: _day(1),
            start="09:00",
            end="11:00",
            places="5",
        ),
        {400},
    ),
    "order_new": (
        "steward_a",
        lambda d, k: "/service/orders/new",
        _new(title="新订单", category="repair", description="", scheduled="", places="1"),
        {400},
    ),
    "resource_new": (
        "steward_a",
        lambda d, k: "/service/resources/new",
        _new(unit="0", kind="venue", title="新场地", description="", availability="", contact="", active="y"),
        {400},
    ),
    "project_new": (
        "steward_a",
        lambda d, k: "/service/projects/new",
        _new(kind="post", title="新岗位", description="", capacity="2", starts_on=_day, ends_on="", active="y"),
        {400},
    ),
    # b's volunteer entered in b, then in a (where they do not serve).
    "record_enter": (
        "steward_a",
        lambda d, k: "/service/records/enter",
        lambda d, k: {
            **{"phone": getattr(d, f"member_{k}").phone, "community": getattr(d, k).id, "served_on": _day(-1)},
            **{"hours": "2", "kind": "other", "description": "帮忙"},
        },
        {400},
    ),
    "record_enter_here": (
        "steward_a",
        lambda d, k: "/service/records/enter",
        lambda d, k: {
            **{"phone": getattr(d, f"member_{k}").phone, "community": d.a.id, "served_on": _day(-1)},
            **{"hours": "2", "kind": "other", "description": "帮忙"},
        },
        {400},
    ),
    # Another community's ticked record is skipped, not verified.
    "records_verify": (
        "steward_a",
        lambda d, k: "/service/records/verify",
        lambda d, k: {"ids": [getattr(d, f"service_{k}").record]},
        {303},
    ),
    "report": (
        "member_a",
        lambda d, k: "/service/records/report",
        lambda d, k: {"served_on": _day(-1), "hours": "1", "description": "巡逻", "project": _project(d, k)},
        {400},
    ),
    # b's volunteer's card scanned at a's activity; the code of b's activity typed or scanned by a's volunteer.
    "roster_card": (
        "steward_a",
        lambda d, k: f"/service/activities/{d.service_a.activity}/card",
        lambda d, k: {"card": getattr(d, f"service_{k}").token, "mode": "in"},
        {400},
    ),
    "checkin_code": ("member_a", lambda d, k: "/service/checkin", lambda d, k: _checkin(d, k, "in", True), {400}),
    "checkin_token": (
        "member_a",
        lambda d, k: "/service/checkin",
        lambda d, k: _checkin(d, k, "in", False),
        {400},
    ),
}


def _project(d, key: str) -> int:
    return getattr(d, f"service_{key}").project


PIN = "5826"  # member_a's desk PIN (set in populate): the steward reserves for them with it


def _voucher_of(d, key: str, which: str = "voucher") -> Voucher:
    return db.session.get(Voucher, getattr(getattr(d, f"exchange_{key}"), which))


# The same shape as SERVICE_FORMS: a's steward (or resident) names community k's exchange objects in a form.
EXCHANGE_FORMS = {
    "item_new": (
        "steward_a",
        lambda d, k: "/exchange/items/new",
        _new(
            **{"name": "新大米", "category": "grain_oil", "description": "", "price": "10", "per_person_limit": ""},
            **{"limit_period": "none", "available_from": "", "available_until": "", "active": "y"},
        ),
        {400},
    ),
    # b's voucher typed, or its QR scanned, at a's desk: not a's to hand over.
    "handover_code": (
        "steward_a",
        lambda d, k: "/exchange/desk/handover",
        lambda d, k: {"value": _voucher_of(d, k).code},
        {404},
    ),
    "handover_qr": (
        "steward_a",
        lambda d, k: "/exchange/desk/handover",
        lambda d, k: {"value": vouchers.qr_token(_voucher_of(d, k))},
        {404},
    ),
    "undo": (
        "steward_a",
        lambda d, k: f"/exchange/vouchers/{getattr(d, f'exchange_{k}').redeemed}/undo",
        lambda d, k: {"reason": "拿错了"},
        {404},
    ),
    # a's member, b's item: a's steward may not reserve it for them (and the member does not shop in b).
    "member_reserve": (
        "steward_a",
        lambda d, k: f"/exchange/desk/members/{d.service_a.token}/reserve",
        lambda d, k: {"item": getattr(d, f"exchange_{k}").item, "pin": PIN, "request_key": str(uuid.uuid4())},
        {404},
    ),
    "reserve": (
        "resident_a",
        lambda d, k: f"/exchange/shop/{getattr(d, f'exchange_{k}').item}/reserve",
        lambda d, k: {"request_key": uuid.uuid4().hex},
        {404},
    ),
}


@pytest.mark.parametrize("name", sorted(SERVICE_FORMS))
def test_service_forms_work_for_own_community(make_client, district, name):
    """The positive control of SERVICE_FORMS: naming the actor's own community's objects, it goes through."""
    _works_for_own_community(make_client, district, SERVICE_FORMS[name])


@pytest.mark.parametrize("name", sorted(EXCHANGE_FORMS))
def test_exchange_forms_work_for_own_community(make_client, district, name):
    """The positive control of EXCHANGE_FORMS: naming the actor's own community's objects, it goes through."""
    _works_for_own_community(make_client, district, EXCHANGE_FORMS[name])


@pytest.mark.parametrize("name", sorted(letter_objects.CROSS_FORMS))
def test_letter_forms_work_for_own_community(make_client, district, name):
    """The positive control of the letters' CROSS_FORMS: naming admin_a's own community's objects, it goes through."""
    _works_for_own_community(make_client, district, letter_objects.CROSS_FORMS[name])


def _works_for_own_community(make_client, district, form):
    d = populate(district)
    actor, url, data, _statuses = form
    client = browser(make_client, d, actor)
    before = crawl.snapshot()
    response = client.post(url(d, "a"), data=data(d, "a"))
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert crawl.changes(before, crawl.snapshot())


def test_forms_cannot_reach_into_another_community(make_client, district):
    d = populate(district)
    side = side_b(d)
    problems = []
    clients = {}
    for actor, url, data, statuses in _cross_cases(d):
        client = clients.get(actor) or clients.setdefault(actor, browser(make_client, d, actor))
        before = crawl.snapshot()
        response = client.post(url, data=data)
        if changed := crawl.changes(before, crawl.snapshot()):
            problems.append(f"{actor} POST {url} {data}: changed {changed}")
        # An exchange or letters refusal names nothing of b (other forms echo the phone typed).
        if url.startswith(("/exchange/", "/letters/")) and (leaked := crawl.shown(_text(response), side.markers)):
            problems.append(f"{actor} POST {url} {data}: shows {leaked}")
        if response.status_code not in statuses:
            problems.append(f"{actor} POST {url} {data}: status {response.status_code}, expected {statuses}")
    assert not problems, "\n".join(problems)


# --- positive controls: the same mapping reaches the actor's own objects -------------------------

# Routes admin_a may not open even in their own community, and why.
ADMIN_OWN_REFUSED = {
    "org.community_edit": 403,  # a community's name and street are the organiser's
    "org.street_edit": 403,  # streets are the organisers'
    "org.street_new": 403,
    "org.streets": 403,
    "org.community_new": 403,
    "org.my_report": 403,  # admin_a is not a party member
    "org.staff": 403,  # not an employer contact
    "credit.declare": 403,  # admin_a is no resident
    "credit.collector_queue": 403,  # nor a collector
    "credit.council_queue": 403,  # nor a council member
    "service.need_new": 403,  # no resident: posts no needs
    "service.report": 403,  # no volunteer: reports no services
    # A voucher is its holder's alone (its QR is as good as the voucher): the resident's, not the admin's;
    # the desk finds it by its code (resident_a opens them in the positive control below).
    "exchange.voucher": 404,
    "exchange.voucher_png": 404,
    **letter_objects.ADMIN_OWN_REFUSED,
}


def test_admin_opens_every_page_of_their_own_community(app, make_client, district):
    d = populate(district)
    client = browser(make_client, d, "admin_a")
    side = side_a(d)
    problems = []
    for rule in crawl.routes(app):
        if rule.endpoint in PUBLIC or "GET" not in rule.methods:
            continue
        for url in urls_for(app, rule, side):
            status = client.get(url).status_code
            expected = ADMIN_OWN_REFUSED.get(rule.endpoint, 200)
            if status != expected:
                problems.append(f"GET {url} [{rule.endpoint}]: {status}, expected {expected}")
    assert not problems, "\n".join(problems)


def test_positive_controls_show_own_data(make_client, district):
    d = populate(district)
    admin = browser(make_client, d, "admin_a")
    page = admin.get(f"/admin/users/{d.resident_a.id}")
    assert page.status_code == 200 and "张三" in page.get_data(as_text=True)
    page = admin.get(f"/org/communities/{d.a.id}")
    assert page.status_code == 200 and "幸福小区" in page.get_data(as_text=True)
    page = admin.get(f"/org/communities/{d.a.id}/agreements")
    assert page.status_code == 200 and "幸福共建条款甲" in page.get_data(as_text=True)
    page = admin.get(f"/org/reports?community={d.a.id}")
    assert page.status_code == 200 and "王党员" in page.get_data(as_text=True)
    page = admin.get(f"/org/units/{d.unit_a.id}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "王党员" in body and "东一社区" in body  # a's member and agreement
    # A unit shared with b and c: admin_a sees only a's members of it.
    assert not crawl.shown(body, ["孔党员", "秦党员"])
    # The organiser of street a covers b: the ids that are 404 for admin_a are real and open to them.
    organiser = browser(make_client, d, "organiser_a")
    page = organiser.get(f"/admin/users/{d.resident_b.id}")
    assert page.status_code == 200 and "李四" in page.get_data(as_text=True)
    page = organiser.get(f"/org/units/{d.unit_a.id}")
    body = page.get_data(as_text=True)
    assert "孔党员" in body and "秦党员" not in body
    assert "孔党员" in browser(make_client, d, "employer_a").get("/org/staff").get_data(as_text=True)


def _shows(client, url: str, *texts: str) -> bool:
    response = client.get(url)
    return response.status_code == 200 and all(t in response.get_data(as_text=True) for t in texts)


def test_positive_controls_show_own_service_data(make_client, district):
    d = populate(district)
    own = d.service_a
    admin = browser(make_client, d, "admin_a")
    assert _shows(admin, f"/service/activities/{own.activity}", "幸福活动甲", "幸福广场甲")
    assert _shows(admin, f"/service/activities/{own.activity}/roster", "王党员")
    assert _shows(admin, "/service/records", "幸福服务甲", "王党员")
    assert _shows(admin, "/service/needs", "幸福需求甲", "张三")
    assert _shows(admin, f"/service/orders/{own.order}", "幸福订单甲", "幸福订单说明甲", "王党员")
    assert _shows(admin, "/service/resources", "幸福资源甲")
    assert _shows(admin, f"/service/projects/{own.project}", "幸福项目甲", "王党员")
    assert _shows(admin, f"/service/card/{own.token}", "王党员", "幸福活动甲")  # on the activity happening now
    assert _shows(admin, f"/service/members/{d.member_a.id}/trail", "幸福服务甲")
    photo = admin.get(f"/service/records/{own.record}/photo")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg" and photo.data[:2] == b"\xff\xd8"
    member = browser(make_client, d, "member_a")
    assert _shows(member, "/service/trail", "幸福服务甲")
    assert _shows(member, "/service/activities", "幸福活动甲")
    assert _shows(member, "/service/orders", "幸福订单甲")
    assert _shows(member, "/service/projects", "幸福项目甲")
    assert _shows(browser(make_client, d, "resident_a"), "/service/needs", "幸福需求甲")
    # The organiser of street a covers b: the ids that are 404 for admin_a are real and open to them.
    organiser = browser(make_client, d, "organiser_a")
    assert _shows(organiser, f"/service/records?community={d.b.id}", "和平服务乙", "赵党员")
    assert _shows(organiser, f"/service/activities/{d.service_b.activity}", "和平活动乙")
    assert _shows(organiser, f"/service/orders/{d.service_b.order}", "和平订单乙")
    assert _shows(organiser, f"/service/card/{d.service_b.token}", "赵党员")


def test_positive_controls_show_own_exchange_data(make_client, district):
    d = populate(district)
    own = d.exchange_a
    admin = browser(make_client, d, "admin_a")
    assert _shows(admin, "/exchange/items", "幸福大米甲", "幸福毛巾甲", "东城供电局")  # the donor unit
    assert _shows(admin, f"/exchange/items/{own.item}/movements", "幸福捐赠甲", "东城供电局", own.codes[0])
    assert _shows(admin, f"/exchange/items/{own.item}/edit", "幸福大米说明甲")
    assert _shows(admin, f"/exchange/communities/{d.a.id}/stocktake", "幸福大米甲", "幸福毛巾甲")
    assert _shows(admin, "/exchange/desk", "幸福毛巾甲")  # handed over just now: undo is still possible
    assert _shows(admin, "/exchange/desk/report", "幸福毛巾甲", "幸福大米甲", "张三")  # out, and waiting
    assert _shows(admin, f"/exchange/desk/members/{d.service_a.token}", "王党员", "幸福大米甲")
    photo = admin.get(f"/exchange/items/{own.item}/photo")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg" and photo.data[:2] == b"\xff\xd8"
    scanned = admin.post("/exchange/desk/scan", data={"value": own.codes[0]})
    assert scanned.status_code == 200 and "幸福大米甲" in scanned.get_data(as_text=True)
    resident = browser(make_client, d, "resident_a")
    assert _shows(resident, "/exchange/shop", "幸福大米甲", "幸福毛巾甲")
    assert _shows(resident, f"/exchange/shop/{own.item}", "幸福大米说明甲")
    assert _shows(resident, "/exchange/vouchers", "幸福大米甲", "幸福毛巾甲")
    assert _shows(resident, f"/exchange/vouchers/{own.voucher}", "幸福大米甲", own.codes[0][:4])
    png = resident.get(f"/exchange/vouchers/{own.voucher}.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    # The organiser of street a covers b: the ids that are 404 for a's staff are real and open to them.
    organiser = browser(make_client, d, "organiser_a")
    assert _shows(organiser, f"/exchange/items?community={d.b.id}", "和平大米乙", "和平毛巾乙")
    assert _shows(organiser, f"/exchange/items/{d.exchange_b.item}/movements", "和平捐赠乙")
    assert _shows(organiser, f"/exchange/desk/report?community={d.b.id}", "和平毛巾乙", "李四")
    assert _shows(organiser, f"/exchange/desk/members/{d.service_b.token}", "赵党员", "和平大米乙")


def test_snapshot_sees_a_change(make_client, district):
    """The before/after comparison used above does notice a real change."""
    d = populate(district)
    client = browser(make_client, d, "admin_a")
    before = crawl.snapshot()
    response = client.post(f"/org/agreements/{d.agreement_a.id}/terminate")
    assert response.status_code == 303
    changed = crawl.changes(before, crawl.snapshot())
    assert any(c.startswith("agreements") for c in changed) and any(c.startswith("audit_entries") for c in changed)


def test_positive_controls_show_own_letters_data(make_client, district):
    d = populate(district)
    own, key = d.letters_a, letter_objects.period().key
    admin = browser(make_client, d, "admin_a")
    assert _shows(admin, f"/letters/?community={d.a.id}&period={key}", own.numbers[0], "王党员", "东城供电局")
    assert _shows(admin, f"/letters/documents/{own.letter}", own.numbers[0], "幸福退信甲")  # its failed email
    assert _shows(admin, f"/letters/batches/{own.batch}", key)
    assert admin.get(f"/letters/batches/{own.batch}.json").get_json()["created"] == 1
    assert _shows(admin, f"/letters/preview?community={d.a.id}&period={key}", "王党员", "东城供电局")
    assert "王党员" in letter_objects.readable(admin.get(f"/letters/documents/{own.letter}.pdf"))
    employer = browser(make_client, d, "employer_a")
    assert _shows(employer, f"/letters/employer?period={key}", "王党员", f"/letters/employer/letters/{own.letter}.pdf")
    assert "王党员" in letter_objects.readable(employer.get(f"/letters/employer/letters/{own.letter}.pdf"))
    member = browser(make_client, d, "member_a")
    assert _shows(member, "/letters/certificate", own.numbers[1])
    assert "王党员" in letter_objects.readable(member.get(f"/letters/certificates/{own.certificate}.pdf"))
    # The organiser of street a covers b: the ids that are 404 for admin_a are real and open to them.
    organiser = browser(make_client, d, "organiser_a")
    assert _shows(organiser, f"/letters/documents/{d.letters_b.letter}", d.letters_b.numbers[0], "和平退信乙")
    assert _shows(organiser, f"/letters/batches/{d.letters_b.batch}", key)
    assert _shows(browser(make_client, d, "member_b"), "/letters/certificate", d.letters_b.numbers[1])


def test_employer_gets_nothing_of_another_unit(make_client, district):
    """The employer's page and exports, read as text: their own staff, never b's; ?unit=<unit_b> is a 404."""
    d = populate(district)
    client = browser(make_client, d, "employer_a")
    key = letter_objects.period().key
    markers = [*other_side(d, "employer_a").markers, d.unit_b.name]
    problems = []
    for url in letter_objects.EMPLOYER_URLS:
        other_unit = {"unit": d.unit_b.id}
        for query, status in (({"period": key}, 200), (other_unit, 404), ({**other_unit, "period": key}, 404)):
            response = client.get(url, query_string=query)
            body = letter_objects.readable(response)
            if response.status_code != status or (status == 200 and "王党员" not in body):
                problems.append(f"GET {url} {query}: {response.status_code}, expected {status} (with 王党员)")
            if leaked := crawl.shown(body, markers):
                problems.append(f"GET {url} {query}: shows {leaked}")
    assert not problems, "\n".join(problems)


def test_verification_page_shows_key_facts_only(make_client, district):
    """/v/<number> is public: the document's key facts, to anyone; no phone, email, error or revoking reason."""
    d = populate(district)
    letter_documents.revoke(db.session.get(Document, d.letters_c.letter), d.admin_c, "安康撤销理由丙")
    people = db.session.execute(select(User.name, User.phone)).all()
    units = [v for u in (d.unit_a, d.unit_b, d.unit_c) for v in (u.contact_email, u.contact_phone) if v]
    shown = [(d.letters_b, "赵党员"), (d.letters_c, "沈党员"), (d.letters_a, "王党员")]
    problems = []
    for actor in ACTORS:
        client = browser(make_client, d, actor)
        own = getattr(d, actor).phone if actor != "anonymous" else None
        private = [*(p for _, p in people if p != own), *units, "安康撤销理由丙", "为老服务", "退信"]
        for objects, name in shown:
            for number in objects.numbers:
                response = client.get(f"/v/{number}")
                body = _text(response)
                if response.status_code != 200 or name not in body or number not in body:
                    problems.append(f"{actor} GET /v/{number}: {response.status_code}, expected 200 with {name}")
                if leaked := crawl.shown(body, private):
                    problems.append(f"{actor} GET /v/{number}: shows {leaked}")
                found = client.get("/verify", query_string={"number": number.lower()})
                if found.status_code != 303 or not found.headers["Location"].endswith(f"/v/{number}"):
                    problems.append(f"{actor} GET /verify?number={number.lower()}: {found.status_code}")
    assert not problems, "\n".join(problems)


def test_admin_letters_pages_refuse_another_community(make_client, district):
    """?community=<other> and ?member=<another community's member> are a 404 (the crawl also takes a 200 there)."""
    d = populate(district)
    key = letter_objects.period().key
    problems = []
    for actor, other, members in (
        ("admin_a", d.b, (d.member_b, d.member_b2, d.member_c)),
        ("organiser_a", d.c, (d.member_c, d.member_c2)),
    ):
        client = browser(make_client, d, actor)
        side = other_side(d, actor)
        urls = [f"/letters/{page}?community={other.id}&period={key}" for page in ("", "preview", "settings")]
        urls += [f"/letters/preview?period={key}&member={m.id}" for m in members]
        for url in urls:
            response = client.get(url)
            leaked = crawl.shown(_text(response), side.markers)
            if response.status_code != 404 or leaked:
                problems.append(f"{actor} GET {url}: {response.status_code} showing {leaked}, expected 404 and nothing")
    # The same pages of their own: the ids refused above are real.
    assert _shows(browser(make_client, d, "admin_c"), f"/letters/settings?community={d.c.id}", "安康落款丙")
    organiser = browser(make_client, d, "organiser_a")
    assert _shows(organiser, f"/letters/preview?community={d.b.id}&period={key}&member={d.member_b.id}", "赵党员")
    assert not problems, "\n".join(problems)
