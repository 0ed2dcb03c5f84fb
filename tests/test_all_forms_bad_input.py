"""Bad input on every form: empty, too long, wrong type, script tags, odd Unicode.

Every URL rule that accepts POST is listed in FORMS (with who may use it and a valid
submission), NO_INPUT or NOT_FORMS, so a new form fails here until it is added. Each form's
fields are read from its page; then one field at a time is spoiled in an otherwise valid
submission. The answer must never be a 500, must refuse with a visible message (on the page,
or as an error flash on the page it redirects to), must change nothing in the database, and
must never echo a script tag unescaped. The valid submission is sent last, to prove the
spoiled ones were refused for the spoiled field and not for something else. Bad ids in URLs
and bad query strings on every page are tried at the end.
"""

import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from fnmatch import fnmatchcase
from itertools import count

import pytest
from sqlalchemy import select

from volunteer.core.database import begin_write
from volunteer.core.models import local_today, utcnow
from volunteer.exchange import pins
from volunteer.exchange.models import Item, Voucher
from volunteer.extensions import db
from volunteer.letters import queue as letter_queue
from volunteer.org.models import MemberReport
from volunteer.service import cards, checkin_codes, records
from volunteer.service.models import Activity

from . import crawl, factories
from .conftest import english, login
from .credit import factories as credit_factories
from .exchange import factories as exchange_factories
from .exchange import matrix_objects as exchange_objects
from .letters import matrix_forms as letter_forms
from .letters import matrix_objects as letter_objects
from .service import factories as service_factories
from .service import matrix_objects

LONG = "a" * 5000
UNICODE = "😀\u202e\u200b\x00名字"
WRONG = {
    # Kinds of field (from the rendered HTML) -> values of the wrong type for them.
    "select": ["abc", "99999999999999999999", "-1"],
    "hidden": ["abc", "99999999999999999999"],
    "number": ["abc", "99999999999999999999", "1.5"],
    "date": ["abc", "2026-02-30", "99999-01-01"],
    "email": ["abc", "a@"],
    "tel": ["abc", "1380013800a"],
    "password": ["abc"],  # too short to be a password
    "time": ["abc", "25:00"],
    "radio": ["abc", "99999999999999999999"],
}
# A ticked box sends any value and the server only asks whether one was sent: nothing is wrong.
FREE_KINDS = {"checkbox"}


@dataclass
class Spec:
    actor: str | None  # attribute of the district; None: an anonymous visitor
    url: Callable  # d -> the path the form posts to
    valid: Callable  # d, k -> a valid submission, unique by k where the form needs unique values
    page: Callable | None = None  # d -> the page showing the form, if not `url` itself
    # (field, payload label) -> why the app rightly takes this value; the field may be a pattern (seen_*)
    accepted: dict | None = None
    writes_nothing: str | None = None  # why the valid submission changes nothing (it is answered, not stored)
    blank_ok: str | None = None  # why an empty form is a valid one (every field optional): taken, and saved


def _phone(k: int) -> str:
    return f"1370000{k:04d}"


def _register(d, k):
    return {
        "name": f"新居民{k}",
        "phone": _phone(k),
        "building": d.building_a.id,
        "password": "password123",
        "confirm": "password123",
    }


def _unit(name):
    return {"name": name, "contact_person": "刘", "contact_email": "hr@example.org", "contact_phone": "", "address": ""}


def _user_page(d):
    return f"/admin/users/{d.resident_a.id}"


def _jpeg():
    """A fresh real photo for each submission (a file in a form is read once)."""
    return (io.BytesIO(credit_factories.jpeg_bytes()), "photo.jpg")


def _indicator(name):
    return {"name": name, "description": "说明", "points": "5", "max_awards": "2", "period": "year"}


def _credit_url(action, state):
    return lambda d: f"/credit/declarations/{d.declarations[state].id}/{action}"


def _credit_page(state):
    return lambda d: f"/credit/declarations/{d.declarations[state].id}"


def _day(days: int = 0) -> str:
    return (local_today() + timedelta(days=days)).isoformat()


def _activity(k: int, **more) -> dict:
    fields = {"title": f"植树{k}", "category": "environment", "place": "河边", "day": _day(2)}
    return {**fields, "start": "09:00", "end": "11:30", "places": "5", "description": "带手套", **more}


def _resource(k: int, **more) -> dict:
    fields = {"unit": "0", "kind": "venue", "title": f"活动室{k}", "description": "二楼"}
    return {**fields, "availability": "工作日", "contact": "前台", "active": "y", **more}


def _project(k: int, **more) -> dict:
    fields = {"kind": "post", "title": f"门岗{k}", "description": "", "capacity": "3"}
    return {**fields, "starts_on": _day(), "ends_on": "", "active": "y", **more}


def _order(k: int, **more) -> dict:
    return {"title": f"修水管{k}", "category": "repair", "description": "", "scheduled": "周六", "places": "1", **more}


