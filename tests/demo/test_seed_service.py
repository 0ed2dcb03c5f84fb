"""The demo district's 1112 service: lists, a year of activities, orders and records, and their points."""

import re
from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from volunteer.accounts.models import User
from volunteer.core.models import aware, local_today, to_local, utcnow
from volunteer.demo import layout
from volunteer.extensions import db
from volunteer.ledger.models import LedgerEntry
from volunteer.ledger.verify import mismatches
from volunteer.org.models import Agreement, Community, MemberReport
from volunteer.service import tracker
from volunteer.service.access import is_volunteer_of
from volunteer.service.activities import attended_minutes
from volunteer.service.models import (
    CATEGORIES,
    NEED_STATES,
    ORDER_STATES,
    RECORD_SOURCES,
    RECORD_STATES,
    SIGNUP_STATES,
    TARGET,
    Activity,
    Need,
    Order,
    OrderTake,
    Project,
    ProjectClaim,
    Resource,
    ServicePolicy,
    ServiceRecord,
    Signup,
)
from volunteer.service.orders import can_confirm
from volunteer.service.records import points_for

from ..conftest import wipe
from .test_seed import seed, user_by_phone

pytestmark = pytest.mark.shared_rows


@pytest.fixture(scope="module")
def seeded(app):
    """One demo district for every test here: they only read it."""
    with app.app_context():
        wipe(app)
        result = seed(app)
        assert result.exit_code == 0, result.output
    yield result
    with app.app_context():
        wipe(app)


def rows(model, *where) -> list:
    return list(db.session.scalars(select(model).where(*where)))


def local_day(moment) -> date:
    return to_local(moment).date()


def a_season_in() -> bool:
    """Enough of the year has passed for every kind of thing to have happened (not so in early January)."""
    today = local_today()
    return (today - date(today.year, 1, 1)).days >= 60


def test_the_seed_output_counts_the_service_rows(seeded):
    line = next(x for x in seeded.output.splitlines() if x.startswith("Demo district built"))
    for label, model in (
        ("activities", Activity),
        ("sign-ups", Signup),
        ("orders", Order),
        ("service records", ServiceRecord),
    ):
        found = re.search(rf"(\d+) {label}\b", line)
        assert found, (label, line)
        assert int(found.group(1)) == db.session.scalar(select(func.count()).select_from(model))


def test_every_community_has_a_rule_resources_from_its_units_and_projects(seeded):
    policies = {p.community_id: (p.points_per_hour, p.points_per_service) for p in rows(ServicePolicy)}
    assert len(policies) == 4 and len(set(policies.values())) == 2
    for community in rows(Community):
        resources = rows(Resource, Resource.community_id == community.id)
        assert 6 <= len(resources) <= 10, community.name
        assert len({r.kind for r in resources}) >= 2
        partners = set(db.session.scalars(select(Agreement.unit_id).where(Agreement.community_id == community.id)))
        assert partners <= {r.unit_id for r in resources}  # every partner unit offers something
        assert any(r.unit_id is None for r in resources) and all(r.title and r.contact for r in resources)
        projects = rows(Project, Project.community_id == community.id)
        assert 6 <= len(projects) <= 10, community.name
        assert {p.kind for p in projects} == {"project", "post"}
        assert {"楼栋长", "文明劝导岗", "垃圾分类督导岗"} <= {p.title for p in projects}
        if a_season_in():
            assert any(p.claimed == p.capacity for p in projects)  # some full
            assert any(0 < p.claimed < p.capacity for p in projects)
    assert {r.kind for r in rows(Resource)} == {"venue", "goods", "skill"}
    assert rows(Resource, Resource.active.is_(False))
    assert rows(ProjectClaim, ProjectClaim.released_at.is_not(None)) or not a_season_in()


