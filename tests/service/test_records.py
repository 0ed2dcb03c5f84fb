"""Service records: reporting, verifying (one earn_service entry), un-verifying, corrections, rejection.

After every test `flask ledger verify` must find each balance equal to the sum of its entries.
"""

from datetime import timedelta

import pytest
from flask_babel import force_locale
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from tests import factories
from tests.conftest import wipe
from volunteer.accounts.models import Role
from volunteer.core.audit import AuditEntry
from volunteer.core.database import begin_write
from volunteer.core.errors import DomainError
from volunteer.core.models import local_today
from volunteer.extensions import db
from volunteer.ledger import services as ledger
from volunteer.ledger.models import LedgerEntry, PointsAccount
from volunteer.ledger.verify import mismatches
from volunteer.service import lists, records
from volunteer.service.models import ServicePolicy, ServiceRecord

from . import factories as sf


@pytest.fixture(autouse=True)
def _ledger_verifies(app):
    yield
    db.session.rollback()
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output
    assert "ledger ok" in result.output


@pytest.fixture
def points_rule(district):
    """Community a: 3 points per service and 12 per hour (90 minutes earn 3 + 18 = 21)."""
    return sf.policy(district.a, per_hour=12, per_service=3)


def spend(user, community, points):
    begin_write()
    ledger.spend(ledger.account_for(user.id, community.id), points, key=f"shop:{factories.n()}", from_hold=False)
    db.session.commit()


# --- the community's rule -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("per_hour", "per_service", "minutes", "points"),
    [
        (10, 5, 60, 15),
        (10, 5, 90, 20),
        (10, 5, 3, 6),  # 0.5 point rounds up
        (10, 5, 2, 5),  # 0.33 rounds down
        (12, 0, 150, 30),
        (0, 8, 600, 8),
        (1, 0, 29, 1),  # never less than one point
        (1, 0, 30, 1),
        (1, 0, 89, 1),
        (1, 0, 90, 2),
        (1000, 1000, 1440, 25000),
    ],
)
def test_points_for_rounds_to_the_nearest_point(per_hour, per_service, minutes, points):
    policy = ServicePolicy(points_per_hour=per_hour, points_per_service=per_service)
    assert records.points_for(policy, minutes) == points


def test_policy_for_falls_back_to_the_default_rule(district, points_rule):
    assert (
        records.policy_for(district.a.id).points_per_hour,
        records.policy_for(district.a.id).points_per_service,
    ) == (
        12,
        3,
    )
    default = records.policy_for(district.b.id)
    assert (default.points_per_hour, default.points_per_service) == (10, 5)
    assert db.session.get(ServicePolicy, district.b.id) is None  # the default is not saved


def test_minutes_and_days_bounds():
    assert records.check_minutes(1) == 1 and records.check_minutes(1440) == 1440
    for bad in (0, -5, 1441, True, 1.0, "60", None):
        with pytest.raises(DomainError) as err:
            records.check_minutes(bad)
        assert err.value.code == "bad_minutes"
    today = local_today()
    oldest = today - timedelta(days=records.OLDEST_DAYS)
    assert records.check_day(today) == today and records.check_day(oldest) == oldest
    for bad in (today + timedelta(days=1), oldest - timedelta(days=1), "2025-01-01", None):
        with pytest.raises(DomainError) as err:
            records.check_day(bad)
        assert err.value.code == "bad_date"


# --- volunteers and stewards add records ----------------------------------------------------------


