"""The desk pages: who may use them, every reason code through JSON and the plain form, hand-over and undo."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from volunteer.core.audit import AuditEntry
from volunteer.core.models import utcnow
from volunteer.exchange import vouchers
from volunteer.exchange.models import Item, StockMovement, Voucher
from volunteer.extensions import db
from volunteer.ledger.models import PointsAccount
from volunteer.ledger.verify import mismatches
from volunteer.service import cards

from ..conftest import english, login
from . import factories as xf

JSON = {"Accept": "application/json"}


@pytest.fixture
def browse(make_client):
    def _browse(user=None):
        client = english(make_client())
        if user is not None:
            login(client, user)
        return client

    return _browse


@pytest.fixture
def shop(district):
    """Community a's rice (20 points, 3 units) and a resident with 50 points and one live voucher."""
    d = district
    d.rice = xf.item(d.a, units=3, price=20, name="大米5斤")
    xf.fund(d.resident_a, d.a, 50)
    d.voucher = vouchers.reserve(d.resident_a, d.rice.id)
    return d


def text(response) -> str:
    return response.get_data(as_text=True)


def scan(client, value, path="/exchange/desk/scan", **extra):
    return client.post(path, json={"value": value, **extra}, headers=JSON)


def state(d):
    """Everything a desk action may change: the voucher, the resident's account, the item's counters."""
    db.session.expire_all()
    v = db.session.get(Voucher, d.voucher.id)
    acc = db.session.scalar(
        select(PointsAccount).where(PointsAccount.user_id == d.resident_a.id, PointsAccount.community_id == d.a.id)
    )
    item = db.session.get(Item, d.rice.id)
    return v.state, v.redeemed_at, acc.balance, acc.held, item.stock, item.reserved, item.issued


# --- who may use the desk ------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["resident_a", "member_a", "collector_a", "council_a", "employer_a"])
def test_only_stewards_and_admins_use_the_desk(browse, shop, who):
    client = browse(getattr(shop, who))
    before = state(shop)
    assert client.get("/exchange/desk").status_code == 403
    assert client.get("/exchange/desk/report").status_code == 403
    assert client.post("/exchange/desk/scan", data={"value": shop.voucher.code}).status_code == 403
    refused = scan(client, shop.voucher.code)
    assert refused.status_code == 403 and refused.json["reason"] == "forbidden" and refused.json["message"]
    assert scan(client, shop.voucher.code, "/exchange/desk/handover").status_code == 403
    assert client.post(f"/exchange/vouchers/{shop.voucher.id}/undo", data={"reason": "x"}).status_code == 403
    assert state(shop) == before


def test_anonymous_is_sent_to_log_in_or_told_so(browse, shop):
    client = browse()
    assert client.get("/exchange/desk").status_code == 302
    answer = scan(client, shop.voucher.code, "/exchange/desk/handover")
    assert answer.status_code == 401 and answer.json["reason"] == "login"
    assert state(shop)[0] == "reserved"


@pytest.mark.parametrize("who", ["steward_a", "admin_a", "organiser_a"])
def test_staff_of_the_community_see_the_desk(browse, shop, who):
    page = browse(getattr(shop, who)).get("/exchange/desk")
    body = text(page)
    assert page.status_code == 200
    assert 'name="value"' in body and 'action="/exchange/desk/scan"' in body
    assert "/static/vendor/qr-scanner-1.4.2/qr-scanner.umd.min.js" in body and "/static/js/desk.js" in body
    assert "<script>" not in body and "//cdn" not in body and "https://" not in body
    assert "/exchange/desk/report" in body and 'name="csrf-token"' in body


def test_desk_summary_counts_today(browse, shop):
    d = shop
    client = browse(d.steward_a)
    scan(client, d.voucher.code, "/exchange/desk/handover")
    vouchers.reserve(d.resident_a, d.rice.id)
    body = text(client.get("/exchange/desk"))
    assert 'data-stat="handed_over">1<' in body and 'data-stat="waiting">1<' in body
    assert 'data-stat="on_shelf">1<' in body and 'data-stat="sold_out">0<' in body


def test_a_steward_of_several_communities_picks_one(browse, shop):
    d = shop
    client = browse(d.organiser_a)  # street a: communities a and b
    body = text(client.get("/exchange/desk"))
    assert f'<option value="{d.a.id}"' in body and f'<option value="{d.b.id}"' in body
    only_b = text(client.get(f"/exchange/desk?community={d.b.id}"))
    assert 'data-stat="waiting">0<' in only_b
    assert client.get(f"/exchange/desk?community={d.c.id}").status_code == 404
    assert client.get("/exchange/desk?community=abc").status_code == 404