def test_a_year_of_activities_three_to_five_a_month(seeded):
    today = local_today()
    for community in rows(Community):
        activities = rows(Activity, Activity.community_id == community.id)
        months = Counter((local_day(a.starts_at).year, local_day(a.starts_at).month) for a in activities)
        for month in range(1, today.month):
            assert 3 <= months[(today.year, month)] <= 5, (community.name, month)
        assert min(local_day(a.starts_at) for a in activities) < date(today.year, 2, 1)
        upcoming = [a for a in activities if local_day(a.starts_at) > today and a.state == "open"]
        assert len(upcoming) >= 3 and all(local_day(a.starts_at) <= today + timedelta(days=31) for a in upcoming)
        assert {a.category for a in activities} <= set(CATEGORIES)
        assert len({a.category for a in activities}) >= 6 or len(activities) < 30
        assert all(5 <= a.places <= 30 for a in activities)
        assert all(community.name in a.place or any(c.name in a.place for c in community.compounds) for a in activities)
    cancelled = rows(Activity, Activity.state == "cancelled")
    assert cancelled and all(a.cancel_reason and a.taken == 0 for a in cancelled)
    assert all(s.state == "cancelled" for a in cancelled for s in a.signups)


def distinct(column) -> set:
    return set(db.session.scalars(select(column).distinct())) - {None}


def test_needs_orders_sign_ups_and_records_in_every_state(seeded):
    assert distinct(Need.state) == set(NEED_STATES) and distinct(Order.state) == set(ORDER_STATES)
    assert distinct(Signup.state) == set(SIGNUP_STATES)
    for community in rows(Community):  # every steward has work in every list
        needs = {n.state for n in rows(Need, Need.community_id == community.id)}
        orders = {o.state for o in rows(Order, Order.community_id == community.id)}
        assert needs == set(NEED_STATES) and orders == set(ORDER_STATES), community.name
        assert rows(ServiceRecord, ServiceRecord.community_id == community.id, ServiceRecord.status == "pending")
    orders = rows(Order)
    assert any(o.need_id is None for o in orders)  # raised by the community itself
    assert any(o.places > 1 and o.taken for o in orders)  # orders for several volunteers
    records = rows(ServiceRecord)
    assert any(r.needs_review and r.source == "self" for r in records)
    if a_season_in():  # the things that need weeks of history
        assert distinct(ServiceRecord.status) == set(RECORD_STATES)
        assert distinct(ServiceRecord.source) == set(RECORD_SOURCES)
        assert distinct(Signup.checkin_method) == {"qr", "code", "steward", "card"}
        confirmed = [o for o in orders if o.state == "confirmed"]
        assert any(o.auto_confirmed and o.rating is None for o in confirmed)
        assert any(o.feedback for o in confirmed) and any(o.resolution for o in confirmed)  # one after a dispute
        assert any(o.places > 1 and o.taken == o.places for o in confirmed)
        assert any(r.project_id and r.source == "self" and r.kind == "project" for r in records)
        assert rows(Signup, Signup.auto_closed.is_(True))


def test_each_row_agrees_with_its_state(seeded):
    for need in rows(Need):
        assert (need.state == "ordered") == (need.order is not None)
        if need.state == "declined":
            assert need.decline_reason and need.decided_by_id and need.decided_at
    for order in rows(Order):
        if order.state in ("done", "confirmed", "disputed", "closed"):
            assert order.done_at and order.done_note and order.done_minutes and order.taken
        if order.state in ("disputed", "closed"):
            assert order.dispute_reason
        if order.state in ("cancelled", "closed"):
            assert order.resolution and order.closed_at
        if order.state == "confirmed" and not order.auto_confirmed and not order.resolution:
            assert 3 <= order.rating <= 5
    for row in rows(ServiceRecord):
        assert is_volunteer_of(row.volunteer, row.community_id)
        if row.status == "rejected":
            assert row.reject_reason and row.verified_by_id and row.verified_at
        if row.source == "order":
            assert row.order.state == "confirmed" and row.minutes == row.order.done_minutes
            assert row.volunteer_id in {t.volunteer_id for t in row.order.takes}
        if row.signup is not None:
            assert row.kind == "activity" and row.signup.volunteer_id == row.volunteer_id
            assert row.source == ("steward" if row.signup.checkin_method == "steward" else "qr")
            if not row.signup.auto_closed:  # a forgotten check-out's hours were corrected by the steward
                assert row.minutes == max(1, attended_minutes(row.activity, row.signup))
        if row.project_id:
            assert row.project.community_id == row.community_id and row.kind == "project"


