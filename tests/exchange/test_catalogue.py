"""The catalogue services: saving items and photos, restocks and donations, stock-takes, settings.

Every test ends by checking that each item's counters are the sums of its movements.
"""

import io
import os
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from volunteer.core.audit import AuditEntry
from volunteer.core.errors import DomainError, NotAllowed
from volunteer.core.models import local_today
from volunteer.credit import photos
from volunteer.exchange import catalogue, vouchers
from volunteer.exchange.models import ExchangeSettings, Item, StockMovement
from volunteer.extensions import db

from ..credit.factories import jpeg_bytes
from . import factories as xf

ITEM = {"name": "金龙鱼食用油 5L", "category": "grain_oil", "description": "一桶", "price": 120, "active": True}


def assert_counters_are_movements(item_id=None) -> None:
    """stock, reserved and issued of every item (or one) equal the sums of its movements."""
    db.session.expire_all()
    sums = (
        select(
            StockMovement.item_id,
            func.sum(StockMovement.stock_delta),
            func.sum(StockMovement.reserved_delta),
            func.sum(StockMovement.issued_delta),
        )
        .group_by(StockMovement.item_id)
        .subquery()
    )
    stmt = select(Item, sums).outerjoin(sums, sums.c.item_id == Item.id)
    if item_id is not None:
        stmt = stmt.where(Item.id == item_id)
    rows = db.session.execute(stmt).all()
    assert rows
    for row in rows:
        item, moved = row[0], tuple(int(v or 0) for v in row[2:])
        assert (item.stock, item.reserved, item.issued) == moved, item.name


@pytest.fixture(autouse=True)
def _counters_checked():
    yield
    db.session.rollback()
    if db.session.scalar(select(func.count(Item.id))):
        assert_counters_are_movements()


def counters(item_id):
    db.session.expire_all()
    item = db.session.get(Item, item_id)
    return item.stock, item.reserved, item.issued


def code_of(call) -> str:
    with pytest.raises(DomainError) as err:
        call()
    db.session.rollback()
    return err.value.code


def audits(action) -> list[AuditEntry]:
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all()


# --- items -----------------------------------------------------------------------------------------


def test_save_item_creates_and_edits_with_an_audit_trail(district):
    d = district
    item = catalogue.save_item(d.steward_a, d.a.id, {**ITEM, "per_person_limit": 2, "limit_period": "month"})
    assert (item.community_id, item.price, item.per_person_limit, item.limit_period) == (d.a.id, 120, 2, "month")
    assert (item.stock, item.reserved, item.issued) == (0, 0, 0)
    edited = catalogue.save_item(d.steward_a, d.a.id, {**ITEM, "price": 100, "active": False}, item.id)
    assert (edited.id, edited.price, edited.active, edited.per_person_limit, edited.limit_period) == (
        item.id,
        100,
        False,
        None,
        "none",
    )
    saves = audits("exchange.item_save")
    assert len(saves) == 2 and saves[0].before is None and saves[1].before["price"] == 120
    assert saves[1].after["price"] == 100 and saves[1].actor_id == d.steward_a.id
    # Saving the same values again records nothing new.
    catalogue.save_item(d.steward_a, d.a.id, {**ITEM, "price": 100, "active": False}, item.id)
    assert len(audits("exchange.item_save")) == 2


def test_save_item_refuses_bad_values_and_changes_nothing(district):
    d = district
    catalogue.save_item(d.steward_a, d.a.id, ITEM)
    bad = [
        ({**ITEM, "name": "洗衣粉", "price": 0}, "bad_price"),
        ({**ITEM, "name": "洗衣粉", "price": "12"}, "bad_price"),
        ({**ITEM, "name": "", "price": 5}, "bad_name"),
        ({**ITEM, "name": "洗衣粉", "category": "cars"}, "bad_category"),
        ({**ITEM, "name": "洗衣粉", "per_person_limit": 0, "limit_period": "month"}, None),  # 0: no limit
        ({**ITEM, "name": "洗衣粉2", "per_person_limit": 5000}, "bad_limit"),
        ({**ITEM, "name": "洗衣粉3", "limit_period": "week", "per_person_limit": 1}, "bad_period"),
        ({**ITEM, "available_from": local_today(), "available_until": local_today() - timedelta(days=1)}, "bad_window"),
        (ITEM, "bad_name"),  # the same name twice in one catalogue
    ]
    for fields, code in bad:
        if code is None:
            catalogue.save_item(d.steward_a, d.a.id, fields)
            continue
        assert code_of(lambda f=fields: catalogue.save_item(d.steward_a, d.a.id, f)) == code
    assert db.session.scalar(select(func.count(Item.id))) == 2
    # Another community may use the same name.
    assert catalogue.save_item(d.steward_b, d.b.id, ITEM).community_id == d.b.id