def test_a_volunteer_reports_a_service_as_pending(district):
    project = sf.project(district.a)
    row = records.report_own(
        district.member_a, district.a.id, day=local_today(), minutes=45, description=" 陪老人聊天 ", photo="p.jpg"
    )
    row = sf.fresh(ServiceRecord, row.id)
    assert (row.status, row.source, row.kind, row.minutes, row.description, row.photo) == (
        "pending",
        "self",
        "other",
        45,
        "陪老人聊天",
        "p.jpg",
    )
    assert row.entered_by_id == district.member_a.id and row.points is None
    # A project counts only once the volunteer has claimed it.
    sf.refused(
        "bad_project",
        records.report_own,
        district.member_a,
        district.a.id,
        day=local_today(),
        minutes=30,
        description="巡河",
        project_id=project.id,
    )
    lists.claim(district.member_a, project.id)
    with_project = records.report_own(
        district.member_a, district.a.id, day=local_today(), minutes=30, description="巡河", project_id=project.id
    )
    assert (with_project.kind, with_project.project_id) == ("project", project.id)
    assert sf.earn_entries(row.id) == []


def test_reporting_is_refused_outside_the_community_and_with_bad_input(district):
    today = local_today()
    ok = {"day": today, "minutes": 30, "description": "巡河"}
    sf.refused("forbidden", records.report_own, district.member_b, district.a.id, **ok)
    sf.refused("forbidden", records.report_own, district.resident_a, district.a.id, **ok)
    foreign = sf.project(district.b)
    sf.refused("bad_project", records.report_own, district.member_a, district.a.id, **ok, project_id=foreign.id)
    sf.refused("bad_project", records.report_own, district.member_a, district.a.id, **ok, project_id=10**6)
    sf.refused("bad_date", records.report_own, district.member_a, district.a.id, **{**ok, "day": today + timedelta(1)})
    sf.refused("bad_minutes", records.report_own, district.member_a, district.a.id, **{**ok, "minutes": 0})
    sf.refused("bad_description", records.report_own, district.member_a, district.a.id, **{**ok, "description": " "})
    long = {**ok, "description": "x" * 501}
    sf.refused("bad_description", records.report_own, district.member_a, district.a.id, **long)
    assert sf.count(ServiceRecord) == 0


def test_a_steward_enters_a_service_for_a_volunteer(district):
    fields = {"day": local_today(), "minutes": 120, "kind": "project", "description": "值守"}
    sf.refused("forbidden", records.enter_for, district.steward_b, district.member_a, district.a.id, **fields)
    sf.refused("not_volunteer", records.enter_for, district.steward_a, district.member_b, district.a.id, **fields)
    bad_kind = {**fields, "kind": "party"}
    sf.refused("bad_kind", records.enter_for, district.steward_a, district.member_a, district.a.id, **bad_kind)
    row = records.enter_for(district.steward_a, district.member_a, district.a.id, **fields)
    row = sf.fresh(ServiceRecord, row.id)
    assert (row.status, row.source, row.kind, row.entered_by_id) == (
        "pending",
        "steward",
        "project",
        district.steward_a.id,
    )
    assert sf.count(AuditEntry, AuditEntry.action == "service.record_enter") == 1


# --- verification ---------------------------------------------------------------------------------


def test_verifying_writes_exactly_one_earn_service_entry(district, points_rule):
    record = sf.record(district.member_a, district.a, minutes=90)
    records.verify(district.steward_a, record.id)
    row = sf.fresh(ServiceRecord, record.id)
    (entry,) = sf.earn_entries(record.id)
    assert entry.idempotency_key == f"service-record:{record.id}:verify:1"
    assert (entry.amount, entry.actor_id, row.earn_entry_id) == (21, district.steward_a.id, entry.id)
    assert (row.status, row.points, row.verifications, row.verified_by_id) == ("verified", 21, 1, district.steward_a.id)
    assert row.verified_at is not None
    assert sf.balance(district.member_a, district.a) == 21
    assert sf.count(AuditEntry, AuditEntry.action == "service.record_verify") == 1
    sf.refused("already_verified", records.verify, district.steward_a, record.id)
    sf.refused("already_verified", records.verify, district.admin_a, record.id)
    assert len(sf.earn_entries(record.id)) == 1 and sf.balance(district.member_a, district.a) == 21


