"""The 1112 tracker: the pace for a date, and each member's verified services in their assigned community."""

from datetime import date

import pytest

from tests import factories
from volunteer.accounts.models import Role
from volunteer.org.models import MemberReport
from volunteer.service import records, tracker
from volunteer.service.models import TARGET

from . import factories as sf

YEAR = date.today().year  # the year tests.factories.report() files the district's members under


@pytest.mark.parametrize(
    ("year", "today", "expected"),
    [
        (2025, date(2025, 1, 1), 0),  # nobody is behind on new year's day
        (2025, date(2025, 1, 30), 0),
        (2025, date(2025, 1, 31), 1),  # 12 * 31 / 365 = 1.02
        (2025, date(2025, 7, 2), 6),  # day 183 of 365
        (2025, date(2025, 7, 1), 5),
        (2025, date(2025, 12, 30), 11),
        (2025, date(2025, 12, 31), 12),
        (2024, date(2024, 1, 30), 0),  # leap year: 366 days
        (2024, date(2024, 1, 31), 1),
        (2024, date(2024, 2, 29), 1),
        (2024, date(2024, 7, 2), 6),  # day 184 of 366
        (2024, date(2024, 12, 30), 11),  # day 365 of 366
        (2024, date(2024, 12, 31), 12),
        (2100, date(2100, 12, 31), 12),  # not a leap year
        (2025, date(2026, 3, 1), TARGET),  # a past year is judged on all 12
        (2025, date(2024, 12, 31), 0),  # a future year expects nothing yet
    ],
)
def test_expected_by(year, today, expected):
    assert tracker.expected_by(year, today) == expected


def test_expected_by_never_decreases_through_a_year():
    for year in (2024, 2025):
        days = [date.fromordinal(o) for o in range(date(year, 1, 1).toordinal(), date(year + 1, 1, 1).toordinal())]
        values = [tracker.expected_by(year, d) for d in days]
        assert values == sorted(values) and values[0] == 0 and values[-1] == TARGET
        assert {values.count(n) for n in range(1, TARGET)} <= set(range(29, 32))  # about a month per service


def verified(volunteer, community, steward, served_on, minutes=60):
    row = sf.record(volunteer, community, served_on=served_on, minutes=minutes)
    records.verify(steward, row.id)
    return row


@pytest.fixture
def services(district):
    """member_a (reported to a): 2 verified in a this year, 1 pending, 1 rejected; others that must not count."""
    d = district
    verified(d.member_a, d.a, d.steward_a, date(YEAR, 1, 1), 30)
    verified(d.member_a, d.a, d.steward_a, date(YEAR, 12, 31), 90)
    sf.record(d.member_a, d.a, served_on=date(YEAR, 3, 1))
    sf.record(d.member_a, d.a, served_on=date(YEAR, 3, 2), status="rejected")
    verified(d.member_a, d.a, d.steward_a, date(YEAR - 1, 12, 31))  # last year
    verified(d.member_a, d.a, d.steward_a, date(YEAR + 1, 1, 1))  # next year
    factories.grant(d.member_a, Role.VOLUNTEER, community_=d.b)
    verified(d.member_a, d.b, d.steward_b, date(YEAR, 5, 1))  # not their assigned community
    verified(d.member_b, d.b, d.steward_b, date(YEAR, 5, 1), 45)
    return d


def by_name(found) -> dict:
    return {r.user.name: (r.community.id, r.unit.id, r.verified, r.pending, r.minutes, r.expected) for r in found}


def test_rows_count_verified_services_in_the_reported_community_and_year(services):
    d = services
    found = tracker.rows(YEAR, date(YEAR, 7, 2))
    expected = tracker.expected_by(YEAR, date(YEAR, 7, 2))
    assert by_name(found) == {
        "王党员": (d.a.id, d.unit_a.id, 2, 1, 120, expected),
        "赵党员": (d.b.id, d.unit_b.id, 1, 0, 45, expected),
    }
    assert [r.user.name for r in found] == ["赵党员", "王党员"]  # fewest services first
    row = next(r for r in found if r.user.id == d.member_a.id)
    assert (row.hours, row.done, row.on_pace) == (2.0, False, False)


def test_rows_filter_by_community_unit_and_member(services):
    d = services
    today = date(YEAR, 7, 2)
    assert [r.user.id for r in tracker.rows(YEAR, today, community_ids=[d.a.id])] == [d.member_a.id]
    assert [r.user.id for r in tracker.rows(YEAR, today, community_ids=[d.c.id])] == []
    assert [r.user.id for r in tracker.rows(YEAR, today, unit_ids=[d.unit_b.id])] == [d.member_b.id]
    assert [r.user.id for r in tracker.rows(YEAR, today, user_id=d.member_b.id)] == [d.member_b.id]
    both = tracker.rows(YEAR, today, community_ids=[d.a.id, d.b.id], unit_ids=[d.unit_a.id])
    assert [r.user.id for r in both] == [d.member_a.id]
    assert tracker.rows(YEAR, today, community_ids=[]) == []


def test_a_report_of_another_year_counts_in_that_year_only(services):
    d = services
    factories._commit(MemberReport(user_id=d.member_a.id, community_id=d.a.id, unit_id=d.unit_a.id, year=YEAR - 1))
    last = tracker.rows(YEAR - 1, date(YEAR, 1, 5))
    assert by_name(last) == {"王党员": (d.a.id, d.unit_a.id, 1, 0, 60, TARGET)}
    assert tracker.progress(d.member_a, YEAR - 1, date(YEAR, 1, 5)).verified == 1
    assert tracker.rows(YEAR + 1, date(YEAR, 7, 2)) == []  # nobody has reported for next year yet


def test_progress_and_summary(services):
    d = services
    mine = tracker.progress(d.member_a, YEAR, date(YEAR, 1, 20))
    assert (mine.verified, mine.expected, mine.on_pace) == (2, 0, True)
    assert tracker.progress(d.resident_a, YEAR, date(YEAR, 1, 20)) is None
    found = tracker.rows(YEAR, date(YEAR, 3, 1))  # 1 expected by the start of March
    assert tracker.summary(found) == {"members": 2, "done": 0, "on_pace": 2, "behind": 0}
    found = tracker.rows(YEAR, date(YEAR, 12, 31))
    assert tracker.summary(found) == {"members": 2, "done": 0, "on_pace": 0, "behind": 2}
    assert tracker.summary([]) == {"members": 0, "done": 0, "on_pace": 0, "behind": 0}


def test_twelve_verified_services_are_done_and_an_unverified_one_stops_counting(district):
    d = district
    done = [verified(d.member_a, d.a, d.steward_a, date(YEAR, month, 1)) for month in range(1, 13)]
    row = tracker.progress(d.member_a, YEAR, date(YEAR, 12, 31))
    assert (row.verified, row.pending, row.done, row.on_pace, row.hours) == (12, 0, True, True, 12.0)
    assert tracker.summary([row]) == {"members": 1, "done": 1, "on_pace": 1, "behind": 0}
    records.unverify(d.steward_a, done[0].id, "重复登记")
    row = tracker.progress(d.member_a, YEAR, date(YEAR, 12, 31))
    assert (row.verified, row.pending, row.done, row.on_pace) == (11, 1, False, False)