def _service_url(kind: str, attribute: str, action: str = ""):
    """d -> e.g. /service/orders/<d.service.order>/done."""
    return lambda d: f"/service/{kind}/{getattr(d.service, attribute)}{action}"


def _service_form(actor, kind, attribute, action, valid, **kw) -> "Spec":
    """A form on an object's page (`page` defaults to the object's own page)."""
    kw.setdefault("page", _service_url(kind, attribute))
    return Spec(actor, _service_url(kind, attribute, action), valid, **kw)


HOURS_OK = "1.5 hours is a valid number of hours: the box takes halves (0.5 to 24)"
SERVICE_FORMS = {
    "service.activity_new": Spec(
        "steward_a", lambda d: "/service/activities/new", lambda d, k: _activity(k, community=d.a.id)
    ),
    "service.activity_edit": Spec(
        "steward_a", lambda d: f"/service/activities/{d.later.id}/edit", lambda d, k: _activity(k, day=_day(3))
    ),
    "service.activity_cancel": Spec(
        "steward_a",
        lambda d: f"/service/activities/{d.later.id}/cancel",
        lambda d, k: {"reason": f"下雨{k}"},
        page=lambda d: f"/service/activities/{d.later.id}",
    ),
    "service.checkin": Spec("member_a", lambda d: "/service/checkin", lambda d, k: {"code": _code(d)}),
    "service.roster_check": Spec(
        "steward_a",
        lambda d: f"/service/signups/{d.service.signup}/check",
        lambda d, k: {"mode": "in"},
        page=_service_url("activities", "activity", "/roster"),
    ),
    "service.roster_card": Spec(
        "steward_a",
        _service_url("activities", "activity", "/card"),
        lambda d, k: {"card": d.service.token, "mode": "in"},
        page=_service_url("activities", "activity", "/roster"),
    ),
    "service.need_new": Spec(
        "resident_a",
        lambda d: "/service/needs/new",
        lambda d, k: {"category": "elderly", "description": f"买药{k}", "preferred_time": "周末"},
    ),
    "service.need_order": _service_form("steward_a", "needs", "need", "/order", lambda d, k: _order(k)),
    "service.need_decline": _service_form(
        "steward_a", "needs", "need", "/decline", lambda d, k: {"reason": f"不在服务范围{k}"}
    ),
    "service.order_new": Spec("steward_a", lambda d: "/service/orders/new", lambda d, k: _order(k, community=d.a.id)),
    "service.order_done": _service_form(
        "member_a", "orders", "order", "/done", lambda d, k: {"note": f"已修好{k}", "hours": "1.5"}
    ),
    "service.order_cancel": _service_form(
        "steward_a", "orders", "order", "/cancel", lambda d, k: {"reason": f"重复{k}"}
    ),
    "service.order_confirm": Spec(
        "resident_a",
        lambda d: f"/service/orders/{d.done_order.id}/confirm",
        lambda d, k: {"rating": "5", "feedback": f"谢谢{k}"},
        page=lambda d: f"/service/orders/{d.done_order.id}",
    ),
    "service.order_dispute": Spec(
        "resident_a",
        lambda d: f"/service/orders/{d.done_order.id}/dispute",
        lambda d, k: {"reason": f"没有来{k}"},
        page=lambda d: f"/service/orders/{d.done_order.id}",
    ),
    "service.order_resolve": Spec(
        "steward_a",
        lambda d: f"/service/orders/{d.disputed_order.id}/resolve",
        lambda d, k: {"upheld": "yes", "note": f"已核实{k}"},
        page=lambda d: f"/service/orders/{d.disputed_order.id}",
    ),
    "service.resource_new": Spec(
        "steward_a", lambda d: "/service/resources/new", lambda d, k: _resource(k, community=d.a.id)
    ),
    "service.resource_edit": Spec(
        "steward_a", _service_url("resources", "resource", "/edit"), lambda d, k: _resource(k, unit=d.unit_a.id)
    ),
    "service.project_new": Spec(
        "steward_a", lambda d: "/service/projects/new", lambda d, k: _project(k, community=d.a.id)
    ),
    "service.project_edit": Spec("steward_a", _service_url("projects", "project", "/edit"), lambda d, k: _project(k)),
    "service.report": Spec(
        "member_a",
        lambda d: "/service/records/report",
        lambda d, k: {"served_on": _day(-1), "hours": "1.5", "description": f"巡逻{k}", "project": 0, "photo": _jpeg()},
        accepted={("hours", "wrong type '1.5'"): HOURS_OK},
    ),
    "service.record_enter": Spec(
        "steward_a",
        lambda d: "/service/records/enter",
        lambda d, k: {
            **{"phone": d.member_a.phone, "community": d.a.id, "served_on": _day(-1), "hours": "2"},
            **{"kind": "other", "description": f"帮忙搬家{k}"},
        },
        accepted={("hours", "wrong type '1.5'"): HOURS_OK},
    ),
    "service.records_verify": Spec(
        "steward_a",
        lambda d: "/service/records/verify",
        lambda d, k: {"ids": [d.service.record]},
        page=lambda d: "/service/records",
    ),
    "service.record_reject": _service_form(
        "steward_a", "records", "record", "/reject", lambda d, k: {"reason": f"没有照片{k}"}
    ),
    "service.record_correct": _service_form(
        "steward_a",
        "records",
        "record",
        "/correct",
        lambda d, k: {"hours": "3", "reason": f"少记了{k}"},
        accepted={("hours", "wrong type '1.5'"): HOURS_OK},
    ),
    "service.record_unverify": Spec(
        "steward_a",
        lambda d: f"/service/records/{d.verified.id}/unverify",
        lambda d, k: {"reason": f"重复记录{k}"},
        page=lambda d: f"/service/records/{d.verified.id}",
    ),
    "service.policy": Spec(
        "admin_a",
        lambda d: f"/service/communities/{d.a.id}/policy",
        lambda d, k: {"points_per_hour": str(10 + k), "points_per_service": "5"},
    ),
}


