"""`flask service close-overdue`: forgotten check-outs closed for review, old orders confirmed; safe to rerun."""

from datetime import timedelta

from sqlalchemy import update

from volunteer.core.models import utcnow
from volunteer.extensions import db
from volunteer.service import orders, records
from volunteer.service.models import Order, ServiceRecord, Signup

from . import factories as sf


def run(app, *args):
    db.session.commit()
    result = app.test_cli_runner().invoke(args=list(args))
    db.session.commit()  # a fresh read of what the command wrote
    return result


def overdue(d):
    """One forgotten check-out of an activity that ended hours ago, one order done 8 days ago, and recent ones."""
    ended = sf.activity(d.a, starts_in=-timedelta(hours=5), length=timedelta(hours=2))
    forgot = sf.signup(ended, d.member_a, checked_in_at=utcnow() - timedelta(hours=6), checkin_method="qr")
    running = sf.activity(d.a, starts_in=-timedelta(minutes=30))
    inside = sf.signup(running, d.member_a, checked_in_at=utcnow() - timedelta(minutes=20), checkin_method="code")
    made = []
    for days in (8, 2):
        need = orders.post_need(d.resident_a, category="repair", description="修灯")
        order = orders.make_order(d.steward_a, need.id, {"category": "repair", "title": "修灯", "places": 1})
        orders.take(d.member_a, order.id)
        orders.mark_done(d.member_a, order.id, note="修好了", minutes=40)
        db.session.execute(update(Order).where(Order.id == order.id).values(done_at=utcnow() - timedelta(days=days)))
        db.session.commit()
        made.append(order.id)
    return forgot.id, inside.id, made


def test_close_overdue_closes_and_confirms_then_does_nothing_more(app, district):
    forgot, inside, (old, recent) = overdue(district)
    result = run(app, "service", "close-overdue")
    assert result.exit_code == 0, result.output
    assert "closed 1 forgotten check-outs; confirmed 1 orders automatically" in result.output
    closed = sf.fresh(Signup, forgot)
    assert closed.auto_closed and closed.record.needs_review and closed.record.minutes == 120
    assert sf.fresh(Signup, inside).checked_out_at is None
    assert (sf.fresh(Order, old).state, sf.fresh(Order, old).auto_confirmed) == ("confirmed", True)
    assert sf.fresh(Order, recent).state == "done"
    assert sf.count(ServiceRecord) == 2

    again = run(app, "service", "close-overdue")
    assert again.exit_code == 0 and "closed 0 forgotten check-outs; confirmed 0 orders automatically" in again.output
    assert sf.count(ServiceRecord) == 2


def test_ledger_verify_is_clean_after_verifying_the_records_the_job_made(app, district):
    overdue(district)
    run(app, "service", "close-overdue")
    pending = db.session.scalars(db.select(ServiceRecord.id).where(ServiceRecord.status == "pending")).all()
    assert records.verify_many(district.steward_a, pending) == (2, 0, 0)
    records.unverify(district.steward_a, pending[0], "复核")
    result = run(app, "ledger", "verify")
    assert result.exit_code == 0 and "ledger ok" in result.output
    assert sf.balance(district.member_a, district.a) == records.points_for(records.policy_for(district.a.id), 40)


def test_close_overdue_on_an_empty_database(app):
    result = run(app, "service", "close-overdue")
    assert result.exit_code == 0 and "closed 0 forgotten check-outs; confirmed 0 orders automatically" in result.output