def test_only_the_communitys_stewards_verify(district):
    record = sf.record(district.member_a, district.a)
    for outsider in (district.steward_b, district.member_a, district.council_a, district.employer_a):
        sf.refused("forbidden", records.verify, outsider, record.id)
    assert records.verify(district.organiser_a, record.id).status == "verified"  # the street's organiser admins a
    sf.refused("not_found", records.verify, district.steward_a, 10**6)
    assert len(sf.earn_entries(record.id)) == 1


def test_points_go_to_the_records_community_account(district, points_rule):
    """A member volunteering in b too: b's record earns in b's account by b's (default) rule."""
    factories.grant(district.member_a, Role.VOLUNTEER, community_=district.b)
    in_b = sf.record(district.member_a, district.b, minutes=60)
    records.verify(district.steward_b, in_b.id)
    assert sf.balance(district.member_a, district.b) == 15 and sf.balance(district.member_a, district.a) == 0


def test_unverify_reverses_and_reverify_is_a_second_verification(district, points_rule):
    record = sf.record(district.member_a, district.a, minutes=90)
    records.verify(district.steward_a, record.id)
    first = sf.fresh(ServiceRecord, record.id).earn_entry_id
    sf.refused("bad_reason", records.unverify, district.steward_a, record.id, " ")
    sf.refused("forbidden", records.unverify, district.steward_b, record.id, "录错了")
    records.unverify(district.steward_a, record.id, "录错了")
    row = sf.fresh(ServiceRecord, record.id)
    assert (row.status, row.points, row.earn_entry_id, row.verified_by_id, row.verifications) == (
        "pending",
        None,
        None,
        None,
        1,
    )
    reversal = db.session.scalar(select(LedgerEntry).where(LedgerEntry.reverses_id == first))
    assert (reversal.kind, reversal.amount, reversal.memo, reversal.actor_id) == (
        "reversal",
        -21,
        "录错了",
        district.steward_a.id,
    )
    assert sf.balance(district.member_a, district.a) == 0
    sf.refused("not_verified", records.unverify, district.steward_a, record.id, "again")

    records.verify(district.steward_a, record.id)
    entries = sf.earn_entries(record.id)
    assert [e.idempotency_key for e in entries] == [
        f"service-record:{record.id}:verify:1",
        f"service-record:{record.id}:verify:2",
    ]
    row = sf.fresh(ServiceRecord, record.id)
    assert (row.status, row.verifications, row.earn_entry_id) == ("verified", 2, entries[1].id)
    assert sf.balance(district.member_a, district.a) == 21
    assert sf.count(AuditEntry, AuditEntry.action == "service.record_unverify") == 1


def test_unverify_after_the_points_were_spent_is_refused_and_changes_nothing(district, points_rule):
    record = sf.record(district.member_a, district.a, minutes=90)
    records.verify(district.steward_a, record.id)
    spend(district.member_a, district.a, 15)
    entries_before = sf.count(LedgerEntry)
    with pytest.raises(ledger.InsufficientPoints):
        records.unverify(district.steward_a, record.id, "录错了")
    db.session.rollback()
    row = sf.fresh(ServiceRecord, record.id)
    assert (row.status, row.points, row.verifications) == ("verified", 21, 1) and row.earn_entry_id is not None
    assert sf.balance(district.member_a, district.a) == 6 and sf.count(LedgerEntry) == entries_before
    assert sf.count(AuditEntry, AuditEntry.action == "service.record_unverify") == 0


def test_correcting_a_pending_record_writes_no_points(district, points_rule):
    record = sf.record(district.member_a, district.a, minutes=5, needs_review=True)
    sf.refused("bad_reason", records.correct_minutes, district.steward_a, record.id, 60, "")
    sf.refused("bad_minutes", records.correct_minutes, district.steward_a, record.id, 0, "x")
    sf.refused("unchanged", records.correct_minutes, district.steward_a, record.id, 5, "x")
    sf.refused("forbidden", records.correct_minutes, district.steward_b, record.id, 60, "x")
    records.correct_minutes(district.steward_a, record.id, 60, "忘记签退")
    row = sf.fresh(ServiceRecord, record.id)
    assert (row.minutes, row.status, row.needs_review, row.points) == (60, "pending", False, None)
    assert sf.count(LedgerEntry) == 0
    (audit,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "service.record_correct"))
    assert (audit.before, audit.after) == ({"minutes": 5}, {"minutes": 60, "reason": "忘记签退"})