PIN = "5826"  # member_a's desk PIN


def _item_form(k: int, **more) -> dict:
    fields = {"name": f"食用油{k}", "category": "grain_oil", "description": "五升", "price": "30", "photo": _jpeg()}
    window = {"available_from": _day(), "available_until": _day(30), "active": "y"}
    return {**fields, "per_person_limit": "2", "limit_period": "month", **window, **more}


def _shelf(d) -> dict[int, int]:
    """Each a item's expected count (on the shelf and set aside), read now: what the stock-take page shows."""
    rows = db.session.execute(select(Item.id, Item.stock + Item.reserved).where(Item.community_id == d.a.id))
    return dict(rows.all())


def _stocktake(d, k: int) -> dict:
    counts = {f"{box}_{i}": str(n) for i, n in _shelf(d).items() for box in ("count", "seen")}
    return {"reason": f"月度盘点{k}", **counts}


def _voucher_code(d) -> str:
    return db.session.get(Voucher, d.exchange.voucher).code


def _member_page(d) -> str:
    return f"/exchange/desk/members/{d.service.token}"


SEEN_OK = (
    "the hidden expected count is only a cross-check against a hand-over while counting: a value that is "
    "not a count (a browser never sends one) drops that check, and the typed counts are recorded"
)
EXCHANGE_FORMS = {
    "exchange.item_new": Spec(
        "steward_a", lambda d: "/exchange/items/new", lambda d, k: _item_form(k, community=d.a.id)
    ),
    "exchange.item_edit": Spec(
        "steward_a", lambda d: f"/exchange/items/{d.exchange.item}/edit", lambda d, k: _item_form(k)
    ),
    "exchange.item_stock": Spec(
        "steward_a",
        lambda d: f"/exchange/items/{d.exchange.item}/stock",
        lambda d, k: {"kind": "donation", "unit": d.unit_a.id, "quantity": str(k), "note": f"第{k}批"},
    ),
    "exchange.stocktake": Spec(
        "steward_a",
        lambda d: f"/exchange/communities/{d.a.id}/stocktake",
        _stocktake,
        accepted={
            ("seen_*", label): SEEN_OK
            for label in ("too long", "wrong type 'abc'", "wrong type '99999999999999999999'", "script")
        },
    ),
    "exchange.settings": Spec(
        "admin_a", lambda d: f"/exchange/communities/{d.a.id}/settings", lambda d, k: {"voucher_days": str(10 + k)}
    ),
    "exchange.reserve": Spec(
        "resident_a",
        lambda d: f"/exchange/shop/{d.exchange.item}/reserve",
        lambda d, k: {"request_key": uuid.uuid4().hex},  # one per submission: a repeated key finds the first voucher
        page=lambda d: f"/exchange/shop/{d.exchange.item}",
    ),
    # The manual box of the desk: a typed code is looked up, and the answer is the page itself.
    "exchange.desk_scan": Spec(
        "steward_a",
        lambda d: "/exchange/desk/scan",
        lambda d, k: {"value": _voucher_code(d)},
        page=lambda d: "/exchange/desk",
        writes_nothing="a scan only looks the voucher up; handing it over is the next form",
    ),
    # The desk page hands over from its script; a resident's open vouchers on their member page are plain forms.
    "exchange.desk_handover": Spec(
        "steward_a",
        lambda d: "/exchange/desk/handover",
        lambda d, k: {"value": _voucher_code(d)},
        page=lambda d: f"/exchange/desk/members/{cards.card_token(d.resident_a)}",
    ),
    "exchange.desk_undo": Spec(
        "steward_a",
        lambda d: f"/exchange/vouchers/{d.exchange.redeemed}/undo",
        lambda d, k: {"reason": f"拿错了{k}"},
        page=lambda d: "/exchange/desk",  # "just handed over", each with its Undo form
    ),
    "exchange.member_reserve": Spec(
        "steward_a",
        lambda d: f"{_member_page(d)}/reserve",
        lambda d, k: {"item": d.exchange.item, "pin": PIN, "request_key": str(uuid.uuid4())},
        page=_member_page,
    ),
    "exchange.member_pin": Spec(
        "steward_a", lambda d: f"{_member_page(d)}/pin", lambda d, k: {"pin": "3927", "again": "3927"}
    ),
}