def test_only_the_communitys_desk_staff_save_its_items(district):
    d = district
    item = catalogue.save_item(d.steward_a, d.a.id, ITEM)
    for user in (d.steward_b, d.resident_a, d.member_a):
        with pytest.raises(NotAllowed):
            catalogue.save_item(user, d.a.id, {**ITEM, "name": "别的"})
    assert code_of(lambda: catalogue.save_item(d.steward_b, d.b.id, {**ITEM, "price": 1}, item.id)) == "not_found"
    assert db.session.get(Item, item.id).price == 120
    assert catalogue.save_item(d.admin_a, d.a.id, {**ITEM, "price": 90}, item.id).price == 90


def test_item_photo_is_processed_replaced_and_removed(district):
    d = district
    item = catalogue.save_item(d.steward_a, d.a.id, ITEM, photo=io.BytesIO(jpeg_bytes(fmt="PNG")))
    first = item.photo
    assert first and os.path.exists(photos.path_of(first))
    with open(photos.path_of(first), "rb") as fh:
        assert fh.read(3) == b"\xff\xd8\xff"  # re-encoded as JPEG
    item = catalogue.save_item(d.steward_a, d.a.id, ITEM, item.id, photo=io.BytesIO(jpeg_bytes()))
    assert item.photo != first and not os.path.exists(photos.path_of(first))
    # A picture that is not one is refused, and the item keeps its photo.
    kept = item.photo
    bad = lambda: catalogue.save_item(d.steward_a, d.a.id, ITEM, item.id, photo=io.BytesIO(b"GIF89a nope"))  # noqa: E731
    assert code_of(bad) == "photo_invalid"
    assert db.session.get(Item, item.id).photo == kept
    # A refused save does not leave its new picture behind.
    before = set(os.listdir(photos.upload_dir()))
    refused = lambda: catalogue.save_item(  # noqa: E731
        d.steward_a, d.a.id, {**ITEM, "price": 0}, item.id, photo=io.BytesIO(jpeg_bytes())
    )
    assert code_of(refused) == "bad_price"
    assert set(os.listdir(photos.upload_dir())) == before
    item = catalogue.save_item(d.steward_a, d.a.id, {**ITEM, "remove_photo": True}, item.id)
    assert item.photo is None and not os.path.exists(photos.path_of(kept))


# --- stock -----------------------------------------------------------------------------------------


def test_restock_and_donation_add_stock_as_movements(district):
    d = district
    item = xf.item(d.a, units=0)
    restock = catalogue.add_stock(d.steward_a, item.id, 10, kind="restock", note="发票 123")
    assert (restock.kind, restock.stock_delta, restock.unit_id, restock.actor_id) == (
        "restock",
        10,
        None,
        d.steward_a.id,
    )
    gift = catalogue.add_stock(d.steward_a, item.id, 5, kind="donation", unit_id=d.unit_a.id, note="共建捐赠")
    assert (gift.kind, gift.stock_delta, gift.unit_id, gift.reason) == ("donation", 5, d.unit_a.id, "共建捐赠")
    catalogue.add_stock(d.admin_a, item.id, 1, kind="donation", unit_id=d.unit_b.id)
    catalogue.add_stock(d.steward_a, item.id, 2, kind="donation", unit_id=d.unit_a.id)
    assert counters(item.id) == (18, 0, 0)
    assert [u.name for u in catalogue.donors_of(item.id)] == sorted([d.unit_a.name, d.unit_b.name])
    assert catalogue.donors_by_item([item.id, 999]) == {item.id: catalogue.donors_of(item.id)}
    logged = audits("exchange.donation")
    assert len(logged) == 3 and logged[0].after["unit_id"] == d.unit_a.id and logged[0].community_id == d.a.id
    assert len(audits("exchange.restock")) == 1
    assert_counters_are_movements(item.id)