def test_correcting_a_verified_record_reverses_and_verifies_at_the_new_hours(district, points_rule):
    record = sf.record(district.member_a, district.a, minutes=90)
    records.verify(district.steward_a, record.id)
    records.correct_minutes(district.steward_a, record.id, 150, "实际两个半小时")
    row = sf.fresh(ServiceRecord, record.id)
    assert (row.minutes, row.status, row.points, row.verifications) == (150, "verified", 33, 2)
    first, second = sf.earn_entries(record.id)
    assert (first.amount, second.amount) == (21, 33) and row.earn_entry_id == second.id
    assert second.idempotency_key == f"service-record:{record.id}:verify:2"
    assert db.session.scalar(select(LedgerEntry.amount).where(LedgerEntry.reverses_id == first.id)) == -21
    assert sf.balance(district.member_a, district.a) == 33


def test_correcting_a_verified_record_whose_points_were_spent_is_refused(district, points_rule):
    record = sf.record(district.member_a, district.a, minutes=90)
    records.verify(district.steward_a, record.id)
    spend(district.member_a, district.a, 20)
    with pytest.raises(ledger.InsufficientPoints):
        records.correct_minutes(district.steward_a, record.id, 30, "少报")
    db.session.rollback()
    row = sf.fresh(ServiceRecord, record.id)
    assert (row.minutes, row.status, row.points, row.verifications) == (90, "verified", 21, 1)
    assert sf.balance(district.member_a, district.a) == 1 and len(sf.earn_entries(record.id)) == 1


def test_verify_many_verifies_only_pending_records_the_steward_may_verify(district, points_rule):
    mine = [sf.record(district.member_a, district.a, minutes=60) for _ in range(3)]
    foreign = sf.record(district.member_b, district.b)
    rejected = sf.record(district.member_a, district.a, status="rejected", reject_reason="无证明")
    verified = sf.record(district.member_a, district.a, minutes=60)
    records.verify(district.steward_a, verified.id)
    ids = [r.id for r in mine] + [foreign.id, rejected.id, verified.id, 10**6, mine[0].id]
    assert records.verify_many(district.steward_a, ids + ["7", None]) == (3, 4, 0)
    for r in mine:
        assert sf.fresh(ServiceRecord, r.id).status == "verified" and len(sf.earn_entries(r.id)) == 1
    assert sf.fresh(ServiceRecord, foreign.id).status == "pending" and sf.earn_entries(foreign.id) == []
    assert sf.fresh(ServiceRecord, rejected.id).status == "rejected" and len(sf.earn_entries(verified.id)) == 1
    assert sf.balance(district.member_a, district.a) == 4 * 15
    assert records.verify_many(district.steward_a, ids) == (0, 7, 0)
    assert records.verify_many(district.steward_a, []) == (0, 0, 0)
    assert sf.balance(district.member_a, district.a) == 60


def test_rejecting_needs_a_reason_and_a_pending_record(district):
    record = sf.record(district.member_a, district.a)
    sf.refused("bad_reason", records.reject, district.steward_a, record.id, "  ")
    sf.refused("bad_reason", records.reject, district.steward_a, record.id, "x" * 301)
    sf.refused("forbidden", records.reject, district.steward_b, record.id, "无证明")
    records.reject(district.steward_a, record.id, "无证明")
    row = sf.fresh(ServiceRecord, record.id)
    assert (row.status, row.reject_reason, row.verified_by_id) == ("rejected", "无证明", district.steward_a.id)
    sf.refused("not_pending", records.reject, district.steward_a, record.id, "again")
    sf.refused("not_verified", records.unverify, district.steward_a, record.id, "x")
    assert sf.count(LedgerEntry) == 0