@pytest.fixture(autouse=True)
def _empty_queue():
    """A letters batch started here is queued in the app's memory queue: leave no task to the next test."""
    yield
    letter_queue.get().huey.flush()


def _code(d) -> str:
    """The code on the screen of the activity going on now, as the volunteer reads it."""
    activity = db.session.get(Activity, d.service.activity)
    return checkin_codes.short_code(activity, "in", checkin_codes.window_at())


FORMS = {
    "accounts.login": Spec(
        None,
        lambda d: "/login",
        lambda d, k: {"phone": d.resident_a.phone, "password": "password123"},
        writes_nothing="logging in writes nothing",
    ),
    "accounts.register": Spec(None, lambda d: "/register", _register),
    "accounts.change_password": Spec(
        "member_a",
        lambda d: "/account/password",
        lambda d, k: {"current": factories.PASSWORD, "password": "newpass456", "confirm": "newpass456"},
    ),
    "users.desk_register": Spec("steward_a", lambda d: "/admin/users/desk/register", _register),
    "users.grant": Spec(
        "admin_a",
        lambda d: f"/admin/users/{d.resident_a.id}/roles",
        lambda d, k: {"role": "collector", "community": d.a.id, "compound": d.compound_a.id},
        page=_user_page,
    ),
    "users.reset_password": Spec(
        "admin_a",
        lambda d: f"/admin/users/{d.resident_a.id}/password",
        lambda d, k: {"password": "newpass456"},
        page=_user_page,
        accepted={
            ("password", "script"): "'<script>alert(1)</script>' is a valid password (letters and digits, 25 "
            "characters); it is only ever hashed, never shown"
        },
    ),
    "users.set_active": Spec(
        "admin_a", lambda d: f"/admin/users/{d.resident_a.id}/active", lambda d, k: {"active": "0"}, page=_user_page
    ),
    "org.street_new": Spec(
        "organiser_all", lambda d: "/org/streets/new", lambda d, k: {"name": f"北街道{k}", "district": "成华区"}
    ),
    "org.street_edit": Spec(
        "organiser_all",
        lambda d: f"/org/streets/{d.street_a.id}/edit",
        lambda d, k: {"name": f"东门街道{k}", "district": ""},
    ),
    "org.community_new": Spec(
        "organiser_all",
        lambda d: "/org/communities/new",
        lambda d, k: {"street": d.street_b.id, "name": f"西二社区{k}", "address": "西路1号", "phone": "028-84512345"},
    ),
    "org.community_edit": Spec(
        "organiser_all",
        lambda d: f"/org/communities/{d.a.id}/edit",
        lambda d, k: {"name": f"东一新社区{k}", "address": "", "phone": ""},
    ),
    "org.compound_new": Spec(
        "admin_a",
        lambda d: f"/org/communities/{d.a.id}/compounds/new",
        lambda d, k: {"name": f"新网格{k}", "kind": "grid"},
    ),
    "org.compound_edit": Spec(
        "admin_a",
        lambda d: f"/org/compounds/{d.compound_a.id}/edit",
        lambda d, k: {"name": f"幸福家园{k}", "kind": "compound"},
    ),
    "org.building_new": Spec(
        "admin_a", lambda d: f"/org/compounds/{d.compound_a.id}/buildings/new", lambda d, k: {"name": f"{k}号楼"}
    ),
    "org.building_edit": Spec(
        "admin_a", lambda d: f"/org/buildings/{d.building_a.id}/edit", lambda d, k: {"name": f"一栋{k}"}
    ),
    "org.unit_new": Spec("admin_a", lambda d: "/org/units/new", lambda d, k: _unit(f"新单位{k}")),
    "org.unit_edit": Spec("admin_a", lambda d: f"/org/units/{d.unit_a.id}/edit", lambda d, k: _unit(f"东城电力{k}")),
    "org.agreements": Spec(
        "admin_a",
        lambda d: f"/org/communities/{d.a.id}/agreements",
        lambda d, k: {"unit": d.unit_b.id, "signed_on": "2026-03-01", "ends_on": "", "content": f"共建{k}"},
    ),
    "org.report_new": Spec(
        "admin_a",
        lambda d: "/org/reports/new",
        lambda d, k: {
            "phone": d.new_member.phone,
            "community": d.a.id,
            "unit": d.unit_a.id,
            "year": str(date.today().year),
        },
    ),
    "org.report_cancel": Spec(
        "admin_a", lambda d: f"/org/reports/{d.report_a.id}/cancel", lambda d, k: {"reason": f"录入错误{k}"}
    ),
    "org.my_report": Spec(
        "new_member", lambda d: "/org/me/report", lambda d, k: {"community": d.a.id, "unit": d.unit_a.id}
    ),
    "ledger.adjust": Spec(
        "admin_a",
        lambda d: f"/communities/{d.a.id}/adjust",
        lambda d, k: {"phone": d.resident_a.phone, "points": "5", "reason": f"补录{k}", "token": str(uuid.UUID(int=k))},
    ),
    "ledger.reverse": Spec(
        "admin_a", lambda d: f"/ledger/entries/{d.entry_a}/reverse", lambda d, k: {"reason": f"录入错误{k}"}
    ),
    "ledger.policy": Spec(
        "admin_a",
        lambda d: f"/communities/{d.a.id}/points-policy",
        lambda d, k: {
            "expiry_mode": "never",
            "full_score_points": str(100 + k),
            "stars2": "10",
            "stars3": "30",
            "stars4": "50",
            "stars5": "70",
        },
    ),
    **{
        f"credit.{name}": Spec(actor, _credit_url(name, state), valid, page=_credit_page(state))
        for name, actor, state, valid in (
            ("review", "collector_a", "submitted", lambda d, k: {"decision": "check", "note": f"已核实{k}"}),
            ("assess", "council_a", "checked", lambda d, k: {"recommendation": "approve", "reason": f"属实{k}"}),
            ("decide", "admin_a", "assessed", lambda d, k: {"decision": "approve", "reason": f"同意{k}"}),
            ("appeal", "resident_a", "rejected", lambda d, k: {"reason": f"有证据{k}"}),
            ("resubmit", "resident_a", "returned", lambda d, k: {"description": f"补充{k}", "photos": _jpeg()}),
        )
    },
    "credit.declare": Spec(
        "resident_a",
        lambda d: "/credit/declare",
        lambda d, k: {"indicator": d.indicator_a.id, "description": f"申报{k}", "photos": _jpeg()},
    ),
    "credit.indicator_new": Spec(
        "admin_a", lambda d: f"/credit/communities/{d.a.id}/indicators/new", lambda d, k: _indicator(f"新指标{k}")
    ),
    "credit.indicator_edit": Spec(
        "admin_a", lambda d: f"/credit/indicators/{d.indicator_a.id}/edit", lambda d, k: _indicator(f"改指标{k}")
    ),
    "credit.indicator_active": Spec(
        "admin_a",
        lambda d: f"/credit/indicators/{d.indicator_a.id}/active",
        lambda d, k: {"active": "0"},
        page=lambda d: "/credit/indicators",
    ),
    **SERVICE_FORMS,
    **EXCHANGE_FORMS,
    **{endpoint: Spec(**kw) for endpoint, kw in letter_forms.FORMS.items()},
}
# POST routes with nothing to type: the object is in the URL (bad ids are tested below).
NO_INPUT = {
    "users.revoke": "a Remove button; the grant is in the URL",
    "org.agreement_terminate": "a Terminate button; the agreement is in the URL",
    "service.signup": "a Sign up button; the activity is in the URL",
    "service.signup_cancel": "a Cancel my sign-up button; the sign-up is in the URL",
    "service.need_withdraw": "a Withdraw button; the need is in the URL",
    "service.order_take": "a Take button; the order is in the URL",
    "service.order_release": "a Give my place back button; the order is in the URL",
    "service.project_claim": "a Claim button; the project is in the URL",
    "service.project_release": "a Give up button; the project is in the URL",
    "service.claim_release": "an End claim button; the project and the volunteer are in the URL",
    "service.record_verify": "a Verify button; the record is in the URL",
    "exchange.voucher_cancel": "a Cancel voucher button; the voucher is in the URL",
    **letter_forms.NO_INPUT,
}
# POST routes that are not forms at all.
NOT_FORMS = {
    "core.set_language": "the language switch: an unknown code is a 404, tested in tests/core/test_language.py",
    "accounts.logout": "logging out takes no input",
}


