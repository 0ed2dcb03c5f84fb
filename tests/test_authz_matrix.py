"""Every role against every protected page and object of another community: 403/404, never the data.

The routes come from the app's url_map, so a new route is covered the day it is added: each
URL argument is filled with an object of the OTHER community (b; c for the organiser of
street a, whose street also holds b), every route is fetched with GET and posted to with an
empty body, and the answer must be a refusal that shows nothing of the other community and
changes nothing. A route that is rightly open to an actor is listed in ALLOWED with the
reason, and its page is still searched for the other community's people.
"""

from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select

from volunteer.accounts.models import Role, RoleGrant
from volunteer.core.audit import AuditEntry
from volunteer.extensions import db
from volunteer.org.models import MemberReport

from . import crawl, factories
from .conftest import login
from .credit import factories as credit_factories

# Open to everyone, or not a page at all; core.home is still searched for markers below.
PUBLIC = {"core.home", "core.healthz", "core.set_language", "accounts.login", "accounts.register", "accounts.logout"}

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
}


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
        users=[d.resident_b.id, d.admin_b.id],
        grants=[_grant(d.resident_b, Role.RESIDENT), _grant(d.admin_b, Role.ADMIN)],
        markers=[*markers, *side_c(d).markers, "和平共建条款乙", "和平小区", "和平积分备注乙", "和平指标", "和平申报"],
        **_credit(d, "b"),
        entries=[d.entry_b],
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
        users=[d.resident_c.id, d.admin_c.id],
        grants=[_grant(d.resident_c, Role.RESIDENT), _grant(d.admin_c, Role.ADMIN)],
        markers=[*markers, "安康共建条款丙", "安康小区", "安康积分备注丙", "安康指标", "安康申报"],
        **_credit(d, "c"),
        entries=[d.entry_c],
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
        users=[d.resident_a.id],
        grants=[_grant(d.resident_a, Role.RESIDENT)],
        entries=[d.entry_a],
        **_credit(d, "a"),
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


def _allowed_problem(method: str, variant: bool, response) -> str | None:
    status = response.status_code
    # An empty form is refused (4xx) or sent back (3xx); a GET-only page answers 405.
    ok = set(range(300, 500)) - {304}
    if method == "GET":
        ok = {200, 400, 404} if variant else {200}
    return None if status in ok else f"status {status}, expected one of {sorted(ok)[:6]}"


def _check_get(client, actor, allowed, url, variant, side) -> list[str]:
    response = client.get(url)
    problems = []
    problem = _allowed_problem("GET", variant, response) if allowed else _refusal_problem(actor, response)
    if problem:
        problems.append(problem)
    if leaked := crawl.shown(response.get_data(as_text=True), side.markers):
        problems.append(f"shows {leaked}")
    return problems


def _check_post(client, actor, allowed, url, side) -> list[str]:
    """An empty POST: refused (or sent back, if allowed), nothing shown, nothing changed."""
    before = crawl.snapshot()
    response = client.post(url, data={})
    problems = [f"changed {c}"] if (c := crawl.changes(before, crawl.snapshot())) else []
    problem = _allowed_problem("POST", False, response) if allowed else _refusal_problem(actor, response)
    if problem:
        problems.append(problem)
    if leaked := crawl.shown(response.get_data(as_text=True), side.markers):
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
                for p in _check_get(client, actor, allowed, target, variant, side):
                    problems.append(f"{actor} GET {target} [{rule.endpoint}]: {p}")
            for p in _check_post(client, actor, allowed, url, side):
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
    ]


def test_forms_cannot_reach_into_another_community(make_client, district):
    d = populate(district)
    problems = []
    clients = {}
    for actor, url, data, statuses in _cross_cases(d):
        client = clients.get(actor) or clients.setdefault(actor, browser(make_client, d, actor))
        before = crawl.snapshot()
        response = client.post(url, data=data)
        if changed := crawl.changes(before, crawl.snapshot()):
            problems.append(f"{actor} POST {url} {data}: changed {changed}")
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


def test_snapshot_sees_a_change(make_client, district):
    """The before/after comparison used above does notice a real change."""
    d = populate(district)
    client = browser(make_client, d, "admin_a")
    before = crawl.snapshot()
    response = client.post(f"/org/agreements/{d.agreement_a.id}/terminate")
    assert response.status_code == 303
    changed = crawl.changes(before, crawl.snapshot())
    assert any(c.startswith("agreements") for c in changed) and any(c.startswith("audit_entries") for c in changed)
