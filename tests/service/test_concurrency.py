"""Races on the 1112 services: real threads, each with its own app context and database connection.

PostgreSQL runs the writers truly at once (row locks and conditional UPDATEs are the guard);
SQLite queues them behind BEGIN IMMEDIATE. Both must end with exactly one verification, the
exact number of places given out, and a ledger whose balances equal their entries. No test here
needs the postgres_only marker: on SQLite the same races run, serialised, and must give the same result.
"""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from tests import factories
from tests.races import dispose, race, racing_app
from volunteer.accounts.models import User
from volunteer.core.audit import AuditEntry
from volunteer.core.models import utcnow
from volunteer.extensions import db
from volunteer.ledger.models import LedgerEntry
from volunteer.ledger.verify import mismatches
from volunteer.service import activities, lists, orders, records
from volunteer.service import checkin_codes as codes
from volunteer.service.models import Activity, Order, OrderTake, Project, ProjectClaim, ServiceRecord, Signup

from . import factories as sf

RACERS = 10


@pytest.fixture
def race_app(app):
    other = racing_app(app, RACERS + 4)
    yield other
    dispose(other)


def user(user_id: int) -> User:
    return db.session.get(User, user_id)


def report(name: str, outcomes) -> None:
    print(f"\n[{name} on {db.engine.dialect.name}] {sorted(map(str, outcomes))}")


def count(stmt) -> int:
    return db.session.scalar(stmt)


# --- points exactly once --------------------------------------------------------------------------


def test_ten_stewards_verifying_one_record_at_once_verify_it_once(race_app, district):
    d = district
    stewards = [d.steward_a.id, d.admin_a.id] + [sf.steward(d.a).id for _ in range(RACERS - 2)]
    record = sf.record(d.member_a, d.a, minutes=90)
    record_id = record.id  # threads must not touch the test's session
    outcomes = race(race_app, RACERS, lambda i: records.verify(user(stewards[i]), record_id))
    report("verify one record", outcomes)
    assert sorted(outcomes) == ["already_verified"] * (RACERS - 1) + ["ok"]
    row = sf.fresh(ServiceRecord, record.id)
    (entry,) = sf.earn_entries(record.id)
    assert (row.status, row.verifications, row.points, row.earn_entry_id) == ("verified", 1, 20, entry.id)
    assert entry.idempotency_key == f"service-record:{record.id}:verify:1" and entry.amount == 20
    assert sf.balance(d.member_a, d.a) == 20
    assert count(select(func.count()).where(AuditEntry.action == "service.record_verify")) == 1
    assert mismatches() == []


def test_bulk_and_single_verifications_at_once_verify_each_record_once(race_app, district):
    """A steward verifying the queue in bulk while others verify single records of the same volunteer.

    On PostgreSQL this deadlocked (most runs) while verify_many locked its records one at a time.
    """
    d = district
    stewards = [sf.steward(d.a).id for _ in range(RACERS)]
    ids = [sf.record(d.member_a, d.a, minutes=60).id for _ in range(4)]

    def verify(i):
        steward = user(stewards[i])
        if i % 2 == 0:
            records.verify_many(steward, list(reversed(ids)))
        else:
            records.verify(steward, ids[i % len(ids)])

    outcomes = race(race_app, RACERS, verify)
    report("bulk and single verify", outcomes)
    assert set(outcomes) <= {"ok", "already_verified"}, outcomes
    for record_id in ids:
        assert len(sf.earn_entries(record_id)) == 1
        assert sf.fresh(ServiceRecord, record_id).status == "verified"
    assert sf.balance(d.member_a, d.a) == 4 * 15
    assert mismatches() == []


def test_ten_unverifications_at_once_reverse_once(race_app, district):
    d = district
    record = sf.record(d.member_a, d.a, minutes=60)
    records.verify(d.steward_a, record.id)
    stewards = [sf.steward(d.a).id for _ in range(RACERS)]
    record_id = record.id  # threads must not touch the test's session
    outcomes = race(race_app, RACERS, lambda i: records.unverify(user(stewards[i]), record_id, f"复核{i}"))
    report("unverify", outcomes)
    assert sorted(outcomes) == ["not_verified"] * (RACERS - 1) + ["ok"]
    assert count(select(func.count()).where(LedgerEntry.kind == "reversal")) == 1
    assert sf.balance(d.member_a, d.a) == 0 and sf.fresh(ServiceRecord, record.id).status == "pending"
    assert mismatches() == []