def test_every_post_route_is_listed(app):
    posts = {r.endpoint for r in crawl.routes(app) if "POST" in r.methods}
    listed = FORMS.keys() | NO_INPUT.keys() | NOT_FORMS.keys()
    assert posts - listed == set(), "new POST routes: add them to FORMS (or NO_INPUT / NOT_FORMS)"
    assert listed - posts == set(), "listed routes that no longer exist"


def _setup(district):
    d = district
    d.new_member = factories.resident(d.building_a, name="新党员", party_member=True)
    d.report_a = db.session.get(MemberReport, d.member_a.reports[0].id)
    d.indicator_a = credit_factories.indicator(d.a, name="门前三包")
    states = ("submitted", "returned", "checked", "assessed", "rejected")
    d.declarations = {s: credit_factories.declaration(d.resident_a, d.indicator_a, s) for s in states}
    d.photo_a = credit_factories.photo(d.declarations["submitted"])
    d.entry_a = _points(d.resident_a, d.a)
    return _service_setup(d)


def _service_setup(d):
    """1112 objects of community a in the states their forms need (see matrix_objects.create for d.service)."""
    d.service = matrix_objects.create(d.a, d.member_a, d.resident_a, "幸福", "甲")
    d.later = service_factories.activity(d.a, starts_in=timedelta(days=2))  # to edit and to cancel
    need = service_factories.need(d.resident_a, d.a, state="ordered")
    d.done_order = _done_order(d, need)
    d.disputed_order = _done_order(d, None, state="disputed", dispute_reason="没有来")
    d.verified = service_factories.record(d.member_a, d.a, description="已核实的服务")
    begin_write()
    records.verify(d.steward_a, d.verified.id)
    return _exchange_setup(d)


