"""The steward's catalogue pages: items, item form and photo, adding stock, movements, stock-take, settings."""

import io

import pytest
from sqlalchemy import func, select

from volunteer.core.audit import AuditEntry
from volunteer.exchange import catalogue, vouchers
from volunteer.exchange.models import ExchangeSettings, Item, StockMovement
from volunteer.extensions import db

from ..conftest import text
from ..credit.factories import jpeg_bytes
from . import factories as xf
from .test_catalogue import assert_counters_are_movements

ITEM = {
    "name": "福临门大米 10kg",
    "category": "grain_oil",
    "description": "东北大米",
    "price": "150",
    "per_person_limit": "1",
    "limit_period": "month",
    "available_from": "",
    "available_until": "",
    "active": "y",
}


def fresh(item_id) -> Item:
    db.session.expire_all()
    return db.session.get(Item, item_id)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def stocked(district):
    d = district
    item = xf.item(d.a, units=5, price=30, name="毛巾")
    xf.fund(d.resident_a, d.a, 100)
    return d, item


def test_items_page_lists_counters_donors_and_links(district, browse):
    d = district
    item = xf.item(d.a, units=5, price=30, name="毛巾")
    catalogue.add_stock(d.steward_a, item.id, 2, kind="donation", unit_id=d.unit_a.id)
    xf.fund(d.resident_a, d.a, 100)
    vouchers.reserve(d.resident_a, item.id)
    xf.item(d.b, name="别人的肥皂")
    page = text(browse(d.steward_a).get("/exchange/items"))
    assert "毛巾" in page and "6 / 1 / 0" in page and "Donated by 东城供电局" in page
    assert "别人的肥皂" not in page
    for href in (f"/exchange/items/{item.id}/edit", f"/exchange/items/{item.id}/stock"):
        assert href in page
    assert f"/exchange/items/{item.id}/movements" in page and f"/exchange/communities/{d.a.id}/stocktake" in page
    assert f"/exchange/communities/{d.a.id}/settings" not in page  # a steward, not the admin
    assert f"/exchange/communities/{d.a.id}/settings" in text(browse(d.admin_a).get("/exchange/items"))
    # Residents, volunteers and other communities' stewards have no catalogue page here.
    assert browse(d.resident_a).get("/exchange/items").status_code == 403
    assert browse(d.member_a).get("/exchange/items").status_code == 403
    assert browse(d.steward_b).get(f"/exchange/items?community={d.a.id}").status_code == 404
    assert "毛巾" not in text(browse(d.steward_b).get("/exchange/items"))


def test_new_and_edit_item_through_the_form(district, browse):
    d = district
    steward = browse(d.steward_a)
    assert steward.get(f"/exchange/items/new?community={d.a.id}").status_code == 200
    photo = (io.BytesIO(jpeg_bytes()), "rice.jpg")
    response = steward.post("/exchange/items/new", data={**ITEM, "community": d.a.id, "photo": photo})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/exchange/items?community={d.a.id}")
    item = db.session.scalars(select(Item)).one()
    assert (item.name, item.price, item.per_person_limit, item.limit_period, item.stock) == (
        "福临门大米 10kg",
        150,
        1,
        "month",
        0,
    )
    assert item.photo
    # The photo is served to the community's shoppers and staff only.
    shown = browse(d.resident_a).get(f"/exchange/items/{item.id}/photo")
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg" and shown.data[:3] == b"\xff\xd8\xff"
    assert steward.get(f"/exchange/items/{item.id}/photo").status_code == 200
    assert browse(d.resident_b).get(f"/exchange/items/{item.id}/photo").status_code == 404
    assert browse(d.steward_b).get(f"/exchange/items/{item.id}/photo").status_code == 404

    page = text(steward.get(f"/exchange/items/{item.id}/edit"))
    assert 'value="福临门大米 10kg"' in page and "Remove the current photo" in page
    data = {**ITEM, "price": "120", "per_person_limit": "", "available_until": "2099-12-31"}
    assert steward.post(f"/exchange/items/{item.id}/edit", data=data).status_code == 303
    item = fresh(item.id)
    assert (item.price, item.per_person_limit, item.available_until.isoformat(), item.photo is not None) == (
        120,
        None,
        "2099-12-31",
        True,
    )
    assert count(AuditEntry, AuditEntry.action == "exchange.item_save") == 2
    assert steward.post(f"/exchange/items/{item.id}/edit", data={**data, "remove_photo": "y"}).status_code == 303
    assert fresh(item.id).photo is None
    assert steward.get(f"/exchange/items/{item.id}/photo").status_code == 404


