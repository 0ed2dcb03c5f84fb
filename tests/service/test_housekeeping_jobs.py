"""The worker's periodic housekeeping: no cron needed for forgotten check-outs, old orders and expiry."""

from datetime import datetime, timedelta

from sqlalchemy import select

from volunteer.core.models import utcnow
from volunteer.exchange import vouchers
from volunteer.exchange.models import Item, Voucher
from volunteer.extensions import db
from volunteer.ledger.models import PointsAccount
from volunteer.ledger.verify import mismatches
from volunteer.letters import queue
from volunteer.service.models import Order, Signup

from ..exchange import factories as xf
from . import factories as sf
from .test_service_cli import overdue


def test_the_worker_closes_forgotten_check_outs_and_confirms_old_orders(app, district):
    forgot, inside, (old, recent) = overdue(district)
    jobs = queue.get()
    jobs.huey.flush()
    jobs.close_overdue()  # what the periodic scheduler enqueues
    assert jobs.run_pending() == 1
    db.session.commit()  # a fresh read of what the task wrote
    assert sf.fresh(Signup, forgot).auto_closed and sf.fresh(Signup, forgot).record.needs_review
    assert sf.fresh(Signup, inside).checked_out_at is None
    assert (sf.fresh(Order, old).state, sf.fresh(Order, recent).state) == ("confirmed", "done")


def test_the_housekeeping_schedules(app):
    for minute, hour in ((5, 0), (10, 0), (7, 1), (8, 3)):
        at = datetime(2026, 11, 25, hour, minute)
        assert queue.get().close_overdue.task_class().validate_datetime(at) == (minute % 5 == 0)
        assert queue.get().expire.task_class().validate_datetime(at) == (minute == 7)


def test_the_worker_gives_back_an_expired_vouchers_points_and_stock(app, district):
    d = district
    item = xf.item(d.a, units=3, price=10)
    xf.fund(d.resident_a, d.a, 50)
    voucher = vouchers.reserve(d.resident_a, item.id)
    voucher.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    jobs = queue.get()
    jobs.huey.flush()
    jobs.expire()
    assert jobs.run_pending() == 1
    db.session.commit()
    assert db.session.get(Voucher, voucher.id).state == "expired"
    account = db.session.scalar(select(PointsAccount).filter_by(user_id=d.resident_a.id, community_id=d.a.id))
    assert (account.balance, account.held) == (50, 0)
    assert (db.session.get(Item, item.id).stock, db.session.get(Item, item.id).reserved) == (3, 0)
    assert not mismatches()
