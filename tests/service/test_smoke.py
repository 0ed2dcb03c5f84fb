"""A first pass over each service journey (detailed tests live beside this file)."""

from datetime import timedelta

import pytest

from volunteer.core.errors import DomainError
from volunteer.core.models import local_today, utcnow
from volunteer.extensions import db
from volunteer.ledger.models import LedgerEntry, PointsAccount
from volunteer.service import activities, checkin_codes, orders, records, tracker
from volunteer.service.models import ServiceRecord

from . import factories as sf


def test_activity_journey(district):
    d = district
    act = sf.activity(d.a, starts_in=timedelta(minutes=-10), length=timedelta(hours=1))
    s = activities.sign_up(d.member_a, act.id)
    assert s.state == "confirmed"
    signup, mode = activities.check_by_token(d.member_a, checkin_codes.token(act, "in"))
    assert mode == "in"
    with pytest.raises(DomainError) as err:
        activities.check_by_token(d.member_a, checkin_codes.token(act, "in"))
    assert err.value.code == "already_in"
    code = checkin_codes.short_code(act, "out", checkin_codes.window_at())
    signup, mode = activities.check_by_code(d.member_a, code)
    assert mode == "out"
    rec = db.session.get(ServiceRecord, signup.record.id)
    assert rec.status == "pending" and rec.source == "qr"
    records.verify(d.steward_a, rec.id)
    with pytest.raises(DomainError):
        records.verify(d.steward_a, rec.id)
    entries = db.session.query(LedgerEntry).filter_by(kind="earn_service").all()
    assert len(entries) == 1
    records.unverify(d.steward_a, rec.id, "wrong")
    records.verify(d.steward_a, rec.id)
    acc = db.session.query(PointsAccount).filter_by(user_id=d.member_a.id).one()
    assert acc.balance == rec.points
    row = tracker.progress(d.member_a, local_today().year, local_today())
    assert row.verified == 1


def test_order_journey(district):
    d = district
    need = orders.post_need(d.resident_a, category="elderly", description="帮忙买菜", preferred_time="周六")
    order = orders.make_order(d.steward_a, need.id, {"category": "elderly", "title": "买菜", "places": 1})
    with pytest.raises(DomainError):
        orders.take(d.member_b, order.id)
    orders.take(d.member_a, order.id)
    orders.mark_done(d.member_a, order.id, note="买好了", minutes=60)
    orders.confirm(d.resident_a, order.id, rating=5)
    rec = db.session.query(ServiceRecord).filter_by(order_id=order.id).one()
    assert rec.volunteer_id == d.member_a.id and rec.source == "order"


def test_expired_and_forged(district):
    d = district
    act = sf.activity(d.a, starts_in=timedelta(minutes=-10))
    activities.sign_up(d.member_a, act.id) if False else sf.signup(act, d.member_a)
    old = checkin_codes.token(act, "in", checkin_codes.window_at() - 5)
    with pytest.raises(DomainError) as err:
        activities.check_by_token(d.member_a, old)
    assert err.value.code == "expired_code"
    with pytest.raises(DomainError) as err:
        activities.check_by_token(d.member_a, old[:-2] + "xx")
    assert err.value.code == "invalid_code"
    closed = activities.close_forgotten(utcnow() + timedelta(days=1))
    assert closed == 0
