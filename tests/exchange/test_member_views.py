"""The member-card desk pages: a steward serves a resident without a smartphone, who confirms with a PIN."""

import uuid

import pytest
from sqlalchemy import func, select

from volunteer.accounts.models import Role, User
from volunteer.core.audit import AuditEntry
from volunteer.exchange import pins, vouchers
from volunteer.exchange.models import Item, Voucher
from volunteer.extensions import db
from volunteer.ledger.models import PointsAccount
from volunteer.service.cards import card_token

from .. import factories
from ..conftest import text
from . import factories as xf

PIN = "2749"


def member_url(user, suffix="") -> str:
    return f"/exchange/desk/members/{card_token(user)}{suffix}"


def account(user, community) -> PointsAccount | None:
    db.session.expire_all()
    return db.session.scalar(
        select(PointsAccount).where(PointsAccount.user_id == user.id, PointsAccount.community_id == community.id)
    )


def voucher_count() -> int:
    return db.session.scalar(select(func.count(Voucher.id)))


def audited(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def reserve(client, member, item, pin=PIN, key=None, **extra):
    data = {"item": item.id, "pin": pin, "request_key": key or str(uuid.uuid4()), **extra}
    return client.post(member_url(member, "/reserve"), data=data)


@pytest.fixture
def shop(district):
    """Resident A with 100 points and a PIN; an item of community A on sale."""
    d = district
    xf.fund(d.resident_a, d.a, 100)
    pins.set_pin(d.resident_a, PIN, d.steward_a)
    d.rice = xf.item(d.a, units=3, price=30, name="大米")
    return d


# --- the member page -----------------------------------------------------------------------------


def test_the_steward_sees_the_member_points_pin_vouchers_and_items(shop, browse):
    d = shop
    xf.item(d.b, units=5, name="隔壁的油")
    open_one = vouchers.reserve(d.resident_a, d.rice.id)
    response = browse(d.steward_a).get(member_url(d.resident_a))
    page = text(response)
    assert response.status_code == 200
    assert d.resident_a.name in page and d.resident_a.masked_phone in page and d.resident_a.phone not in page
    assert "1栋" in page and "幸福小区" in page
    assert "<strong>70</strong>" in page  # 100 points, 30 held by the open voucher
    assert open_one.code in page and 'action="/exchange/desk/handover"' in page
    assert f'name="value" value="{open_one.code}"' in page
    assert "大米" in page and "2 in stock" in page and "隔壁的油" not in page
    assert 'type="password"' in page and 'inputmode="numeric"' in page and 'name="request_key"' in page
    assert "Change the PIN" in page


def test_a_member_without_a_pin_cannot_be_reserved_for_yet(district, browse):
    d = district
    xf.item(d.a, units=2, name="毛巾")
    page = text(browse(d.steward_a).get(member_url(d.resident_a)))
    assert "Not set yet" in page and "Set a PIN" in page and "毛巾" in page
    assert 'type="password"' not in page


def test_a_steward_of_another_community_gets_404(shop, browse):
    d = shop
    client = browse(d.steward_b)
    assert client.get(member_url(d.resident_a)).status_code == 404
    assert reserve(client, d.resident_a, d.rice).status_code == 404
    assert client.get(member_url(d.resident_a, "/pin")).status_code == 404
    assert voucher_count() == 0 and audited(pins.FAILED) == []


def test_a_resident_is_not_desk_staff(shop, browse):
    assert browse(shop.resident_b).get(member_url(shop.resident_a)).status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(shop, client):
    response = client.get(member_url(shop.resident_a))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("edit", ["forged", "edited", "swapped", "voucher", "huge"])
def test_a_forged_or_edited_card_token_is_404(shop, browse, edit):
    d = shop
    token = card_token(d.resident_a)
    bad = {
        "forged": lambda: "eyJpZCI6MX0.c2lnbmF0dXJl",
        "edited": lambda: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        "swapped": lambda: card_token(d.resident_b).split(".")[0] + "." + token.split(".")[1],
        "voucher": lambda: vouchers.qr_token(vouchers.reserve(d.resident_a, d.rice.id)),  # signed, but not a card
        "huge": lambda: "x" * 2000,
    }[edit]()
    client = browse(d.steward_a)
    assert client.get(f"/exchange/desk/members/{bad}").status_code == 404
    data = {"item": d.rice.id, "pin": PIN, "request_key": str(uuid.uuid4())}
    assert client.post(f"/exchange/desk/members/{bad}/reserve", data=data).status_code == 404
    assert voucher_count() == (1 if edit == "voucher" else 0)


def test_a_deactivated_members_card_stops_working(shop, browse):
    db.session.get(User, shop.resident_a.id).active = False
    db.session.commit()
    assert browse(shop.steward_a).get(member_url(shop.resident_a)).status_code == 404


def test_an_organiser_picks_the_supermarket_among_the_members(shop, browse):
    d = shop
    factories.grant(d.resident_a, Role.VOLUNTEER, community_=d.b)
    xf.item(d.b, units=5, name="东二的油")
    client = browse(d.organiser_a)
    page = text(client.get(member_url(d.resident_a)))
    assert d.a.name in page and d.b.name in page and "大米" in page
    assert "东二的油" in text(client.get(member_url(d.resident_a, f"?community={d.b.id}")))
    assert client.get(member_url(d.resident_a, f"?community={d.c.id}")).status_code == 404


# --- reserving on the member's behalf -------------------------------------------------------------


def test_reserve_for_them_holds_their_points_and_shows_the_code(shop, browse):
    d = shop
    client = browse(d.steward_a)
    response = reserve(client, d.resident_a, d.rice)
    assert response.status_code == 303
    assert response.headers["Location"].startswith(member_url(d.resident_a))
    voucher = db.session.scalar(select(Voucher))
    assert (voucher.user_id, voucher.reserved_by_id, voucher.state) == (d.resident_a.id, d.steward_a.id, "reserved")
    assert (account(d.resident_a, d.a).balance, account(d.resident_a, d.a).held) == (100, 30)
    assert account(d.steward_a, d.a) is None or account(d.steward_a, d.a).held == 0
    [entry] = audited("exchange.reserve_for_member")
    assert (entry.actor_id, entry.object_id, entry.community_id) == (d.steward_a.id, voucher.id, d.a.id)
    page = text(client.get(response.headers["Location"]))
    assert f"Voucher code: {voucher.code}" in page and f'value="{voucher.code}"' in page


def test_a_repeated_request_key_gives_one_voucher(shop, browse):
    d = shop
    client = browse(d.steward_a)
    key = str(uuid.uuid4())
    assert reserve(client, d.resident_a, d.rice, key=key).status_code == 303
    assert reserve(client, d.resident_a, d.rice, key=key).status_code == 303
    assert voucher_count() == 1 and account(d.resident_a, d.a).held == 30
    assert len(audited("exchange.reserve_for_member")) == 1
    db.session.expire_all()
    assert db.session.get(Item, d.rice.id).stock == 2


def test_a_wrong_pin_is_refused_counted_and_changes_nothing(shop, browse):
    d = shop
    response = reserve(browse(d.steward_a), d.resident_a, d.rice, pin="1357")
    assert response.status_code == 400
    assert "Wrong PIN. 4 tries left" in text(response) and "Nothing was reserved" in text(response)
    assert voucher_count() == 0 and account(d.resident_a, d.a).held == 0
    [failed] = audited(pins.FAILED)
    assert (failed.actor_id, failed.object_id, failed.community_id) == (d.steward_a.id, d.resident_a.id, d.a.id)


def test_five_wrong_pins_lock_reservations_for_the_member(shop, browse):
    d = shop
    client = browse(d.steward_a)
    for _ in range(5):
        assert reserve(client, d.resident_a, d.rice, pin="1357").status_code == 400
    response = reserve(client, d.resident_a, d.rice)  # the right PIN, too late
    assert response.status_code == 400 and "Too many wrong PINs" in text(response)
    assert voucher_count() == 0 and len(audited(pins.FAILED)) == 5
    page = text(client.get(member_url(d.resident_a)))
    assert "Locked after too many wrong PINs" in page and 'type="password"' not in page


def test_no_pin_set_is_a_clear_refusal(district, browse):
    d = district
    xf.fund(d.resident_a, d.a, 100)
    item = xf.item(d.a, units=3, price=30)
    response = reserve(browse(d.steward_a), d.resident_a, item)
    assert response.status_code == 400 and "has no PIN yet" in text(response)
    assert voucher_count() == 0 and audited(pins.FAILED) == []


def test_a_refusal_from_the_supermarket_is_shown_and_changes_nothing(shop, browse):
    d = shop
    dear = xf.item(d.a, units=1, price=500, name="电饭煲")
    response = reserve(browse(d.steward_a), d.resident_a, dear)
    assert response.status_code == 400 and "Nothing was reserved" in text(response)
    assert voucher_count() == 0 and account(d.resident_a, d.a).held == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"pin": "12a4"}, "The PIN is 4 to 6 digits."),
        ({"pin": ""}, "This field is required."),
        ({"pin": "1234567"}, "The PIN is 4 to 6 digits."),
        ({"request_key": ""}, "This form has expired"),
        ({"request_key": "not-a-key"}, "This form has expired"),
        ({"item": "abc"}, "Choose an item."),
        ({"item": "99999999999999"}, "Choose an item."),
        ({"item": ""}, "Choose an item."),
    ],
)
def test_bad_input_on_the_reserve_form_is_a_400_with_a_message(shop, browse, data, message):
    d = shop
    form = {"item": d.rice.id, "pin": PIN, "request_key": str(uuid.uuid4()), **data}
    response = browse(d.steward_a).post(member_url(d.resident_a, "/reserve"), data=form)
    assert response.status_code == 400 and message in text(response)
    assert voucher_count() == 0 and audited(pins.FAILED) == [] and account(d.resident_a, d.a).held == 0