def test_corrections_at_once_leave_one_current_verification(race_app, district):
    """Every correction of a verified record reverses the current entry and writes the next: never two live."""
    d = district
    record = sf.record(d.member_a, d.a, minutes=60)
    records.verify(d.steward_a, record.id)
    stewards = [sf.steward(d.a).id for _ in range(RACERS)]
    record_id = record.id  # threads must not touch the test's session
    outcomes = race(race_app, RACERS, lambda i: records.correct_minutes(user(stewards[i]), record_id, 61 + i, "更正"))
    report("correct minutes", outcomes)
    assert outcomes == ["ok"] * RACERS
    row = sf.fresh(ServiceRecord, record.id)
    entries = sf.earn_entries(record.id)
    assert row.verifications == RACERS + 1 and len(entries) == RACERS + 1
    reversed_ids = set(db.session.scalars(select(LedgerEntry.reverses_id).where(LedgerEntry.kind == "reversal")))
    live = [e for e in entries if e.id not in reversed_ids]
    assert [e.id for e in live] == [row.earn_entry_id] and live[0].amount == row.points
    assert sf.balance(d.member_a, d.a) == row.points == records.points_for(records.policy_for(d.a.id), row.minutes)
    assert mismatches() == []


# --- places ---------------------------------------------------------------------------------------


def test_ten_volunteers_racing_for_the_last_two_places(race_app, district):
    d = district
    act = sf.activity(d.a, places=5)
    for _ in range(3):
        sf.signup(act, sf.volunteer(d.a))
    racers = [sf.volunteer(d.a).id for _ in range(RACERS)]
    act_id = act.id  # threads must not touch the test's session
    outcomes = race(race_app, RACERS, lambda i: activities.sign_up(user(racers[i]), act_id))
    report("last two places", outcomes)
    assert outcomes == ["ok"] * RACERS
    row = sf.fresh(Activity, act.id)
    states = dict(
        db.session.execute(select(Signup.volunteer_id, Signup.state).where(Signup.volunteer_id.in_(racers))).all()
    )
    assert sorted(states.values()) == ["confirmed"] * 2 + ["waiting"] * (RACERS - 2)
    assert row.taken == row.places == 5
    assert count(select(func.count()).where(Signup.activity_id == act.id, Signup.state == "confirmed")) == 5


def test_cancellations_and_sign_ups_at_once_keep_the_count_and_the_queue(race_app, district):
    """Five confirmed cancel while five newcomers sign up: the five who were waiting get the places."""
    d = district
    act = sf.activity(d.a, places=5, starts_in=timedelta(days=1))
    confirmed = [activities.sign_up(sf.volunteer(d.a), act.id) for _ in range(5)]
    waiting = [activities.sign_up(sf.volunteer(d.a), act.id) for _ in range(5)]
    cancels = [(s.id, s.volunteer_id) for s in confirmed]
    newcomers = [sf.volunteer(d.a).id for _ in range(5)]
    act_id = act.id  # threads must not touch the test's session

    def cancel_or_sign_up(i):
        if i < 5:
            activities.cancel_signup(user(cancels[i][1]), cancels[i][0])
        else:
            activities.sign_up(user(newcomers[i - 5]), act_id)

    outcomes = race(race_app, RACERS, cancel_or_sign_up)
    assert outcomes == ["ok"] * RACERS
    assert {sf.fresh(Signup, s.id).state for s in waiting} == {"confirmed"}
    assert set(db.session.scalars(select(Signup.state).where(Signup.volunteer_id.in_(newcomers)))) == {"waiting"}
    assert sf.fresh(Activity, act.id).taken == 5
    assert count(select(func.count()).where(Signup.activity_id == act.id, Signup.state == "confirmed")) == 5


def test_ten_volunteers_taking_a_one_place_order(race_app, district):
    d = district
    need = orders.post_need(d.resident_a, category="elderly", description="买菜")
    order = orders.make_order(d.steward_a, need.id, {"category": "elderly", "title": "买菜", "places": 1})
    racers = [sf.volunteer(d.a).id for _ in range(RACERS)]
    order_id = order.id  # threads must not touch the test's session
    outcomes = race(race_app, RACERS, lambda i: orders.take(user(racers[i]), order_id))
    report("one-place order", outcomes)
    assert sorted(outcomes) == ["not_open"] * (RACERS - 1) + ["ok"]
    assert count(select(func.count()).where(OrderTake.order_id == order.id)) == 1
    row = sf.fresh(Order, order.id)
    assert (row.state, row.taken) == ("taken", 1)


def test_ten_volunteers_taking_a_three_place_order(race_app, district):
    d = district
    order = orders.create_order(d.steward_a, d.a.id, {"category": "safety", "title": "夜间巡逻", "places": 3})
    racers = [sf.volunteer(d.a).id for _ in range(RACERS)]
    order_id = order.id  # threads must not touch the test's session
    outcomes = race(race_app, RACERS, lambda i: orders.take(user(racers[i]), order_id))
    assert sorted(outcomes) == ["not_open"] * (RACERS - 3) + ["ok"] * 3
    assert count(select(func.count()).where(OrderTake.order_id == order.id)) == 3
    assert (sf.fresh(Order, order.id).state, sf.fresh(Order, order.id).taken) == ("taken", 3)