@pytest.mark.parametrize(
    "change, message",
    [
        ({"name": ""}, "This field is required."),
        ({"price": "0"}, "Enter a whole number from 1 to 100000."),
        ({"price": "abc"}, "Enter a whole number from 1 to 100000."),
        ({"per_person_limit": "0"}, "Enter a whole number from 1 to 1000."),
        ({"category": "cars"}, "Not a valid choice"),
        ({"name": "<b>米</b>"}, "Please do not use &lt; or &gt; here."),
        ({"available_from": "2030-01-02", "available_until": "2030-01-01"}, "The last day must be on or after"),
        ({"available_from": "tomorrow"}, "Not a valid date value"),
        ({"photo": lambda: (io.BytesIO(b"not a picture"), "x.jpg")}, "Photos must be JPEG, PNG or WebP pictures."),
        ({"photo": "text instead of a file"}, "Choose a photo from your phone or computer."),
    ],
)
def test_item_form_refuses_bad_input_and_changes_nothing(district, browse, change, message):
    d = district
    item = xf.item(d.a, units=1, price=10, name="香皂")
    steward = browse(d.steward_a)
    for url, data in (
        ("/exchange/items/new", {**ITEM, "name": "新东西", "community": d.a.id, **change}),
        (f"/exchange/items/{item.id}/edit", {**ITEM, **change}),
    ):
        data = {k: v() if callable(v) else v for k, v in data.items()}  # a file is read once
        response = steward.post(url, data=data)
        assert response.status_code == 400, url
        assert message in text(response), url
    assert count(Item) == 1 and fresh(item.id).name == "香皂" and fresh(item.id).price == 10
    assert count(AuditEntry, AuditEntry.action == "exchange.item_save") == 0


def test_item_form_refusals_from_the_service(district, browse):
    d = district
    xf.item(d.a, name="香皂")
    steward = browse(d.steward_a)
    response = steward.post("/exchange/items/new", data={**ITEM, "name": "香皂", "community": d.a.id})
    assert response.status_code == 400 and "The catalogue has an item with this name already." in text(response)
    # A community the steward does not run is not a choice.
    response = steward.post("/exchange/items/new", data={**ITEM, "community": d.b.id})
    assert response.status_code == 400 and count(Item) == 1


def test_other_communities_items_are_missing_pages(stocked, browse):
    d, item = stocked
    other = browse(d.steward_b)
    for url in (
        f"/exchange/items/{item.id}/edit",
        f"/exchange/items/{item.id}/stock",
        f"/exchange/items/{item.id}/movements",
        f"/exchange/communities/{d.a.id}/stocktake",
        f"/exchange/communities/{d.a.id}/settings",
        "/exchange/items/99999/edit",
        "/exchange/communities/99999/stocktake",
    ):
        assert other.get(url).status_code == 404, url
    assert other.post(f"/exchange/items/{item.id}/edit", data=ITEM).status_code == 404
    assert other.post(f"/exchange/items/{item.id}/stock", data={"kind": "restock", "quantity": "5"}).status_code == 404
    data = {f"count_{item.id}": "1", "reason": "盘点"}
    assert other.post(f"/exchange/communities/{d.a.id}/stocktake", data=data).status_code == 404
    resident = browse(d.resident_a)
    for url in (f"/exchange/items/{item.id}/edit", f"/exchange/items/{item.id}/stock", "/exchange/items/new"):
        assert resident.get(url).status_code == 403, url
    assert fresh(item.id).stock == 5 and fresh(item.id).name == "毛巾"


def test_restock_and_donation_through_the_page(stocked, browse):
    d, item = stocked
    steward = browse(d.steward_a)
    page = text(steward.get(f"/exchange/items/{item.id}/stock"))
    assert "东城供电局" in page and "Donation from a unit" in page
    response = steward.post(
        f"/exchange/items/{item.id}/stock", data={"kind": "restock", "quantity": "10", "note": "采购"}
    )
    assert response.status_code == 303
    data = {"kind": "donation", "unit": d.unit_a.id, "quantity": "3", "note": "共建"}
    assert steward.post(f"/exchange/items/{item.id}/stock", data=data).status_code == 303
    assert fresh(item.id).stock == 18
    moves = db.session.scalars(select(StockMovement).where(StockMovement.item_id == item.id).order_by(StockMovement.id))
    assert [(m.kind, m.stock_delta, m.unit_id) for m in moves][1:] == [
        ("restock", 10, None),
        ("donation", 3, d.unit_a.id),
    ]
    page = text(steward.get(f"/exchange/items/{item.id}/movements"))
    assert "Donation" in page and "东城供电局" in page and "共建" in page and "+3" in page and "周管家" in page
    assert_counters_are_movements(item.id)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"kind": "donation", "unit": "0", "quantity": "3"}, "Choose the unit that donated the goods."),
        ({"kind": "restock", "quantity": "0"}, "Enter a whole number from 1 to 10000."),
        ({"kind": "restock", "quantity": "10001"}, "Enter a whole number from 1 to 10000."),
        ({"kind": "restock", "quantity": "三"}, "Enter a whole number from 1 to 10000."),
        ({"kind": "restock", "quantity": ""}, "This field is required."),
        ({"kind": "gift", "quantity": "3"}, "Not a valid choice"),
        ({"kind": "donation", "unit": "99999", "quantity": "3"}, "Not a valid choice"),
        ({"kind": "restock", "quantity": "3", "note": "x" * 301}, "At most 300 characters."),
    ],
)
def test_stock_form_refuses_bad_input(stocked, browse, data, message):
    d, item = stocked
    response = browse(d.steward_a).post(f"/exchange/items/{item.id}/stock", data=data)
    assert response.status_code == 400 and message in text(response)
    assert fresh(item.id).stock == 5 and count(StockMovement) == 1