# --- scanning: each reason code, through JSON and through the form -------------------------------


def test_scan_ok_shows_resident_item_and_changes_nothing(browse, shop):
    d = shop
    client = browse(d.steward_a)
    before = state(d)
    answer = scan(client, vouchers.qr_token(d.voucher), html=True)
    assert answer.status_code == 200
    data = answer.json
    assert data["reason"] == "ok" and data["message"]
    v = data["voucher"]
    assert v["code"] == d.voucher.code and v["state"] == "reserved" and v["price"] == 20
    assert v["item"]["name"] == "大米5斤" and v["resident"]["name"] == "张三"
    assert v["resident"]["phone"] == d.resident_a.masked_phone and d.resident_a.phone not in answer.text
    assert v["expires_at"].endswith("+00:00")
    assert 'class="desk-handover"' in data["html"] and "Hand over" in data["html"]
    assert state(d) == before


def test_the_items_photo_is_shown_when_it_has_one(browse, shop):
    d = shop
    towel = xf.item(d.a, units=1, price=5, name="毛巾", photo="towel.jpg")
    voucher = vouchers.reserve(d.resident_a, towel.id)
    client = browse(d.steward_a)
    with_photo = scan(client, voucher.code, html=True).json
    assert with_photo["voucher"]["item"]["photo_url"] == f"/exchange/items/{towel.id}/photo"
    assert f'src="/exchange/items/{towel.id}/photo"' in with_photo["html"]
    without = scan(client, d.voucher.code, html=True).json
    assert without["voucher"]["item"]["photo_url"] is None and "desk-nophoto" in without["html"]


def test_typed_codes_ignore_case_dashes_and_spaces(browse, shop):
    d = shop
    client = browse(d.steward_a)
    code = d.voucher.code
    typed = f" {code[:4].lower()}-{code[4:6]} {code[6:].lower()} "
    page = client.post("/exchange/desk/scan", data={"value": typed})
    body = text(page)
    assert page.status_code == 200 and 'data-reason="ok"' in body
    assert "张三" in body and d.resident_a.masked_phone in body and "大米5斤" in body
    assert f'value="{code[:4].lower()}' in body and ">Hand over<" in body
    assert state(d)[0] == "reserved"


def test_an_empty_field_is_asked_again(browse, shop):
    page = browse(shop.steward_a).post("/exchange/desk/scan", data={"value": "  "})
    assert page.status_code == 400 and "This field is required." in text(page)


def _handed_over(d, client):
    assert scan(client, d.voucher.code, "/exchange/desk/handover").status_code == 200


def _cancelled(d, client):
    vouchers.cancel(d.resident_a, d.voucher.id)


def _expired_by_time(d, client):
    db.session.execute(update(Voucher).where(Voucher.id == d.voucher.id).values(expires_at=utcnow() - timedelta(1)))
    db.session.commit()


def _expired_by_command(d, client):
    _expired_by_time(d, client)
    assert vouchers.expire_due() == 1


REFUSALS = [
    (_handed_over, "already_redeemed", 409, "Already handed over at"),
    (_cancelled, "cancelled", 409, "cancelled this voucher"),
    (_expired_by_time, "expired", 409, "has expired"),
    (_expired_by_command, "expired", 409, "has expired"),
]


@pytest.mark.parametrize(("make", "reason", "status", "words"), REFUSALS)
def test_refusals_say_why_and_change_nothing(browse, shop, make, reason, status, words):
    d = shop
    client = browse(d.steward_a)
    make(d, client)
    before = state(d)
    for path in ("/exchange/desk/scan", "/exchange/desk/handover"):
        answer = scan(client, vouchers.qr_token(d.voucher), path, html=True)
        assert (answer.status_code, answer.json["reason"]) == (status, reason)
        assert words in answer.json["message"] and answer.json["voucher"]["code"] == d.voucher.code
        assert "desk-handover" not in answer.json["html"]
        page = client.post(path, data={"value": d.voucher.code})
        assert page.status_code == status and f'data-reason="{reason}"' in text(page) and words in text(page)
        assert ">Hand over<" not in text(page)
    assert state(d) == before
    assert not mismatches()


