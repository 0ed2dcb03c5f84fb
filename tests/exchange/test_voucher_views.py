"""The resident's pages: the shop, reserving (once per request key), refusals, my vouchers, the QR voucher, cancel."""

import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from volunteer.core.models import local_today, utcnow
from volunteer.exchange import catalogue, desk, vouchers
from volunteer.exchange.models import Item, Voucher
from volunteer.extensions import db
from volunteer.ledger.models import PointsAccount
from volunteer.ledger.verify import mismatches

from ..conftest import text
from . import factories as xf
from .test_catalogue import assert_counters_are_movements


def account(user, community) -> tuple[int, int]:
    db.session.expire_all()
    row = db.session.scalar(
        select(PointsAccount).where(PointsAccount.user_id == user.id, PointsAccount.community_id == community.id)
    )
    return (row.balance, row.held) if row else (0, 0)


def counters(item_id):
    db.session.expire_all()
    item = db.session.get(Item, item_id)
    return item.stock, item.reserved, item.issued


def voucher_count() -> int:
    return db.session.scalar(select(func.count(Voucher.id)))


def request_key(page: str) -> str:
    return re.search(r'name="request_key" type="hidden" value="([0-9a-f]{32})"', page).group(1)


@pytest.fixture
def shop(district):
    d = district
    towel = xf.item(d.a, units=3, price=30, name="毛巾", per_person_limit=2, limit_period="month")
    catalogue.add_stock(d.steward_a, towel.id, 1, kind="donation", unit_id=d.unit_a.id)
    xf.fund(d.resident_a, d.a, 100)
    return d, towel


def test_shop_lists_items_on_sale_with_points_and_filters(shop, browse):
    d, towel = shop
    xf.item(d.a, units=0, price=50, name="大米", category="grain_oil")
    xf.item(d.a, units=5, name="下架的", active=False)
    xf.item(d.a, units=5, name="明天才卖", available_from=local_today() + timedelta(days=1))
    xf.item(d.a, units=5, name="昨天结束", available_until=local_today() - timedelta(days=1))
    xf.item(d.b, units=5, name="别的社区的")
    page = text(browse(d.resident_a).get("/exchange/shop"))
    assert "毛巾" in page and "大米" in page and "30 points" in page and "Out of stock" in page
    assert "Donated by 东城供电局" in page and "2 per person a month" in page
    assert re.search(r'class="stat">\s*100\s*<', page)  # the points available, on top
    for hidden in ("下架的", "明天才卖", "昨天结束", "别的社区的"):
        assert hidden not in page
    filtered = text(browse(d.resident_a).get("/exchange/shop?category=grain_oil"))
    assert "大米" in filtered and "毛巾" not in filtered
    assert "毛巾" in text(browse(d.resident_a).get("/exchange/shop?category=nonsense"))
    assert browse(d.resident_a).get(f"/exchange/shop?community={d.b.id}").status_code == 404
    assert "别的社区的" in text(browse(d.resident_b).get("/exchange/shop"))
    assert "毛巾" not in text(browse(d.resident_b).get("/exchange/shop"))
    assert "毛巾" in text(browse(d.member_a).get("/exchange/shop"))  # a volunteer of the community shops there too


def test_reserving_through_the_page_holds_points_and_shows_the_voucher(shop, browse):
    d, towel = shop
    resident = browse(d.resident_a)
    page = text(resident.get(f"/exchange/shop/{towel.id}"))
    assert "Reserve for 30 points" in page and "Your points available here: 100" in page
    response = resident.post(f"/exchange/shop/{towel.id}/reserve", data={"request_key": request_key(page)})
    assert response.status_code == 303
    voucher = db.session.scalars(select(Voucher)).one()
    assert response.headers["Location"].endswith(f"/exchange/vouchers/{voucher.id}")
    assert account(d.resident_a, d.a) == (100, 30) and counters(towel.id) == (3, 1, 0)
    shown = resident.get(response.headers["Location"])
    page = text(shown)
    assert "Reserved: show this code at the desk before" in page  # the flash
    assert re.search(r'<div class="voucher-qr"><svg[^>]* class="qr"', page)
    assert f"<span>{voucher.code[:4]}</span> <span>{voucher.code[4:]}</span>" in page
    assert "voucher-qr" in page and shown.headers["Cache-Control"] == "private, no-store"
    assert vouchers.public_id_of(vouchers.qr_token(voucher)) == voucher.public_id  # a signed random id, not the row id
    assert desk.look_up(d.steward_a, vouchers.qr_token(voucher)).reason == "ok"
    listing = text(resident.get("/exchange/vouchers"))
    assert "毛巾" in listing and "Reserved: show it at the desk" in listing
    assert not mismatches()
    assert_counters_are_movements(towel.id)