def test_a_rejected_record_can_still_be_verified_once(district):
    record = sf.record(district.member_a, district.a, minutes=60)
    records.reject(district.steward_a, record.id, "无证明")
    records.verify(district.steward_a, record.id)
    row = sf.fresh(ServiceRecord, record.id)
    assert (row.status, row.reject_reason, row.verifications) == ("verified", "", 1)
    sf.refused("not_pending", records.reject, district.steward_a, record.id, "x")
    assert [e.amount for e in sf.earn_entries(record.id)] == [15]


def test_points_come_from_the_rule_at_verification_time(district):
    record = sf.record(district.member_a, district.a, minutes=60)
    policy = sf.policy(district.a, per_hour=20, per_service=0)
    records.verify(district.steward_a, record.id)
    policy.points_per_hour = 40
    db.session.commit()
    assert sf.fresh(ServiceRecord, record.id).points == 20  # a later rule change does not touch it
    records.unverify(district.steward_a, record.id, "复核")
    records.verify(district.steward_a, record.id)
    assert sf.fresh(ServiceRecord, record.id).points == 40
    assert sf.balance(district.member_a, district.a) == 40


def test_an_earn_with_the_records_key_already_written_is_not_written_again(district):
    """A retried verification finds its key taken: the ledger hands back the first entry, no second one."""
    record = sf.record(district.member_a, district.a, minutes=60)
    begin_write()
    account = ledger.account_for(district.member_a.id, district.a.id)
    ledger.earn(account, 15, kind="earn_service", key=f"service-record:{record.id}:verify:1", source=record)
    db.session.commit()
    records.verify(district.steward_a, record.id)
    assert len(sf.earn_entries(record.id)) == 1 and sf.balance(district.member_a, district.a) == 15
    assert sf.fresh(ServiceRecord, record.id).status == "verified"
    assert db.session.get(PointsAccount, account.id).balance == 15


# --- checked and entered hours ---------------------------------------------------------------------


@pytest.mark.parametrize(("source", "checked"), [("qr", True), ("order", True), ("self", False), ("steward", False)])
def test_hours_are_checked_when_the_system_measured_them(district, source, checked):
    record = sf.record(district.member_a, district.a, source=source)
    assert record.is_checked is checked
    found = db.session.scalars(select(ServiceRecord.id).where(ServiceRecord.is_checked)).all()
    assert (record.id in found) is checked  # the SQL side of the rule agrees


def test_correcting_checked_hours_makes_them_entered_and_keeps_the_first_minutes(district, points_rule):
    record = sf.record(district.member_a, district.a, source="qr", minutes=90, needs_review=True)
    records.verify(district.steward_a, record.id)
    records.correct_minutes(district.steward_a, record.id, 60, "忘记签退")
    row = sf.fresh(ServiceRecord, record.id)
    assert (row.minutes, row.checked_minutes, row.corrected_by_id) == (60, 90, district.steward_a.id)
    assert row.corrected_at is not None and not row.is_checked and row.status == "verified"
    other = sf.steward(district.a)
    records.correct_minutes(other, record.id, 45, "再次核对")
    row = sf.fresh(ServiceRecord, record.id)
    assert (row.minutes, row.checked_minutes, row.corrected_by_id) == (45, 90, other.id)  # the first stays
    assert db.session.scalar(select(ServiceRecord.id).where(ServiceRecord.is_checked)) is None


def test_correcting_entered_hours_keeps_no_checked_minutes(district):
    record = sf.record(district.member_a, district.a, source="self", minutes=90)
    records.correct_minutes(district.steward_a, record.id, 60, "少报")
    row = sf.fresh(ServiceRecord, record.id)
    assert (row.minutes, row.checked_minutes, row.corrected_by_id) == (60, None, district.steward_a.id)


# --- no one decides on their own service ----------------------------------------------------------