def _exchange_setup(d):
    """Exchange objects of a (see exchange matrix_objects.create): items with stock, a live and a redeemed voucher;
    member_a (no smartphone) has a desk PIN and points, for the steward to reserve for them."""
    d.exchange = exchange_objects.create(d.a, d.steward_a, d.resident_a, d.unit_a, "幸福", "甲")
    pins.set_pin(d.member_a, PIN, d.steward_a, community_id=d.a.id)
    exchange_factories.fund(d.member_a, d.a, 50)
    # Letters of a (matrix_objects.create): a batch, member_a's letter with its failed email, their certificate.
    d.letters = letter_objects.create(d.a, d.member_a, d.admin_a, "幸福", "甲")
    return d


def _done_order(d, need, state="done", **kw):
    """An order member_a took and marked done (then maybe disputed): the resident confirms or disputes it."""
    order = matrix_objects.taken_order(d.a, [d.member_a], need)
    for key, value in {"state": state, "done_minutes": 60, "done_at": utcnow(), "done_note": "修好了", **kw}.items():
        setattr(order, key, value)
    return factories._commit(order)


def _points(user, community) -> int:
    """A ledger entry to reverse: 50 points earned by `user` in `community`."""
    from volunteer.ledger import services

    begin_write()
    account = services.account_for(user.id, community.id)
    entry = services.earn(account, 50, kind="earn_service", key=f"forms:{user.id}", memo="服务").entry
    db.session.commit()
    return entry.id


def _payloads(fields: dict[str, crawl.Field]):
    """(label, field, value): the whole body for the first two, then one spoiled field at a time."""
    yield "empty body", None, {}
    yield "all empty", None, {name: "" for name in fields}
    for name, f in fields.items():
        yield "too long", name, LONG
        for wrong in WRONG.get(f.kind, []):
            yield f"wrong type {wrong!r}", name, wrong
        yield "script", name, crawl.SCRIPT
        yield "unicode", name, UNICODE


class Browser:
    """The actor's browser; anonymous forms get a fresh one per submission (a success logs in)."""

    def __init__(self, make_client, d, actor):
        self.make_client, self.d, self.actor = make_client, d, actor
        self.client = self._new()

    def _new(self):
        client = english(self.make_client())
        if self.actor:
            login(client, getattr(self.d, self.actor))
        return client

    def fresh(self):
        if self.actor is None:
            self.client = self._new()
        return self.client


def _outcome(client, response) -> tuple[str, str]:
    """('refused' | 'accepted' | ..., every body seen) for one submission; a redirect is followed."""
    body = response.get_data(as_text=True)
    status = response.status_code
    if status >= 500:
        return "server error", body
    if 300 <= status < 400:
        after = client.get(response.headers["Location"]).get_data(as_text=True)
        return ("refused" if 'class="flash flash-error"' in after else "accepted"), body + after
    if 400 <= status < 500:
        return ("refused" if crawl.ERROR_SHOWN.search(body) else "refused silently"), body
    return "answered 200", body


def _form_fields(browser, spec, d) -> dict[str, crawl.Field]:
    """The fields of the form that posts to the spec's URL, read from the page showing it."""
    url = spec.url(d)
    page_url = spec.page(d) if spec.page else url
    page = browser.client.get(page_url)
    assert page.status_code == 200, f"{page_url}: {page.status_code}"
    form = crawl.form_posting_to(page.get_data(as_text=True), page_url, url)
    assert form is not None, f"no form on {page_url} posts to {url}"
    typed = {name for name, f in form.fields.items() if f.kind not in FREE_KINDS}
    valid = spec.valid(d, 0).keys()
    assert typed <= valid <= form.fields.keys(), f"the valid submission does not match {sorted(form.fields)}"
    return form.fields


def _accepted(spec, name, label) -> bool:
    return bool(name) and any(fnmatchcase(name, f) and label == lb for f, lb in spec.accepted or {})


