"""The desk report: today's hand-overs, items out, stock left and reservations waiting, for the steward's community."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update

from volunteer.core.models import utcnow
from volunteer.exchange import desk, reports, vouchers
from volunteer.exchange.models import Voucher
from volunteer.extensions import db

from ..conftest import english, login
from . import factories as xf


def _set(voucher, **values):
    db.session.execute(update(Voucher).where(Voucher.id == voucher.id).values(**values))
    db.session.commit()


@pytest.fixture
def day(district):
    """Community a: rice and oil; four hand-overs (one yesterday, one undone), reservations in every state.

    Community b has its own hand-over and reservation, which a's report must not show.
    """
    d = district
    d.rice = xf.item(d.a, units=10, price=10, name="大米")
    d.oil = xf.item(d.a, units=2, price=10, name="食用油")
    d.towel = xf.item(d.a, units=0, price=5, name="毛巾")  # sold out
    d.soap = xf.item(d.b, units=5, price=5, name="肥皂")
    xf.fund(d.resident_a, d.a, 500)
    xf.fund(d.resident_b, d.b, 500)
    take = lambda item: vouchers.reserve(d.resident_a, item.id)  # noqa: E731
    d.first, d.second, d.third = take(d.rice), take(d.rice), take(d.oil)
    d.yesterday, d.undone = take(d.rice), take(d.rice)
    for v in (d.first, d.second, d.third, d.yesterday, d.undone):
        assert desk.hand_over(d.steward_a, v.code).ok
    desk.undo(d.admin_a, d.undone.id, "拿错了")  # back to waiting
    _set(d.first, redeemed_at=utcnow() - timedelta(minutes=30))
    _set(d.yesterday, redeemed_at=utcnow() - timedelta(days=1, minutes=5))
    d.waiting_old = take(d.oil)
    _set(d.waiting_old, created_at=utcnow() - timedelta(days=2))
    d.expired = take(d.rice)
    _set(d.expired, expires_at=utcnow() - timedelta(minutes=1))
    vouchers.cancel(d.resident_a, take(d.rice).id)
    b_voucher = vouchers.reserve(d.resident_b, d.soap.id)
    assert desk.hand_over(d.steward_b, b_voucher.code).ok
    vouchers.reserve(d.resident_b, d.soap.id)
    return d


def test_day_bounds_are_the_local_day_in_utc(app):
    start, end = reports.day_bounds(date(2025, 3, 1))
    assert start == datetime(2025, 2, 28, 16, 0, tzinfo=UTC) and end == datetime(2025, 3, 1, 16, 0, tzinfo=UTC)


def test_todays_handovers_newest_first_without_undone_or_yesterday(day):
    d = day
    rows = db.session.scalars(reports.handovers({d.a.id})).all()
    # "yesterday" was moved back a day; if today started under 35 minutes ago so did "first".
    expected = [d.third.id, d.second.id] + ([d.first.id] if d.first.id in [r.id for r in rows] else [])
    assert [r.id for r in rows] == expected
    assert d.yesterday.id not in [r.id for r in rows] and d.undone.id not in [r.id for r in rows]
    assert all(r.redeemed_by.name == "周管家" for r in rows)


def test_items_out_per_item(day):
    d = day
    out = {item.name: number for item, number in reports.items_out({d.a.id})}
    assert out["食用油"] == 1 and out.get("大米") in (1, 2) and "肥皂" not in out


def test_stock_left_per_item(day):
    d = day
    stock = {item.name: (item.stock, item.reserved, item.issued) for item in reports.stock_left({d.a.id})}
    # rice: 10 units, 6 reserved, 1 cancelled (back on the shelf), 4 handed over of which 1 undone
    # (set aside again), 1 expired still set aside until the expiry job runs.
    assert stock == {"大米": (5, 2, 3), "食用油": (0, 1, 1), "毛巾": (0, 0, 0)}


def test_reservations_waiting_oldest_first_not_expired(day):
    d = day
    rows = db.session.scalars(reports.waiting({d.a.id})).all()
    assert [r.id for r in rows] == [d.waiting_old.id, d.undone.id]


def test_summary_numbers(day):
    d = day
    s = reports.summary({d.a.id})
    assert s.handed_over in (2, 3) and s.waiting == 2 and s.on_shelf == 5 and s.sold_out == 2
    both = reports.summary({d.a.id, d.b.id})
    assert both.handed_over == s.handed_over + 1 and both.waiting == 3 and both.on_shelf == 8


def test_recent_handovers_are_those_still_undoable(day):
    d = day
    recent = reports.recent_handovers({d.a.id}, desk.UNDO_WINDOW)
    assert [v.id for v in recent] == [d.third.id, d.second.id]


@pytest.fixture
def steward_browser(make_client, day):
    client = english(make_client())
    login(client, day.steward_a)
    return client


def test_report_page_lists_the_day_for_the_stewards_community(steward_browser, day):
    d = day
    page = steward_browser.get("/exchange/desk/report")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Handed over today" in body and "Items out today" in body and "Stock left" in body
    assert "Reservations waiting" in body and "周管家" in body
    assert d.resident_a.masked_phone in body and d.resident_a.phone not in body
    assert "肥皂" not in body and "李四" not in body  # community b
    assert body.count('<td data-label="Item">食用油</td>') >= 2  # out today, and the stock table
    assert 'data-stat="waiting">2<' in body and 'data-stat="sold_out">2<' in body
    assert 'data-label="On the shelf">5<' in body


def test_report_paginates_waiting_reservations(steward_browser, day, app):
    d = day
    pens = xf.item(d.a, units=app.config["PAGE_SIZE"], price=5, name="圆珠笔")
    for _ in range(app.config["PAGE_SIZE"]):
        vouchers.reserve(d.resident_a, pens.id)
    first = steward_browser.get("/exchange/desk/report").get_data(as_text=True)
    assert "waiting_page=2" in first
    second = steward_browser.get("/exchange/desk/report?waiting_page=2&page=1")
    assert second.status_code == 200 and "Page 2 of 2" in second.get_data(as_text=True)
    assert steward_browser.get("/exchange/desk/report?waiting_page=999999999").status_code == 404
    assert steward_browser.get("/exchange/desk/report?waiting_page=zz").status_code == 200


def test_an_organiser_sees_each_community_or_one(make_client, day):
    d = day
    client = english(make_client())
    login(client, d.organiser_a)
    both = client.get("/exchange/desk/report").get_data(as_text=True)
    assert "肥皂" in both and "大米" in both and "<th>Community</th>" in both
    only_b = client.get(f"/exchange/desk/report?community={d.b.id}").get_data(as_text=True)
    assert "肥皂" in only_b and "大米" not in only_b
    assert client.get(f"/exchange/desk/report?community={d.c.id}").status_code == 404
