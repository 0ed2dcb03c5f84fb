"""Stewards and residents racing at the exchange: threads, each with its own connection.

PostgreSQL runs them truly at once; SQLite queues the writers behind BEGIN IMMEDIATE.
"""

from collections import Counter

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.races import dispose, race, racing_app
from volunteer.exchange import desk, vouchers
from volunteer.exchange.models import Item, Voucher
from volunteer.extensions import db
from volunteer.ledger.models import PointsAccount
from volunteer.ledger.verify import mismatches

from . import factories as xf

# PostgreSQL allows 100 connections in all and the suite runs in two or more processes: 100 threads
# share a pool of 30 (each takes a connection when released, so up to 30 write at the same moment).
POOL = 30


@pytest.fixture
def race_app(app):
    other = racing_app(app, POOL)
    yield other
    dispose(other)


def test_fifty_stewards_hand_over_one_voucher_once(race_app, district):
    d = district
    item = xf.item(d.a, units=1, price=30)
    xf.fund(d.resident_a, d.a, 30)
    voucher = vouchers.reserve(d.resident_a, item.id)
    token, steward_id = vouchers.qr_token(voucher), d.steward_a.id

    def scan(_):
        from volunteer.accounts.models import User  # noqa: PLC0415

        answer = desk.hand_over(db.session.get(User, steward_id), token)
        if not answer.ok:
            raise_code(answer.reason)

    outcomes = Counter(race(race_app, 50, scan, connect_first=False))
    assert outcomes == {"ok": 1, "already_redeemed": 49}
    db.session.expire_all()
    account = db.session.scalar(select(PointsAccount).where(PointsAccount.user_id == d.resident_a.id))
    assert (account.balance, account.held) == (0, 0)
    it = db.session.get(Item, item.id)
    assert (it.stock, it.reserved, it.issued) == (0, 0, 1)
    assert not mismatches()


def raise_code(code):
    from volunteer.core.errors import DomainError  # noqa: PLC0415

    raise DomainError(code, code)


def test_hundred_residents_race_for_the_last_five_units(race_app, district):
    d = district
    item = xf.item(d.a, units=5, price=10)
    people = [factories.resident(d.building_a) for _ in range(100)]
    for person in people:
        xf.fund(person, d.a, 10)
    ids, item_id = [p.id for p in people], item.id  # plain ids: ORM objects belong to this thread's session

    def reserve(i):
        from volunteer.accounts.models import User  # noqa: PLC0415

        vouchers.reserve(db.session.get(User, ids[i]), item_id)

    outcomes = Counter(race(race_app, 100, reserve, connect_first=False))
    assert outcomes == {"ok": 5, "out_of_stock": 95}
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Voucher.id))) == 5
    it = db.session.get(Item, item.id)
    assert (it.stock, it.reserved) == (0, 5)
    assert db.session.scalar(select(func.sum(PointsAccount.held))) == 50
    assert not mismatches()


def test_one_resident_who_can_afford_three_gets_three(race_app, district):
    d = district
    item = xf.item(d.a, units=50, price=10)
    xf.fund(d.resident_a, d.a, 35)
    user_id, item_id = d.resident_a.id, item.id  # plain ids: ORM objects belong to this thread's session

    def reserve(_):
        from volunteer.accounts.models import User  # noqa: PLC0415

        vouchers.reserve(db.session.get(User, user_id), item_id)

    outcomes = Counter(race(race_app, 20, reserve))
    assert outcomes == {"ok": 3, "insufficient_points": 17}
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Voucher.id))) == 3
    it = db.session.get(Item, item.id)
    assert (it.stock, it.reserved) == (47, 3)
    assert not mismatches()


def test_a_double_click_sent_at_once_makes_one_voucher(race_app, district):
    d = district
    item = xf.item(d.a, units=5, price=10)
    xf.fund(d.resident_a, d.a, 100)
    user_id, item_id = d.resident_a.id, item.id

    def reserve(_):
        from volunteer.accounts.models import User  # noqa: PLC0415

        vouchers.reserve(db.session.get(User, user_id), item_id, request_key="one-click")

    assert Counter(race(race_app, 10, reserve)) == {"ok": 10}
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Voucher.id))) == 1
    assert db.session.scalar(select(PointsAccount.held).where(PointsAccount.user_id == user_id)) == 10
    assert not mismatches()