def _judge(spec, fields, label, name, response, client, before, after) -> list[str]:
    """What is wrong with the app's answer to one spoiled submission."""
    outcome, body = _outcome(client, response)
    where = f"{label} in {name or 'every field'} -> {response.status_code}"
    problems = []
    if crawl.SCRIPT in body:
        problems.append(f"{where}: the script tag comes back unescaped")
    if outcome == "server error":
        return [*problems, f"{where}: server error"]
    nul_before = crawl.nul_rows(before)
    if tables := [t for t, n in crawl.nul_rows(after).items() if n > nul_before[t]]:
        problems.append(f"{where}: stored a NUL character in {tables}")
    free = label == "unicode" or (name and fields[name].kind in FREE_KINDS) or _accepted(spec, name, label)
    free = free or (name is None and spec.blank_ok)
    if not free:  # odd Unicode, ticked boxes and documented values may be taken; the rest must not
        if outcome != "refused":
            problems.append(f"{where}: {outcome}")
        if changed := crawl.changes(before, after):
            problems.append(f"{where}: changed {changed}")
    return problems


@pytest.mark.parametrize("endpoint", sorted(FORMS))
def test_bad_input_is_refused_with_a_message(make_client, district, endpoint):
    spec = FORMS[endpoint]
    d = _setup(district)
    browser = Browser(make_client, d, spec.actor)
    fields = _form_fields(browser, spec, d)
    url = spec.url(d)
    serial = count(1)
    problems = []
    payloads = list(_payloads(fields))
    for label, name, value in payloads:
        data = value if name is None else {**spec.valid(d, next(serial)), name: value}
        client = browser.fresh()
        before = crawl.snapshot()
        response = client.post(url, data=data)
        problems += [
            f"{endpoint} {p}" for p in _judge(spec, fields, label, name, response, client, before, crawl.snapshot())
        ]

    # The valid submission goes through: the spoiled ones were refused for the spoiled field.
    client = browser.fresh()
    before = crawl.snapshot()
    response = client.post(url, data=spec.valid(d, next(serial)))
    outcome, _ = _outcome(client, response)
    # A look-up (the desk's scan) answers the page itself; everything else is stored and redirects.
    expected = "answered 200" if spec.writes_nothing and response.status_code == 200 else "accepted"
    assert outcome == expected, f"{endpoint}: the valid submission was {outcome} ({response.status_code})"
    if not spec.writes_nothing:
        assert crawl.changes(before, crawl.snapshot()), f"{endpoint}: the valid submission changed nothing"
    assert len(payloads) >= 2 + 3 * len(fields)
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)


# --- the desk's JSON bodies (its page script's fetch) ----------------------------------------------

JSON_BODIES = [
    ("not an object", "[1, 2]"),
    ("a string", '"ABCD-EFGH"'),
    ("null", "null"),
    ("broken JSON", '{"value": '),
    ("no value", "{}"),
    ("a number", '{"value": 12345678}'),
    ("a list", '{"value": ["ABCD"]}'),
    ("null value", '{"value": null}'),
    ("too long", f'{{"value": "{LONG}"}}'),
    ("script", '{"value": "<script>alert(1)</script>", "html": true}'),
    ("unicode", '{"value": "\\ud83d\\ude00\\u202e\\u0000名字", "html": true}'),
    ("html not a flag", '{"value": "ABCD-EFGH", "html": "<script>"}'),
]


@pytest.mark.parametrize("path", ["/exchange/desk/scan", "/exchange/desk/handover"])
def test_desk_json_bodies_are_refused_with_a_reason(make_client, district, path):
    """Scan and hand-over also take a JSON body: a bad one is a 4xx with a reason and a message, never a 500."""
    d = _setup(district)
    client = english(make_client())
    login(client, d.steward_a)
    headers = {"Accept": "application/json"}  # CSRF is off in tests (the X-CSRFToken header is checked elsewhere)
    problems = []
    for label, body in JSON_BODIES:
        before = crawl.snapshot()
        response = client.post(path, data=body, content_type="application/json", headers=headers)
        if changed := crawl.changes(before, crawl.snapshot()):
            problems.append(f"{label}: changed {changed}")
        if crawl.SCRIPT in response.get_data(as_text=True):
            problems.append(f"{label}: the script tag comes back unescaped")
        answer = response.get_json(silent=True) or {}
        if not 400 <= response.status_code < 500 or not answer.get("reason") or not answer.get("message"):
            problems.append(f"{label}: {response.status_code} {response.get_data(as_text=True)[:200]!r}")
    # The same body with a real code goes through: the bad ones were refused for their value.
    before = crawl.snapshot()
    response = client.post(path, json={"value": _voucher_code(d)}, headers=headers)
    assert response.status_code == 200 and response.get_json()["reason"] == "ok"
    if path.endswith("handover"):
        assert crawl.changes(before, crawl.snapshot())
    assert not problems, "\n".join(problems)