def test_counters_equal_their_rows(seeded):
    for activity in rows(Activity):
        assert activity.taken == sum(s.state == "confirmed" for s in activity.signups) <= activity.places
        waiting = [s for s in activity.signups if s.state == "waiting"]
        assert not waiting or activity.taken == activity.places  # nobody waits for a free place
    for order in rows(Order):
        assert order.taken == len(order.takes) <= order.places
        assert (order.state == "taken") <= (order.taken == order.places)
    for project in rows(Project):
        assert project.claimed == sum(c.released_at is None for c in project.claims) <= project.capacity
    assert any(a.taken == a.places and any(s.state == "waiting" for s in a.signups) for a in rows(Activity))


def test_each_verified_record_has_one_earn_service_entry_and_the_ledger_verifies(seeded):
    assert mismatches() == []
    policies = {p.community_id: p for p in rows(ServicePolicy)}
    entries = rows(LedgerEntry, LedgerEntry.kind == "earn_service")
    reversed_ids = set(db.session.scalars(select(LedgerEntry.reverses_id).where(LedgerEntry.reverses_id.is_not(None))))
    by_record = Counter(e.source_id for e in entries if e.id not in reversed_ids)
    records = {r.id: r for r in rows(ServiceRecord)}
    verified = [r for r in records.values() if r.status == "verified"]
    assert len(verified) > len(records) / 2 or not a_season_in()
    for row in verified:
        assert by_record[row.id] == 1
        entry = db.session.get(LedgerEntry, row.earn_entry_id)
        assert entry.kind == "earn_service" and entry.source_type == "ServiceRecord" and entry.source_id == row.id
        assert entry.idempotency_key == f"service-record:{row.id}:verify:1" and row.verifications == 1
        assert entry.amount == row.points == points_for(policies[row.community_id], row.minutes)
        assert entry.account.user_id == row.volunteer_id and entry.account.community_id == row.community_id
        assert aware(entry.at) == aware(row.verified_at) and row.verified_by_id == entry.actor_id
        assert local_day(row.verified_at) > row.served_on and aware(row.verified_at) >= aware(row.created_at)
    for row in records.values():
        if row.status != "verified":
            assert row.id not in by_record and row.points is None and row.earn_entry_id is None
    assert {e.source_type for e in entries} <= {"ServiceRecord"}


def test_the_tracker_has_members_done_on_pace_behind_and_idle(seeded):
    today = local_today()
    found = tracker.rows(today.year, today)
    assert len(found) == 60
    summary = tracker.summary(found)
    expected = tracker.expected_by(today.year, today)
    if 4 <= expected <= TARGET - 2:  # from May to mid-December: a few keen members have done their twelve,
        assert 5 <= summary["done"] <= 15  # most are on pace without being done yet
        assert summary["on_pace"] - summary["done"] >= 25
    if expected >= 1:
        assert summary["behind"] >= 10 and sum(r.verified == 0 for r in found) >= 3
    assert sum(r.pending > 0 for r in found) >= 10 or not a_season_in()  # the stewards' queues have work
    if a_season_in():
        days = [r.served_on for r in rows(ServiceRecord, ServiceRecord.status == "verified")]
        assert min(days) < date(today.year, 2, 1) and max(days) < today - timedelta(days=6)


def test_an_activity_is_on_now_with_volunteers_checked_in_and_upcoming_ones_have_places(seeded):
    now = utcnow()
    live = [
        a
        for a in rows(Activity, Activity.state == "open")
        if aware(a.starts_at) - timedelta(minutes=30) <= now <= aware(a.ends_at) + timedelta(minutes=30)
    ]
    assert {a.community_id for a in live} == {c.id for c in rows(Community)}
    for activity in live:
        assert local_day(activity.starts_at) == local_today() or local_day(activity.ends_at) == local_today()
        checked = [s for s in activity.signups if s.checked_in_at]
        assert checked and all(aware(s.checked_in_at) <= now and s.checked_out_at is None for s in checked)
        assert any(s.state == "confirmed" and not s.checked_in_at for s in activity.signups)
    upcoming = [a for a in rows(Activity, Activity.state == "open") if aware(a.starts_at) > now]
    assert sum(a.taken < a.places for a in upcoming) >= 8
    assert all(s.checked_in_at is None for a in upcoming for s in a.signups)