def test_add_stock_refuses_bad_input_and_other_communities(district):
    d = district
    item = xf.item(d.a, units=3)
    refusals = [
        (lambda: catalogue.add_stock(d.steward_a, item.id, 5, kind="donation"), "bad_unit"),
        (lambda: catalogue.add_stock(d.steward_a, item.id, 5, kind="donation", unit_id=99999), "bad_unit"),
        (lambda: catalogue.add_stock(d.steward_a, item.id, 0, kind="restock"), "bad_quantity"),
        (lambda: catalogue.add_stock(d.steward_a, item.id, 10001, kind="restock"), "bad_quantity"),
        (lambda: catalogue.add_stock(d.steward_a, item.id, -4, kind="restock"), "bad_quantity"),
        (lambda: catalogue.add_stock(d.steward_a, item.id, 2, kind="count"), "bad_kind"),
        (lambda: catalogue.add_stock(d.steward_a, item.id, 2, kind="restock", note="x" * 301), "bad_note"),
        (lambda: catalogue.add_stock(d.steward_b, item.id, 2, kind="restock"), "not_found"),
        (lambda: catalogue.add_stock(d.resident_a, item.id, 2, kind="restock"), "not_found"),
    ]
    for call, code in refusals:
        assert code_of(call) == code
    assert counters(item.id) == (3, 0, 0)
    assert db.session.scalar(select(func.count(StockMovement.id))) == 1
    # A restock records no donor even if one is passed.
    assert catalogue.add_stock(d.steward_a, item.id, 1, kind="restock", unit_id=d.unit_a.id).unit_id is None


# --- stock-take ------------------------------------------------------------------------------------


def test_stocktake_records_each_difference_as_a_count_movement(district):
    d = district
    rice, oil, soap = xf.item(d.a, units=10), xf.item(d.a, units=4), xf.item(d.a, units=6)
    xf.fund(d.resident_a, d.a, 100)
    vouchers.reserve(d.resident_a, rice.id)  # rice: 9 free + 1 reserved, all still on the shelf
    differences = catalogue.stocktake(d.steward_a, d.a.id, {rice.id: 8, oil.id: 4, soap.id: 7}, "月度盘点")
    assert [(x.item_id, x.expected, x.counted, x.difference) for x in differences] == [
        (rice.id, 10, 8, -2),
        (soap.id, 6, 7, 1),
    ]
    assert counters(rice.id) == (7, 1, 0) and counters(oil.id) == (4, 0, 0) and counters(soap.id) == (7, 0, 0)
    moves = db.session.scalars(select(StockMovement).where(StockMovement.kind == "count")).all()
    assert sorted((m.item_id, m.stock_delta, m.reason, m.actor_id) for m in moves) == [
        (rice.id, -2, "月度盘点", d.steward_a.id),
        (soap.id, 1, "月度盘点", d.steward_a.id),
    ]
    (entry,) = audits("exchange.stocktake")
    assert entry.community_id == d.a.id and entry.after["reason"] == "月度盘点" and entry.after["counted"] == 3
    assert entry.after["differences"] == {
        str(rice.id): {"expected": 10, "counted": 8},
        str(soap.id): {"expected": 6, "counted": 7},
    }
    # Items left out are not counted.
    assert catalogue.stocktake(d.steward_a, d.a.id, {rice.id: 8, oil.id: None}, "复盘") == []


def test_stocktake_refuses_a_count_below_the_reserved_units_and_changes_nothing(district):
    d = district
    rice, oil = xf.item(d.a, units=3), xf.item(d.a, units=5)
    for user in (d.resident_a, d.member_a):
        xf.fund(user, d.a, 100)
        vouchers.reserve(user, rice.id)
    with pytest.raises(DomainError) as err:
        catalogue.stocktake(d.steward_a, d.a.id, {oil.id: 2, rice.id: 1}, "盘点")
    db.session.rollback()
    assert err.value.code == "below_reserved" and rice.name in str(err.value.message) and "2" in str(err.value.message)
    assert counters(rice.id) == (1, 2, 0) and counters(oil.id) == (5, 0, 0)  # oil's difference not written either
    assert not audits("exchange.stocktake")
    # Exactly the reserved units on the shelf is fine: the free stock becomes 0.
    assert catalogue.stocktake(d.steward_a, d.a.id, {rice.id: 2}, "盘点")[0].difference == -1
    assert counters(rice.id) == (0, 2, 0)