def test_the_same_request_key_twice_gives_one_voucher(shop, browse):
    d, towel = shop
    resident = browse(d.resident_a)
    key = request_key(text(resident.get(f"/exchange/shop/{towel.id}")))
    first = resident.post(f"/exchange/shop/{towel.id}/reserve", data={"request_key": key})
    again = resident.post(f"/exchange/shop/{towel.id}/reserve", data={"request_key": key})
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    assert voucher_count() == 1 and account(d.resident_a, d.a) == (100, 30) and counters(towel.id) == (3, 1, 0)
    # A fresh page is a fresh key: a second reservation on purpose.
    key2 = request_key(text(resident.get(f"/exchange/shop/{towel.id}")))
    assert key2 != key
    assert resident.post(f"/exchange/shop/{towel.id}/reserve", data={"request_key": key2}).status_code == 303
    assert voucher_count() == 2 and account(d.resident_a, d.a) == (100, 60)
    # Someone else's key does not give them that voucher.
    xf.fund(d.member_a, d.a, 100)
    stolen = browse(d.member_a).post(f"/exchange/shop/{towel.id}/reserve", data={"request_key": key})
    assert stolen.status_code == 403 and voucher_count() == 2


def test_refusals_are_shown_and_change_nothing(shop, browse):
    d, towel = shop
    poor = d.member_a
    xf.fund(poor, d.a, 10)
    response = browse(poor).post(f"/exchange/shop/{towel.id}/reserve", data={"request_key": "a" * 32})
    assert response.status_code == 409 and "Not enough points available for this." in text(response)
    assert voucher_count() == 0 and account(poor, d.a) == (10, 0) and counters(towel.id) == (4, 0, 0)
    # The per-person limit.
    resident = browse(d.resident_a)
    for n in range(2):
        assert resident.post(f"/exchange/shop/{towel.id}/reserve", data={"request_key": f"{n}" * 32}).status_code == 303
    response = resident.post(f"/exchange/shop/{towel.id}/reserve", data={"request_key": "c" * 32})
    assert response.status_code == 409 and "You have reached the limit for this item." in text(response)
    assert voucher_count() == 2 and account(d.resident_a, d.a) == (100, 60)
    # Out of stock.
    soap = xf.item(d.a, units=1, price=5, name="肥皂")
    assert resident.post(f"/exchange/shop/{soap.id}/reserve", data={"request_key": "d" * 32}).status_code == 303
    response = browse(poor).post(f"/exchange/shop/{soap.id}/reserve", data={"request_key": "e" * 32})
    assert response.status_code == 409 and "out of stock" in text(response)
    assert counters(soap.id) == (0, 1, 0) and account(poor, d.a) == (10, 0)
    # A missing or forged key is a form error.
    for bad in ({}, {"request_key": ""}, {"request_key": "x' OR 1=1"}, {"request_key": "A" * 32}):
        response = resident.post(f"/exchange/shop/{towel.id}/reserve", data=bad)
        assert response.status_code == 400 and "Please reload the page and try again." in text(response)
    assert voucher_count() == 3
    assert not mismatches()


def test_another_communitys_or_an_unsold_item_cannot_be_seen_or_reserved(shop, browse):
    d, towel = shop
    off = xf.item(d.a, units=5, name="下架的", active=False)
    later = xf.item(d.a, units=5, name="明天才卖", available_from=local_today() + timedelta(days=1))
    xf.fund(d.resident_b, d.a, 100)  # points in a, but not a member of a
    other = browse(d.resident_b)
    assert other.get(f"/exchange/shop/{towel.id}").status_code == 404
    assert other.post(f"/exchange/shop/{towel.id}/reserve", data={"request_key": "f" * 32}).status_code == 404
    resident = browse(d.resident_a)
    for item in (off, later):
        assert resident.get(f"/exchange/shop/{item.id}").status_code == 404
        assert resident.post(f"/exchange/shop/{item.id}/reserve", data={"request_key": "9" * 32}).status_code == 404
    assert resident.get("/exchange/shop/99999").status_code == 404
    assert voucher_count() == 0 and counters(towel.id) == (4, 0, 0)
    # Someone with no community shops nowhere.
    assert browse(d.employer_a).get("/exchange/shop").status_code == 403