def test_times_are_consistent_and_the_housekeeping_job_finds_nothing_to_do(seeded):
    from volunteer.service.activities import close_forgotten
    from volunteer.service.orders import auto_confirm

    now = utcnow()
    for signup in rows(Signup):
        assert aware(signup.queued_at) <= now and aware(signup.queued_at) >= aware(signup.activity.created_at)
        if signup.checked_out_at:
            assert aware(signup.checked_in_at) < aware(signup.checked_out_at) <= now
            assert signup.record is not None
    for order in rows(Order):
        assert aware(order.created_at) <= now
        if order.need is not None:
            assert aware(order.need.created_at) < aware(order.created_at)
        for taken in order.takes:
            assert aware(order.created_at) < aware(taken.taken_at) <= now
            if order.done_at:
                assert aware(taken.taken_at) < aware(order.done_at)
        if order.closed_at and order.done_at:
            assert aware(order.done_at) < aware(order.closed_at) <= now
    assert all(r.served_on < local_today() for r in rows(ServiceRecord))
    assert close_forgotten() == 0
    assert auto_confirm() == 0


def test_the_demo_volunteer_and_resident_have_lived_in_service_pages(seeded):
    resident, volunteer = user_by_phone(layout.DEMO_RESIDENT), user_by_phone(layout.DEMO_VOLUNTEER)
    today = local_today()
    progress = tracker.progress(volunteer, today.year, today)
    expected = tracker.expected_by(today.year, today)
    assert progress.on_pace and expected <= progress.verified <= expected + 1  # on pace, to the day
    assert progress.pending >= 1 or not a_season_in()
    signups = rows(Signup, Signup.volunteer_id == volunteer.id)
    assert any(aware(s.activity.starts_at) > utcnow() and s.state == "confirmed" for s in signups)
    assert any(s.activity.starts_at and local_day(s.activity.starts_at) == today for s in signups)
    taken = {t.order.state for t in rows(OrderTake, OrderTake.volunteer_id == volunteer.id)}
    assert {"taken", "done"} <= taken
    claims = rows(ProjectClaim, ProjectClaim.volunteer_id == volunteer.id, ProjectClaim.released_at.is_(None))
    assert claims or not a_season_in()  # the 楼栋长 of their building

    needs = rows(Need, Need.resident_id == resident.id)
    assert {"open", "ordered", "declined", "withdrawn"} <= {n.state for n in needs}
    to_confirm = [n.order for n in needs if n.order is not None and n.order.state == "done"]
    assert to_confirm and can_confirm(resident, to_confirm[0])
    assert volunteer.id in {t.volunteer_id for t in to_confirm[0].takes}
    if a_season_in():
        assert any(n.order.state == "confirmed" and n.order.rating for n in needs if n.order is not None)
    report = db.session.scalar(select(MemberReport).where(MemberReport.user_id == volunteer.id))
    assert report.community_id == resident.building.compound.community_id


def test_most_self_reports_carry_an_evidence_photo_that_the_record_page_serves(app, seeded):
    reported = rows(ServiceRecord, ServiceRecord.source == "self")
    with_photo = [r for r in reported if r.photo]
    assert 0.4 <= len(with_photo) / len(reported) <= 0.8
    assert all(r.source == "self" for r in rows(ServiceRecord, ServiceRecord.photo.is_not(None)))
    row = with_photo[0]
    client = app.test_client()
    owner = db.session.get(User, row.volunteer_id)
    client.post("/login", data={"phone": owner.phone, "password": layout.PASSWORD})
    assert f"/service/records/{row.id}/photo" in client.get(f"/service/records/{row.id}").get_data(as_text=True)
    shown = client.get(f"/service/records/{row.id}/photo")
    assert shown.status_code == 200 and shown.headers["Content-Type"] == "image/jpeg" and len(shown.data) > 1000