def test_already_handed_over_names_the_time_and_steward(browse, shop):
    d = shop
    client = browse(d.steward_a)
    _handed_over(d, client)
    answer = scan(browse(d.admin_a), d.voucher.code)
    assert answer.status_code == 409
    assert "Already handed over at" in answer.json["message"] and "by 周管家" in answer.json["message"]


def test_another_communitys_voucher_is_refused_without_details(browse, shop):
    d = shop
    client = browse(d.steward_b)
    before = state(d)
    for path in ("/exchange/desk/scan", "/exchange/desk/handover"):
        answer = scan(client, vouchers.qr_token(d.voucher), path)
        assert (answer.status_code, answer.json["reason"], answer.json["voucher"]) == (404, "other_community", None)
        assert "张三" not in answer.text
        page = client.post(path, data={"value": d.voucher.code})
        assert page.status_code == 404 and 'data-reason="other_community"' in text(page) and "张三" not in text(page)
    assert state(d) == before


GARBAGE = [
    "",
    "   ",
    "ZZZZZZZZ",
    "not a voucher",
    "x" * 100_000,
    "\x00\x01\ufeff",
    "https://example.com/exchange/vouchers/1",
    "<script>alert(1)</script>",
]


@pytest.mark.parametrize("value", GARBAGE)
def test_garbage_is_invalid_and_never_a_server_error(browse, shop, value):
    d = shop
    client = browse(d.steward_a)
    before = state(d)
    for path in ("/exchange/desk/scan", "/exchange/desk/handover"):
        answer = scan(client, value, path)
        assert (answer.status_code, answer.json["reason"]) == (404, "invalid") and answer.json["message"]
        page = client.post(path, data={"value": value})
        assert page.status_code in (400, 404)
    assert state(d) == before


def test_tampered_tokens_and_odd_bodies_are_invalid(browse, shop):
    d = shop
    client = browse(d.steward_a)
    token = vouchers.qr_token(d.voucher)
    for value in (token[:-2] + ("aa" if not token.endswith("aa") else "bb"), token.replace(".", ".x", 1)):
        assert scan(client, value, "/exchange/desk/handover").json["reason"] == "invalid"
    for body in ({"value": 12345678}, {"value": None}, {"value": ["a"]}, {}, [], "text", 5):
        answer = client.post("/exchange/desk/handover", json=body, headers=JSON)
        assert (answer.status_code, answer.json["reason"]) == (404, "invalid")
    broken = client.post("/exchange/desk/scan", data="{not json", content_type="application/json", headers=JSON)
    assert (broken.status_code, broken.json["reason"]) == (404, "invalid")
    assert state(d)[0] == "reserved"


def test_a_scanned_link_ending_in_the_token_works(browse, shop):
    d = shop
    link = f"http://localhost/exchange/vouchers/{d.voucher.id}?t={vouchers.qr_token(d.voucher)}"
    assert scan(browse(d.steward_a), link).json["reason"] == "ok"


def test_a_member_card_opens_the_members_page(browse, shop):
    d = shop
    client = browse(d.steward_a)
    token = cards.card_token(d.resident_a)
    answer = scan(client, token)
    assert answer.status_code == 200
    assert answer.json == {
        "reason": "member",
        "message": answer.json["message"],
        "voucher": None,
        "url": f"/exchange/desk/members/{token}",
    }
    page = client.post("/exchange/desk/scan", data={"value": f"http://localhost/service/card/{token}"})
    assert page.status_code == 303 and page.headers["Location"].endswith(f"/exchange/desk/members/{token}")
    # A card is not a voucher: the hand-over endpoint refuses it.
    assert scan(client, token, "/exchange/desk/handover").json["reason"] == "invalid"


# --- hand over and undo --------------------------------------------------------------------------


def test_hand_over_spends_the_hold_and_issues_the_unit(browse, shop):
    d = shop
    client = browse(d.steward_a)
    assert state(d)[2:] == (50, 20, 2, 1, 0)
    answer = scan(client, vouchers.qr_token(d.voucher), "/exchange/desk/handover", html=True)
    assert answer.status_code == 200 and answer.json["reason"] == "ok"
    assert answer.json["voucher"]["state"] == "redeemed" and answer.json["voucher"]["redeemed_by"] == "周管家"
    assert "Handed over" in answer.json["html"] and 'class="desk-undo"' in answer.json["html"]
    assert "desk-handover" not in answer.json["html"]
    v_state, redeemed_at, *rest = state(d)
    assert v_state == "redeemed" and redeemed_at is not None
    assert rest == [30, 0, 2, 0, 1]  # held 20 -> spent; reserved 1 -> issued
    again = scan(client, d.voucher.code, "/exchange/desk/handover")
    assert (again.status_code, again.json["reason"]) == (409, "already_redeemed")
    assert state(d)[2:] == (30, 0, 2, 0, 1)
    assert not mismatches()