def test_voucher_pages_are_the_owners_only(shop, browse):
    d, towel = shop
    voucher = vouchers.reserve(d.resident_a, towel.id)
    for user in (d.resident_b, d.steward_a, d.member_a):
        client = browse(user)
        assert client.get(f"/exchange/vouchers/{voucher.id}").status_code == 404
        assert client.get(f"/exchange/vouchers/{voucher.id}.png").status_code == 404
        assert client.post(f"/exchange/vouchers/{voucher.id}/cancel").status_code == 404
        assert "毛巾" not in text(client.get("/exchange/vouchers"))
    assert browse(d.resident_a).get("/exchange/vouchers/99999").status_code == 404
    db.session.expire_all()
    assert db.session.get(Voucher, voucher.id).state == "reserved"


def test_png_download_is_a_scannable_attachment(shop, browse):
    d, towel = shop
    voucher = vouchers.reserve(d.resident_a, towel.id)
    response = browse(d.resident_a).get(f"/exchange/vouchers/{voucher.id}.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.headers["Content-Disposition"] == f'attachment; filename="voucher-{voucher.code}.png"'
    with Image.open(io.BytesIO(response.data)) as image:
        assert image.width >= 200


def test_cancel_gives_points_and_stock_back(shop, browse):
    d, towel = shop
    voucher = vouchers.reserve(d.resident_a, towel.id)
    resident = browse(d.resident_a)
    assert "Cancel this voucher" in text(resident.get(f"/exchange/vouchers/{voucher.id}"))
    response = resident.post(f"/exchange/vouchers/{voucher.id}/cancel")
    assert response.status_code == 303
    assert "30 points are available again" in text(resident.get(response.headers["Location"]))
    assert account(d.resident_a, d.a) == (100, 0) and counters(towel.id) == (4, 0, 0)
    page = text(resident.get(f"/exchange/vouchers/{voucher.id}"))
    assert "Cancelled" in page and "Cancel this voucher" not in page and "<svg" not in page
    # Cancelling twice is refused and changes nothing.
    again = resident.post(f"/exchange/vouchers/{voucher.id}/cancel")
    assert again.status_code == 400 and "Only a voucher not yet handed over can be cancelled." in text(again)
    assert account(d.resident_a, d.a) == (100, 0) and counters(towel.id) == (4, 0, 0)
    assert not mismatches()
    assert_counters_are_movements(towel.id)


def test_a_handed_over_voucher_cannot_be_cancelled(shop, browse):
    d, towel = shop
    voucher = vouchers.reserve(d.resident_a, towel.id)
    assert desk.hand_over(d.steward_a, voucher.code).ok
    resident = browse(d.resident_a)
    page = text(resident.get(f"/exchange/vouchers/{voucher.id}"))
    assert "Handed over" in page and "Cancel this voucher" not in page and "<svg" not in page
    assert resident.post(f"/exchange/vouchers/{voucher.id}/cancel").status_code == 400
    assert account(d.resident_a, d.a) == (70, 0) and counters(towel.id) == (3, 0, 1)


def test_an_expired_voucher_shows_as_expired_before_the_sweep(shop, browse):
    d, towel = shop
    voucher = vouchers.reserve(d.resident_a, towel.id)
    fresh = vouchers.reserve(d.resident_a, towel.id)
    db.session.get(Voucher, voucher.id).expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    resident = browse(d.resident_a)
    page = text(resident.get(f"/exchange/vouchers/{voucher.id}"))
    assert "Expired" in page and "<svg" not in page and voucher.code[:4] not in page
    listing = text(resident.get("/exchange/vouchers"))
    assert listing.count("Expired") == 1 and listing.count("Reserved: show it at the desk") == 1
    assert listing.index(towel.name) < listing.rindex(towel.name)  # both listed
    assert listing.index(f"/exchange/vouchers/{fresh.id}") < listing.index(f"/exchange/vouchers/{voucher.id}")


def test_home_page_lists_vouchers_ready_to_show(district, browse):
    d = district
    item = xf.item(d.a, units=3, price=10, name="东北大米")
    xf.fund(d.resident_a, d.a, 50)
    page = browse(d.resident_a).get("/").get_data(as_text=True)
    assert "Points-exchange supermarket" in page and "东北大米" not in page
    voucher = vouchers.reserve(d.resident_a, item.id)
    page = browse(d.resident_a).get("/").get_data(as_text=True)
    assert f"/exchange/vouchers/{voucher.id}" in page and "东北大米" in page
    vouchers.cancel(d.resident_a, voucher.id)
    assert "东北大米" not in browse(d.resident_a).get("/").get_data(as_text=True)
    # Someone who shops nowhere sees no supermarket card.
    assert "Points-exchange supermarket" not in browse(d.employer_a).get("/").get_data(as_text=True)