def test_stocktake_refuses_bad_input(district):
    d = district
    mine, theirs = xf.item(d.a, units=3), xf.item(d.b, units=3)
    refusals = [
        (lambda: catalogue.stocktake(d.steward_a, d.a.id, {mine.id: 2}, ""), "bad_reason"),
        (lambda: catalogue.stocktake(d.steward_a, d.a.id, {mine.id: 2}, "x" * 301), "bad_reason"),
        (lambda: catalogue.stocktake(d.steward_a, d.a.id, {mine.id: -1}, "盘点"), "bad_count"),
        (lambda: catalogue.stocktake(d.steward_a, d.a.id, {mine.id: "2"}, "盘点"), "bad_count"),
        (lambda: catalogue.stocktake(d.steward_a, d.a.id, {mine.id: None}, "盘点"), "nothing_counted"),
        (lambda: catalogue.stocktake(d.steward_a, d.a.id, {theirs.id: 1}, "盘点"), "bad_item"),
        (lambda: catalogue.stocktake(d.steward_a, d.a.id, {mine.id: 2}, "盘点", seen={mine.id: 4}), "count_changed"),
        (lambda: catalogue.stocktake(d.steward_b, d.a.id, {mine.id: 2}, "盘点"), "forbidden"),
    ]
    for call, code in refusals:
        assert code_of(call) == code
    assert counters(mine.id) == (3, 0, 0) and counters(theirs.id) == (3, 0, 0)
    assert catalogue.stocktake(d.steward_a, d.a.id, {mine.id: 2}, "盘点", seen={mine.id: 3})[0].difference == -1


def test_counters_stay_the_sums_of_movements_through_a_whole_life(district):
    from volunteer.exchange import desk

    d = district
    item = catalogue.save_item(d.steward_a, d.a.id, ITEM)
    catalogue.add_stock(d.steward_a, item.id, 4, kind="donation", unit_id=d.unit_a.id)
    xf.fund(d.resident_a, d.a, 1000)
    kept = vouchers.reserve(d.resident_a, item.id)
    given_back = vouchers.reserve(d.resident_a, item.id)
    vouchers.cancel(d.resident_a, given_back.id)
    handed = vouchers.reserve(d.resident_a, item.id)
    assert desk.hand_over(d.steward_a, handed.code).ok
    catalogue.stocktake(d.steward_a, d.a.id, {item.id: 2}, "破损一件")
    assert counters(item.id) == (1, 1, 1)
    assert kept.state == "reserved"
    assert_counters_are_movements(item.id)


# --- settings --------------------------------------------------------------------------------------


def test_settings_are_the_admins_and_set_how_long_vouchers_last(district):
    d = district
    with pytest.raises(NotAllowed):
        catalogue.save_settings(d.steward_a, d.a.id, 14)
    with pytest.raises(NotAllowed):
        catalogue.save_settings(d.admin_b, d.a.id, 14)
    assert code_of(lambda: catalogue.save_settings(d.admin_a, d.a.id, 0)) == "bad_days"
    assert code_of(lambda: catalogue.save_settings(d.admin_a, d.a.id, 91)) == "bad_days"
    assert db.session.get(ExchangeSettings, d.a.id) is None
    assert catalogue.save_settings(d.admin_a, d.a.id, 14).voucher_days == 14
    assert catalogue.save_settings(d.organiser_a, d.a.id, 30).voucher_days == 30  # organisers act as admins
    (first, second) = audits("exchange.settings")
    assert (first.before, first.after, second.before) == (None, {"voucher_days": 14}, {"voucher_days": 14})
    item = xf.item(d.a, units=1)
    xf.fund(d.resident_a, d.a, 100)
    voucher = vouchers.reserve(d.resident_a, item.id)
    assert timedelta(days=29, hours=23) < voucher.expires_at - voucher.created_at <= timedelta(days=30, seconds=5)