@pytest.fixture
def steward_volunteer(district):
    """steward_a also volunteers in community a: they may decide on others' services, not their own."""
    factories.grant(district.steward_a, Role.VOLUNTEER, community_=district.a)
    return district.steward_a


def _unchanged(record_id, status="pending", points=None, entries=0):
    row = sf.fresh(ServiceRecord, record_id)
    assert (row.status, row.points, row.minutes, row.corrected_at) == (status, points, 90, None)
    assert len(sf.earn_entries(record_id)) == entries


def test_a_steward_cannot_decide_on_their_own_service(district, points_rule, steward_volunteer):
    me = steward_volunteer
    own = records.report_own(me, district.a.id, day=local_today(), minutes=90, description="自己的服务")
    sf.refused("own_record", records.verify, me, own.id)
    sf.refused("own_record", records.reject, me, own.id, "无证明")
    sf.refused("own_record", records.correct_minutes, me, own.id, 60, "少报")
    _unchanged(own.id)
    assert sf.count(LedgerEntry) == 0 and sf.balance(me, district.a) == 0

    other = sf.steward(district.a)
    records.verify(other, own.id)  # another steward does
    sf.refused("own_record", records.unverify, me, own.id, "复核")
    sf.refused("own_record", records.correct_minutes, me, own.id, 60, "少报")
    _unchanged(own.id, "verified", 21, 1)
    assert sf.balance(me, district.a) == 21

    theirs = sf.record(district.member_a, district.a)
    records.verify(me, theirs.id)  # others' services: as before
    assert sf.fresh(ServiceRecord, theirs.id).status == "verified"


def test_entering_a_service_for_oneself_is_refused(district, steward_volunteer):
    err = sf.refused(
        "own_record",
        records.enter_for,
        steward_volunteer,
        steward_volunteer,
        district.a.id,
        day=local_today(),
        minutes=60,
        kind="other",
        description="自己录入",
    )
    with force_locale("en"):
        assert "Report a service" in str(err.message)
    assert sf.count(ServiceRecord) == 0


def test_bulk_verification_skips_own_records_and_counts_them(district, points_rule, steward_volunteer):
    me = steward_volunteer
    own = [sf.record(me, district.a).id for _ in range(2)]
    theirs = [sf.record(district.member_a, district.a).id for _ in range(3)]
    foreign = sf.record(district.member_b, district.b).id
    result = records.verify_many(me, own + theirs + [foreign])
    assert result == records.Bulk(done=3, skipped=3, own=2)
    for record_id in own:
        _unchanged(record_id)
    assert all(sf.fresh(ServiceRecord, i).status == "verified" for i in theirs)
    assert sf.balance(me, district.a) == 0 and sf.balance(district.member_a, district.a) == 3 * 21
    assert records.verify_many(me, own) == (0, 2, 2)


# --- needs review ---------------------------------------------------------------------------------


def test_a_stewards_decision_clears_needs_review(district):
    single, bulk, rejected = (sf.record(district.member_a, district.a, source="qr", needs_review=True) for _ in "abc")
    records.verify(district.steward_a, single.id)
    records.verify_many(district.steward_a, [bulk.id])
    records.reject(district.steward_a, rejected.id, "未到场")
    for record_id in (single.id, bulk.id, rejected.id):
        assert sf.fresh(ServiceRecord, record_id).needs_review is False
    pending = sf.record(district.member_a, district.a, needs_review=True)
    sf.refused("forbidden", records.verify, district.steward_b, pending.id)
    assert sf.fresh(ServiceRecord, pending.id).needs_review is True  # a refusal leaves it


# --- random sequences on one record ---------------------------------------------------------------


