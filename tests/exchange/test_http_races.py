"""Races through real HTTP requests: browsers logged in through the form, released together on their own connections.

The service-level races (test_concurrency.py) prove the rules; these prove the pages keep them:
CSRF, sessions, the view's transaction handling and the JSON answers all on the path.
"""

import re
import secrets
from collections import Counter

import pytest
from sqlalchemy import func, select

from tests import factories
from volunteer.accounts.models import Role
from volunteer.exchange import vouchers
from volunteer.exchange.models import Item, StockMovement, Voucher
from volunteer.extensions import db
from volunteer.ledger.models import LedgerEntry, PointsAccount
from volunteer.ledger.verify import mismatches

from . import factories as xf
from .live import in_parallel, live_app, logged_in, serving, together

REQUEST_KEY = re.compile(r'name="request_key"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="request_key"')


@pytest.fixture(scope="module")
def server_app(app):
    return live_app(app)


@pytest.fixture
def live(server_app):
    with serving(server_app) as base_url:
        yield base_url


def account(user, community) -> PointsAccount:
    db.session.expire_all()
    return db.session.scalar(
        select(PointsAccount).where(PointsAccount.user_id == user.id, PointsAccount.community_id == community.id)
    )


def counters(item_id) -> tuple[int, int, int]:
    db.session.expire_all()
    it = db.session.get(Item, item_id)
    return it.stock, it.reserved, it.issued


def counters_match_movements() -> bool:
    """Every item's counters are the sums of its movements."""
    sums = (
        select(
            StockMovement.item_id,
            func.sum(StockMovement.stock_delta).label("stock"),
            func.sum(StockMovement.reserved_delta).label("reserved"),
            func.sum(StockMovement.issued_delta).label("issued"),
        )
        .group_by(StockMovement.item_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Item.stock, Item.reserved, Item.issued, sums.c.stock, sums.c.reserved, sums.c.issued).outerjoin(
            sums, sums.c.item_id == Item.id
        )
    )
    return all((a, b, c) == (x or 0, y or 0, z or 0) for a, b, c, x, y, z in rows)


def assert_books_balance() -> None:
    assert not mismatches()
    assert counters_match_movements()


# --- the desk: one voucher scanned at fifty tills at once ---


def test_fifty_hand_overs_of_one_voucher_give_one_ok_and_49_already_redeemed(live, district):
    d = district
    item = xf.item(d.a, units=1, price=30)
    xf.fund(d.resident_a, d.a, 30)
    token = vouchers.qr_token(vouchers.reserve(d.resident_a, item.id))
    stewards = [d.steward_a] + [factories.staff(Role.STEWARD, d.a) for _ in range(4)]
    browsers = logged_in(live, [stewards[i % 5] for i in range(50)])  # five stewards, ten tills each

    def hand_over(browser, _):
        answer = browser.post_json("/exchange/desk/handover", {"value": token})
        return answer.status, answer.json()["reason"]

    results = together(browsers, hand_over)
    assert Counter(results) == {(200, "ok"): 1, (409, "already_redeemed"): 49}, Counter(map(str, results))
    assert (account(d.resident_a, d.a).balance, account(d.resident_a, d.a).held) == (0, 0)
    assert counters(item.id) == (0, 0, 1)
    voucher = db.session.scalar(select(Voucher))
    assert voucher.state == "redeemed" and voucher.redeemed_by_id in {s.id for s in stewards}
    spends = select(func.count(LedgerEntry.id)).where(LedgerEntry.kind == "spend")
    assert db.session.scalar(spends) == 1
    assert_books_balance()


# --- the shop: residents racing for stock and for their own points ---


def open_item(browser, item_id: int) -> tuple:
    """The item's page as the resident opens it: the form's CSRF token and its one-time request key."""
    page = browser.get(f"/exchange/shop/{item_id}")
    assert page.status == 200, page.text[:300]
    browser.read_csrf(f"/exchange/shop/{item_id}")
    found = REQUEST_KEY.search(page.text)
    key = next(group for group in found.groups() if group) if found else secrets.token_urlsafe(16)
    return browser, key


def reserve(browser, item_id: int, key: str):
    """POST the reserve form; "ok" when it redirects to the new voucher, else the refusal's status."""
    answer = browser.post_form(f"/exchange/shop/{item_id}/reserve", {"request_key": key})
    if answer.status in (302, 303) and "/exchange/vouchers/" in answer.location:
        return "ok"
    return answer.status


def test_hundred_residents_race_for_the_last_five_units(live, district):
    d = district
    item = xf.item(d.a, units=5, price=10)
    people = [factories.resident(d.building_a) for _ in range(100)]
    for person in people:
        xf.fund(person, d.a, 10)
    item_id = item.id
    forms = in_parallel(lambda b: open_item(b, item_id), logged_in(live, people))

    results = together([b for b, _ in forms], lambda browser, i: reserve(browser, item_id, forms[i][1]))
    outcomes = Counter(results)
    assert outcomes["ok"] == 5, outcomes
    assert all(r == "ok" or (isinstance(r, int) and 400 <= r < 500) for r in results), outcomes
    assert db.session.scalar(select(func.count(Voucher.id))) == 5
    assert len(set(db.session.scalars(select(Voucher.user_id)))) == 5
    assert counters(item.id) == (0, 5, 0)
    assert db.session.scalar(select(func.sum(PointsAccount.held))) == 50
    assert_books_balance()


def test_one_resident_who_can_afford_three_gets_exactly_three(live, district):
    d = district
    item = xf.item(d.a, units=50, price=10)
    xf.fund(d.resident_a, d.a, 35)
    item_id = item.id
    forms = in_parallel(lambda b: open_item(b, item_id), logged_in(live, [d.resident_a] * 20))
    assert len({key for _, key in forms}) == 20  # each opening of the page is a purchase of its own

    results = together([b for b, _ in forms], lambda browser, i: reserve(browser, item_id, forms[i][1]))
    outcomes = Counter(results)
    assert outcomes["ok"] == 3, outcomes
    assert all(r == "ok" or (isinstance(r, int) and 400 <= r < 500) for r in results), outcomes
    assert db.session.scalar(select(func.count(Voucher.id)).where(Voucher.user_id == d.resident_a.id)) == 3
    assert counters(item.id) == (47, 3, 0)
    assert (account(d.resident_a, d.a).balance, account(d.resident_a, d.a).held) == (35, 30)
    assert_books_balance()


def test_one_form_sent_ten_times_at_once_makes_one_voucher(live, district):
    """A double click or a retried request: the same request key arrives many times at the same moment."""
    d = district
    item = xf.item(d.a, units=10, price=10)
    xf.fund(d.resident_a, d.a, 100)
    item_id = item.id  # plain ids in the threads: ORM objects belong to this thread's session
    browser, key = open_item(logged_in(live, [d.resident_a])[0], item_id)
    tabs = [browser.copy() for _ in range(10)]

    results = together(tabs, lambda tab, _: reserve(tab, item_id, key))
    assert all(r == "ok" for r in results), Counter(results)  # each click lands on the one voucher
    assert db.session.scalar(select(func.count(Voucher.id))) == 1
    assert counters(item.id) == (9, 1, 0)
    assert account(d.resident_a, d.a).held == 10
    assert_books_balance()