def test_an_item_of_another_community_is_404(shop, browse):
    d = shop
    factories.grant(d.steward_a, Role.VOLUNTEER, community_=d.b)  # irrelevant: the member does not shop in b
    other = xf.item(d.b, units=3, price=10)
    assert reserve(browse(d.steward_a), d.resident_a, other).status_code == 404
    assert voucher_count() == 0 and audited(pins.FAILED) == []


# --- setting the PIN ----------------------------------------------------------------------------


def test_the_resident_sets_a_pin_on_the_stewards_tablet(district, browse):
    d = district
    client = browse(d.steward_a)
    page = text(client.get(member_url(d.resident_a, "/pin")))
    assert 'type="password"' in page and 'inputmode="numeric"' in page and d.resident_a.masked_phone in page
    response = client.post(member_url(d.resident_a, "/pin"), data={"pin": "５８２１３", "again": "58213"})
    assert response.status_code == 303 and response.headers["Location"].startswith(member_url(d.resident_a))
    assert pins.check_pin(d.resident_a, "58213")
    [entry] = audited(pins.SET)
    assert (entry.actor_id, entry.object_id, entry.community_id) == (d.steward_a.id, d.resident_a.id, d.a.id)
    assert "PIN for" in text(client.get(response.headers["Location"]))