def test_movements_show_vouchers_and_paginate(stocked, browse, app):
    d, item = stocked
    voucher = vouchers.reserve(d.resident_a, item.id)
    vouchers.cancel(d.resident_a, voucher.id)
    page = text(browse(d.steward_a).get(f"/exchange/items/{item.id}/movements"))
    assert voucher.code in page and "Given back" in page and "Cancelled" in page and "Reserved" in page
    for _ in range(app.config["PAGE_SIZE"]):
        catalogue.add_stock(d.steward_a, item.id, 1, kind="restock")
    second = text(browse(d.steward_a).get(f"/exchange/items/{item.id}/movements?page=2"))
    assert "Page 2 of 2" in second


def test_stocktake_through_the_page_shows_the_differences(stocked, browse):
    d, item = stocked
    oil = xf.item(d.a, units=4, name="花生油")
    hidden = xf.item(d.a, units=2, name="下架的", active=False)
    vouchers.reserve(d.resident_a, item.id)
    steward = browse(d.steward_a)
    page = text(steward.get(f"/exchange/communities/{d.a.id}/stocktake"))
    assert "毛巾" in page and "花生油" in page and "下架的" not in page
    assert f'name="seen_{item.id}" type="hidden" value="5"' in page  # 4 free + 1 reserved, both on the shelf
    data = {
        f"count_{item.id}": "3",
        f"seen_{item.id}": "5",
        f"count_{oil.id}": "4",
        f"seen_{oil.id}": "4",
        "reason": "月底盘点",
    }
    response = steward.post(f"/exchange/communities/{d.a.id}/stocktake", data=data)
    assert response.status_code == 303
    assert (fresh(item.id).stock, fresh(item.id).reserved, fresh(oil.id).stock, fresh(hidden.id).stock) == (2, 1, 4, 2)
    page = text(steward.get(response.headers["Location"]))
    assert "Stock-take recorded: 1 difference." in page and "Last stock-take" in page and "月底盘点" in page
    assert "-2" in page
    assert_counters_are_movements()


@pytest.mark.parametrize(
    "counts, message, status",
    [
        ({"count": "0"}, "1 units are set aside for vouchers", 400),
        ({"count": "-1"}, "Enter a whole number from 0 to 1000000.", 400),
        ({"count": "lots"}, "Enter a whole number from 0 to 1000000.", 400),
        ({"count": "3", "reason": ""}, "This field is required.", 400),
        ({"count": ""}, "Enter the counted number of at least one item.", 400),
        ({"count": "3", "seen": "7"}, "its stock changed while you counted (now 5)", 409),
    ],
)
def test_stocktake_form_refuses_bad_input(stocked, browse, counts, message, status):
    d, item = stocked
    vouchers.reserve(d.resident_a, item.id)
    data = {
        f"count_{item.id}": counts["count"],
        f"seen_{item.id}": counts.get("seen", "5"),
        "reason": counts.get("reason", "盘点"),
    }
    response = browse(d.steward_a).post(f"/exchange/communities/{d.a.id}/stocktake", data=data)
    assert response.status_code == status and message in text(response)
    assert (fresh(item.id).stock, fresh(item.id).reserved) == (4, 1)
    assert count(StockMovement, StockMovement.kind == "count") == 0


def test_settings_page_is_the_admins(district, browse):
    d = district
    url = f"/exchange/communities/{d.a.id}/settings"
    assert browse(d.steward_a).get(url).status_code == 403
    assert browse(d.admin_b).get(url).status_code == 404
    admin = browse(d.admin_a)
    assert 'value="7"' in text(admin.get(url))
    for bad, message in (("0", "from 1 to 90"), ("91", "from 1 to 90"), ("a week", "from 1 to 90"), ("", "required")):
        response = admin.post(url, data={"voucher_days": bad})
        assert response.status_code == 400 and message in text(response)
    assert db.session.get(ExchangeSettings, d.a.id) is None
    assert browse(d.steward_a).post(url, data={"voucher_days": "30"}).status_code == 403
    assert admin.post(url, data={"voucher_days": "14"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(ExchangeSettings, d.a.id).voucher_days == 14
    assert 'value="14"' in text(admin.get(url))