def test_ten_volunteers_claiming_a_project_of_three_places(race_app, district):
    d = district
    project = sf.project(d.a, capacity=3)
    racers = [sf.volunteer(d.a).id for _ in range(RACERS)]
    project_id = project.id  # threads must not touch the test's session
    outcomes = race(race_app, RACERS, lambda i: lists.claim(user(racers[i]), project_id))
    report("claim a project", outcomes)
    assert sorted(outcomes) == ["full"] * (RACERS - 3) + ["ok"] * 3
    active = select(func.count()).where(ProjectClaim.project_id == project.id, ProjectClaim.released_at.is_(None))
    assert count(active) == 3 and sf.fresh(Project, project.id).claimed == 3


def test_one_volunteer_claiming_ten_times_at_once_claims_once(race_app, district):
    project = sf.project(district.a, capacity=3)
    member = district.member_a.id
    project_id = project.id  # threads must not touch the test's session
    outcomes = race(race_app, RACERS, lambda i: lists.claim(user(member), project_id))
    assert sorted(outcomes) == ["already_claimed"] * (RACERS - 1) + ["ok"]
    assert sf.fresh(Project, project.id).claimed == 1 and sf.count(ProjectClaim) == 1


# --- confirmation -----------------------------------------------------------------------------------


def done_long_ago(d, resident, takers) -> Order:
    need = orders.post_need(resident, category="elderly", description="买菜")
    order = orders.make_order(d.steward_a, need.id, {"category": "elderly", "title": "买菜", "places": len(takers)})
    for v in takers:
        orders.take(v, order.id)
    orders.mark_done(takers[0], order.id, note="好了", minutes=60)
    db.session.execute(update(Order).where(Order.id == order.id).values(done_at=utcnow() - timedelta(days=8)))
    db.session.commit()
    return order


def test_residents_confirming_while_auto_confirm_runs_give_one_set_of_records(race_app, district):
    d = district
    takers = [sf.volunteer(d.a) for _ in range(2)]
    residents = [factories.resident(d.building_a) for _ in range(6)]
    made = [done_long_ago(d, r, takers) for r in residents]
    pairs = [(r.id, o.id) for r, o in zip(residents, made, strict=True)]
    confirmed_by_job = []

    def act(i):
        if i < len(pairs):
            orders.confirm(user(pairs[i][0]), pairs[i][1], rating=4)
        else:
            confirmed_by_job.append(orders.auto_confirm())

    outcomes = race(race_app, len(pairs) + 4, act)
    report("confirm vs auto-confirm", outcomes)
    assert set(outcomes) <= {"ok", "not_done"}, outcomes
    by_resident = outcomes[: len(pairs)].count("ok")
    assert sum(confirmed_by_job) == len(pairs) - by_resident
    for (_, order_id), outcome in zip(pairs, outcomes, strict=False):
        row = sf.fresh(Order, order_id)
        assert row.state == "confirmed"
        assert (row.auto_confirmed, row.rating) == ((False, 4) if outcome == "ok" else (True, None))
        found = db.session.scalars(select(ServiceRecord.volunteer_id).where(ServiceRecord.order_id == order_id)).all()
        assert sorted(found) == sorted(t.id for t in takers)
    assert sf.count(ServiceRecord) == len(pairs) * len(takers)


# --- check-in and check-out -------------------------------------------------------------------------


def test_one_volunteer_checking_in_and_out_from_ten_taps_at_once(race_app, district):
    """A double-tapped scan: one check-in, then one check-out and one record."""
    act = sf.activity(district.a, starts_in=-timedelta(minutes=10))
    signup = sf.signup(act, district.member_a)
    member, token_in, token_out = district.member_a.id, codes.token(act, "in"), codes.token(act, "out")
    outcomes = race(race_app, RACERS, lambda i: activities.check_by_token(user(member), token_in))
    assert sorted(outcomes) == ["already_in"] * (RACERS - 1) + ["ok"]
    outcomes = race(race_app, RACERS, lambda i: activities.check_by_token(user(member), token_out))
    report("check out", outcomes)
    assert sorted(outcomes) == ["already_out"] * (RACERS - 1) + ["ok"]
    assert sf.count(ServiceRecord, ServiceRecord.signup_id == signup.id) == 1


def test_the_forgotten_check_out_job_run_at_once_closes_each_once(race_app, district):
    act = sf.activity(district.a, starts_in=-timedelta(hours=5), length=timedelta(hours=2))
    signups = [
        sf.signup(act, sf.volunteer(district.a), checked_in_at=utcnow() - timedelta(hours=4), checkin_method="qr").id
        for _ in range(5)
    ]
    closed = []
    outcomes = race(race_app, 4, lambda i: closed.append(activities.close_forgotten()))
    assert outcomes == ["ok"] * 4 and sum(closed) == 5
    assert sf.count(ServiceRecord) == 5
    assert sf.count(Signup, Signup.id.in_(signups), Signup.auto_closed.is_(True)) == 5