def test_changing_a_pin_is_audited_as_a_reset(shop, browse):
    d = shop
    response = browse(d.steward_a).post(member_url(d.resident_a, "/pin"), data={"pin": "58213", "again": "58213"})
    assert response.status_code == 303 and len(audited(pins.RESET)) == 1
    assert pins.check_pin(d.resident_a, "58213") and not pins.check_pin(d.resident_a, PIN)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"pin": "58213", "again": "58214"}, "The two PINs are not the same."),
        ({"pin": "1234", "again": "1234"}, "too easy to guess"),
        ({"pin": "0000", "again": "0000"}, "too easy to guess"),
        ({"pin": "12", "again": "12"}, "The PIN is 4 to 6 digits."),
        ({"pin": "abcd", "again": "abcd"}, "The PIN is 4 to 6 digits."),
        ({"pin": "", "again": ""}, "This field is required."),
        ({}, "This field is required."),
    ],
)
def test_bad_input_on_the_pin_form_is_a_400_and_changes_nothing(district, browse, data, message):
    d = district
    response = browse(d.steward_a).post(member_url(d.resident_a, "/pin"), data=data)
    assert response.status_code == 400 and message in text(response)
    db.session.expire_all()
    assert db.session.get(User, d.resident_a.id).pin_hash is None and audited(pins.SET) == []


def test_the_phone_number_is_not_a_pin(district, browse):
    d = district
    member = factories.resident(d.building_a, phone="13972946815")
    response = browse(d.steward_a).post(member_url(member, "/pin"), data={"pin": "6815", "again": "6815"})
    assert response.status_code == 400 and "part of the phone number" in text(response)
    assert db.session.get(User, member.id).pin_hash is None