class OneRecord(RuleBasedStateMachine):
    """Verify, un-verify, correct, reject and spend in any order; a model says what must be refused.

    After every step the record's net points in the ledger (its earn entries plus their reversals)
    equal the points of its current verification, or 0 when it is not verified.
    """

    def __init__(self):
        super().__init__()
        db.session.remove()
        wipe(None)
        community = factories.community()
        self.policy = sf.policy(community, per_hour=12, per_service=3)
        self.steward = factories.staff(Role.STEWARD, community)
        self.volunteer = factories.staff(Role.VOLUNTEER, community)
        self.community = community
        self.record_id = sf.record(self.volunteer, community, minutes=60).id
        self.model = {"status": "pending", "minutes": 60, "verifications": 0, "points": 0, "balance": 0}

    def attempt(self, refusal, call) -> bool:
        """Run a service call that must fail with `refusal` (or succeed when it is None)."""
        try:
            call()
        except DomainError as err:
            db.session.rollback()
            assert err.code == refusal, (err.code, refusal)
            event(f"refused: {refusal}")
            return False
        assert refusal is None, f"accepted, but should be refused with {refusal}"
        return True

    def earn(self) -> None:
        m = self.model
        m["points"] = records.points_for(self.policy, m["minutes"])
        m["balance"] += m["points"]
        m["verifications"] += 1
        m["status"] = "verified"

    @rule()
    def verify(self):
        refusal = None if self.model["status"] != "verified" else "already_verified"
        if self.attempt(refusal, lambda: records.verify(self.steward, self.record_id)):
            self.earn()

    @rule()
    def unverify(self):
        m = self.model
        refusal = "not_verified" if m["status"] != "verified" else None
        refusal = refusal or ("insufficient_points" if m["balance"] < m["points"] else None)
        if self.attempt(refusal, lambda: records.unverify(self.steward, self.record_id, "复核")):
            m["balance"] -= m["points"]
            m["status"], m["points"] = "pending", 0

    @rule()
    def reject(self):
        refusal = None if self.model["status"] == "pending" else "not_pending"
        if self.attempt(refusal, lambda: records.reject(self.steward, self.record_id, "无证明")):
            self.model["status"] = "rejected"

    @rule(minutes=st.sampled_from([1, 2, 3, 29, 30, 60, 90, 1440]))
    def correct(self, minutes):
        m = self.model
        refusal = "unchanged" if minutes == m["minutes"] else None
        verified = m["status"] == "verified"
        refusal = refusal or ("insufficient_points" if verified and m["balance"] < m["points"] else None)
        if self.attempt(refusal, lambda: records.correct_minutes(self.steward, self.record_id, minutes, "更正")):
            m["minutes"] = minutes
            if verified:
                m["balance"] -= m["points"]
                self.earn()

    @rule(points=st.integers(1, 40))
    def spend(self, points):
        refusal = "insufficient_points" if points > self.model["balance"] else None
        if self.attempt(refusal, lambda: spend(self.volunteer, self.community, points)):
            self.model["balance"] -= points

    @invariant()
    def net_points_are_the_current_verifications(self):
        db.session.commit()  # a fresh read
        row = db.session.get(ServiceRecord, self.record_id)
        m = self.model
        assert (row.status, row.minutes, row.verifications) == (m["status"], m["minutes"], m["verifications"])
        earned = sf.earn_entries(self.record_id)
        assert [e.idempotency_key for e in earned] == [
            f"service-record:{row.id}:verify:{n}" for n in range(1, m["verifications"] + 1)
        ]
        reversals = db.session.scalars(
            select(LedgerEntry).where(LedgerEntry.reverses_id.in_([e.id for e in earned]))
        ).all()
        net = sum(e.amount for e in earned) + sum(r.amount for r in reversals)
        assert net == (row.points if row.status == "verified" else 0) == m["points"]
        if row.status == "verified":
            assert row.earn_entry_id == earned[-1].id and row.points == records.points_for(self.policy, row.minutes)
            assert len(reversals) == len(earned) - 1
        else:
            assert row.earn_entry_id is None and len(reversals) == len(earned)
        assert sf.balance(self.volunteer, self.community) == m["balance"]
        assert mismatches() == []


def test_random_sequences_keep_a_records_points_equal_to_its_current_verification():
    run_state_machine_as_test(
        OneRecord,
        settings=settings(
            max_examples=30,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