# --- the letters' own refusals: date ranges, periods, seal files, steps that no longer apply ----------


@pytest.mark.parametrize("label", sorted(letter_forms.REFUSALS))
def test_letters_refuse_with_a_message(make_client, district, label):
    """Realistic bad submissions the generic spoilers cannot make: 4xx with the service's message, nothing changed."""
    actor, url, data, message = letter_forms.REFUSALS[label]
    d = _setup(district)
    letter_forms.prepare(d)
    client = english(make_client())
    login(client, getattr(d, actor))
    path = url(d) if callable(url) else url
    before = crawl.snapshot()
    response = client.post(path, data=data(d))
    body = response.get_data(as_text=True)
    assert 400 <= response.status_code < 500 and crawl.ERROR_SHOWN.search(body), (response.status_code, body[:2000])
    assert message in body and crawl.SCRIPT not in body
    assert not crawl.changes(before, crawl.snapshot())


# --- bad values in the URL: ids and query strings -------------------------------------------------

BAD_IDS = [0, 2147483648, 99999999999999999999]
BAD_QUERY = [LONG, "abc", "-1", "99999999999999999999", crawl.SCRIPT, UNICODE, "%", "_"]
QUERY_KEYS = ["q", "page", "year", "community", "action", "role"]
SERVICE_OBJECTS = ("activity", "signup", "need", "order", "resource", "project", "record")


def test_absurd_ids_in_urls_are_404(app, make_client, district):
    """Every URL id out of range, for the district organiser who may see everything: 404, never a 500."""
    d = _setup(district)
    client = english(make_client())
    login(client, d.organiser_all)
    problems = []
    for rule in crawl.routes(app):
        if not rule.arguments or rule.endpoint in ("static", "core.set_language"):
            continue
        for bad in BAD_IDS:
            for arg in rule.arguments:
                # Build with 1 then swap the number in, since the converter refuses to build huge ids.
                path = crawl.build(app, rule.endpoint, **{a: (7654321 if a == arg else 1) for a in rule.arguments})
                path = path.replace("7654321", str(bad))
                for method in crawl.methods(rule):
                    before = crawl.snapshot()
                    status = client.open(path, method=method).status_code
                    if status not in (403, 404):
                        problems.append(f"{method} {path} [{rule.endpoint}]: {status}, expected 404")
                    if changed := crawl.changes(before, crawl.snapshot()):
                        problems.append(f"{method} {path}: changed {changed}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("actor", ["organiser_all", "admin_a", "employer_a"])
def test_bad_query_strings_on_every_page(app, make_client, district, actor):
    """Search boxes and filters (?q=, ?page=, ?year=, ...) take anything without a 500 or an echoed script."""
    d = _setup(district)
    client = english(make_client())
    login(client, getattr(d, actor))
    ids = {
        "user_id": d.member_a.id,  # a party member of a: a user page, and a service trail
        "community_id": d.a.id,
        "compound_id": d.compound_a.id,
        "building_id": d.building_a.id,
        "report_id": d.report_a.id,
        "street_id": d.street_a.id,
        "unit_id": d.unit_a.id,
        "indicator_id": d.indicator_a.id,
        "declaration_id": d.declarations["submitted"].id,
        "photo_id": d.photo_a.id,
        "entry_id": d.entry_a,
        **{f"{name}_id": getattr(d.service, name) for name in SERVICE_OBJECTS},
        "token": d.service.token,
        "item_id": d.exchange.item,
        "voucher_id": d.exchange.voucher,
        "batch_id": d.letters.batch,
        "document_id": d.letters.letter,
        "number": d.letters.numbers[0],
    }
    problems = []
    for rule in crawl.routes(app):
        if "GET" not in rule.methods or rule.endpoint in ("static", "core.healthz"):
            continue
        path = crawl.build(app, rule.endpoint, **{a: ids[a] for a in rule.arguments})
        for bad in BAD_QUERY:
            # ?community= apart: a refused community (404) must not hide what the other keys do.
            queries = [{k: bad for k in QUERY_KEYS if k != "community"}, {"community": bad}]
            # The letters pages' own keys, each alone (a document's PDF reads none: not rendered again for them).
            if rule.endpoint.startswith(("letters.", "verify.")) and not rule.rule.endswith(".pdf"):
                queries += [{k: bad} for k in letter_forms.QUERY_KEYS]
            for query in queries:
                response = client.get(path, query_string=query)
                if response.status_code >= 500:
                    problems.append(f"GET {path}?{'&'.join(query)}={bad[:20]!r}: {response.status_code}")
                if crawl.SCRIPT.encode() in response.get_data():  # bytes: evidence photos are binary
                    problems.append(f"GET {path}?{'&'.join(query)}=<script>: echoed unescaped")
    assert not problems, "\n".join(problems)