def test_a_hand_overs_answer_shows_the_voucher_as_a_scan_of_it_does_afterwards(browse, shop):
    """The hand-over answers from what it read and wrote (no reload): the same voucher a later scan shows."""
    d = shop
    towel = xf.item(d.a, units=1, price=5, name="毛巾", photo="towel.jpg")
    voucher = vouchers.reserve(d.resident_a, towel.id)
    client = browse(d.steward_a)
    handed = scan(client, vouchers.qr_token(voucher), "/exchange/desk/handover", html=True).json
    later = scan(client, voucher.code, html=True).json
    assert (handed["reason"], later["reason"]) == ("ok", "already_redeemed")
    assert handed["voucher"] == later["voucher"]
    assert handed["voucher"]["item"]["photo_url"] == f"/exchange/items/{towel.id}/photo"
    assert handed["voucher"]["resident"] == {"name": "张三", "phone": d.resident_a.masked_phone}
    for shown in ("毛巾", 'class="desk-photo"', d.resident_a.masked_phone, "周管家", 'class="desk-undo"'):
        assert shown in handed["html"], shown


def test_hand_over_by_form_redirects_to_the_desk_with_undo(browse, shop):
    d = shop
    client = browse(d.steward_a)
    done = client.post("/exchange/desk/handover", data={"value": d.voucher.code})
    assert done.status_code == 303 and done.headers["Location"].endswith("/exchange/desk")
    page = text(client.get("/exchange/desk"))
    assert "Handed over: 大米5斤 to 张三." in page
    assert f'action="/exchange/vouchers/{d.voucher.id}/undo"' in page and "Just handed over" in page
    assert state(d)[0] == "redeemed"


def test_undo_within_ten_minutes_holds_the_points_again(browse, shop):
    d = shop
    client = browse(d.steward_a)
    _handed_over(d, client)
    url = f"/exchange/vouchers/{d.voucher.id}/undo"
    missing = client.post(url, data={"reason": " "})
    assert missing.status_code == 400 and "This field is required." in text(missing)
    assert state(d)[0] == "redeemed"
    done = client.post(url, data={"reason": "拿错了"})
    assert done.status_code == 303
    assert state(d)[0:2] == ("reserved", None) and state(d)[2:] == (50, 20, 2, 1, 0)
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "exchange.handover_undo"))
    undo = db.session.scalar(select(StockMovement).where(StockMovement.kind == "undo"))
    assert undo.reason == "拿错了" and undo.actor_id == d.steward_a.id
    assert "Hand-over undone" in text(client.get("/exchange/desk"))
    # Undone twice: the voucher is no longer handed over.
    again = client.post(url, data={"reason": "再来"})
    assert again.status_code == 400 and "has not been handed over" in text(again)
    assert not mismatches()


def test_undo_is_refused_after_ten_minutes(browse, shop):
    d = shop
    client = browse(d.steward_a)
    _handed_over(d, client)
    late = utcnow() - timedelta(minutes=11)
    db.session.execute(update(Voucher).where(Voucher.id == d.voucher.id).values(redeemed_at=late))
    db.session.commit()
    before = state(d)
    refused = client.post(f"/exchange/vouchers/{d.voucher.id}/undo", data={"reason": "太晚"})
    assert refused.status_code == 400 and "only be undone within 10 minutes" in text(refused)
    assert 'class="desk-undo"' not in text(refused)
    assert state(d) == before
    assert "Just handed over" not in text(client.get("/exchange/desk"))  # no longer offered


def test_another_communitys_steward_cannot_undo(browse, shop):
    d = shop
    _handed_over(d, browse(d.steward_a))
    before = state(d)
    client = browse(d.steward_b)
    assert client.post(f"/exchange/vouchers/{d.voucher.id}/undo", data={"reason": "试试"}).status_code == 404
    assert client.post("/exchange/vouchers/999999/undo", data={"reason": "试试"}).status_code == 404
    assert state(d) == before
