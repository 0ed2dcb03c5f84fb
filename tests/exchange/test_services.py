"""Reserve, cancel, expire, hand over and undo: points, stock and reason codes."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from volunteer.core.errors import DomainError
from volunteer.core.models import utcnow
from volunteer.exchange import desk, vouchers
from volunteer.exchange.models import Item, StockMovement, Voucher
from volunteer.extensions import db
from volunteer.ledger.models import LedgerEntry, PointsAccount
from volunteer.ledger.verify import mismatches

from . import factories as xf


def account(user, community) -> PointsAccount:
    db.session.expire_all()
    return db.session.scalar(
        select(PointsAccount).where(PointsAccount.user_id == user.id, PointsAccount.community_id == community.id)
    )


def counters(item_id):
    db.session.expire_all()
    it = db.session.get(Item, item_id)
    return it.stock, it.reserved, it.issued


def test_reserve_holds_points_and_sets_a_unit_aside(district):
    d = district
    item = xf.item(d.a, units=3, price=20)
    xf.fund(d.resident_a, d.a, 50)
    voucher = vouchers.reserve(d.resident_a, item.id)
    assert voucher.state == "reserved" and len(voucher.code) == 8 and len(voucher.public_id) >= 20
    assert (account(d.resident_a, d.a).balance, account(d.resident_a, d.a).held) == (50, 20)
    assert counters(item.id) == (2, 1, 0)
    assert not mismatches()


def test_request_key_makes_a_double_click_one_voucher(district):
    d = district
    item = xf.item(d.a, units=3, price=20)
    xf.fund(d.resident_a, d.a, 50)
    first = vouchers.reserve(d.resident_a, item.id, request_key="k1")
    again = vouchers.reserve(d.resident_a, item.id, request_key="k1")
    assert first.id == again.id
    assert account(d.resident_a, d.a).held == 20 and counters(item.id) == (2, 1, 0)


def test_cannot_reserve_without_points_or_stock_or_over_the_limit(district):
    d = district
    item = xf.item(d.a, units=1, price=20, per_person_limit=1, limit_period="month")
    xf.fund(d.resident_a, d.a, 10)
    with pytest.raises(DomainError) as err:
        vouchers.reserve(d.resident_a, item.id)
    assert err.value.code == "insufficient_points"
    db.session.rollback()
    assert counters(item.id) == (1, 0, 0)
    xf.fund(d.resident_a, d.a, 100)
    vouchers.reserve(d.resident_a, item.id)
    with pytest.raises(DomainError) as err:
        vouchers.reserve(d.resident_a, item.id)
    assert err.value.code == "limit_reached"
    db.session.rollback()
    xf.fund(d.resident_b, d.a, 100)
    with pytest.raises(DomainError) as err:
        vouchers.reserve(d.resident_b, item.id)
    assert err.value.code == "out_of_stock"


def test_hand_over_spends_the_hold_and_issues_the_unit_once(district):
    d = district
    item = xf.item(d.a, units=2, price=20)
    xf.fund(d.resident_a, d.a, 50)
    voucher = vouchers.reserve(d.resident_a, item.id)
    answer = desk.hand_over(d.steward_a, vouchers.qr_token(voucher))
    assert answer.reason == "ok"
    assert (account(d.resident_a, d.a).balance, account(d.resident_a, d.a).held) == (30, 0)
    assert counters(item.id) == (1, 0, 1)
    again = desk.hand_over(d.steward_a, voucher.code)
    assert again.reason == "already_redeemed" and "周管家" in str(again.message)
    assert account(d.resident_a, d.a).balance == 30 and counters(item.id) == (1, 0, 1)
    assert not mismatches()


def test_refusals_carry_reason_codes_and_change_nothing(district):
    d = district
    item = xf.item(d.a, units=5, price=10)
    xf.fund(d.resident_a, d.a, 100)
    cancelled = vouchers.reserve(d.resident_a, item.id)
    vouchers.cancel(d.resident_a, cancelled.id)
    expired = vouchers.reserve(d.resident_a, item.id)
    expired.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    live = vouchers.reserve(d.resident_a, item.id)
    token = vouchers.qr_token(live)
    before = (account(d.resident_a, d.a).balance, counters(item.id))
    assert desk.hand_over(d.steward_a, vouchers.qr_token(cancelled)).reason == "cancelled"
    assert desk.hand_over(d.steward_a, expired.code).reason == "expired"
    assert desk.hand_over(d.steward_b, token).reason == "other_community"
    assert desk.hand_over(d.steward_a, token[:-3] + "abc").reason == "invalid"
    assert desk.hand_over(d.steward_a, "ZZZZZZZZ").reason == "invalid"
    assert desk.hand_over(d.steward_a, "").reason == "invalid"
    assert (account(d.resident_a, d.a).balance, counters(item.id)) == before
    # The expiry job gives the expired voucher's points and unit back, once.
    assert vouchers.expire_due() == 1 and vouchers.expire_due() == 0
    assert account(d.resident_a, d.a).held == 10 and counters(item.id) == (4, 1, 0)
    assert not mismatches()


def test_undo_within_ten_minutes_holds_the_points_again(district):
    d = district
    item = xf.item(d.a, units=2, price=20)
    xf.fund(d.resident_a, d.a, 50)
    voucher = vouchers.reserve(d.resident_a, item.id)
    desk.hand_over(d.steward_a, voucher.code)
    desk.undo(d.steward_a, voucher.id, "拿错了")
    assert (account(d.resident_a, d.a).balance, account(d.resident_a, d.a).held) == (50, 20)
    assert counters(item.id) == (1, 1, 0)
    assert desk.hand_over(d.steward_a, voucher.code).reason == "ok"  # handed over again, a new spend key
    assert account(d.resident_a, d.a).balance == 30
    keys = db.session.scalars(select(LedgerEntry.idempotency_key).where(LedgerEntry.kind == "spend")).all()
    assert sorted(keys) == [f"voucher:{voucher.id}:spend:1", f"voucher:{voucher.id}:spend:2"]
    db.session.get(Voucher, voucher.id).redeemed_at = utcnow() - timedelta(minutes=11)
    db.session.commit()
    with pytest.raises(DomainError) as err:
        desk.undo(d.steward_a, voucher.id, "太晚")
    assert err.value.code == "too_late"
    db.session.rollback()
    moves = db.session.scalar(select(func.count(StockMovement.id)).where(StockMovement.item_id == item.id))
    assert moves == 5  # restock, reserve, handover, undo, handover
    assert not mismatches()


def test_a_hand_over_issues_at_most_eight_sql_statements(district):
    """The desk's hot path: flip the voucher, spend the hold, issue the unit (BEGIN counted on SQLite)."""
    from sqlalchemy import event

    d = district
    item = xf.item(d.a, units=2, price=20)
    xf.fund(d.resident_a, d.a, 50)
    token = vouchers.qr_token(vouchers.reserve(d.resident_a, item.id))
    steward = d.steward_a
    assert steward.roles  # loaded, as the logged-in steward of a request is
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement.split(None, 1)[0].upper())

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert desk.hand_over(steward, token).reason == "ok"
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) <= 8, statements
    # UPDATE voucher, account and item; INSERT the ledger entry and the stock movement.
    assert statements.count("UPDATE") == 3 and statements.count("INSERT") == 2
