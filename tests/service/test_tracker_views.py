"""The 1112 tracker page and CSV, on-pace logic around the date, and the volunteers' trails."""

import csv
import io
from datetime import date, timedelta

from volunteer.core.models import local_today
from volunteer.service import records, tracker
from volunteer.service import tracker_views as views

from .. import factories
from ..conftest import text
from . import factories as sf


def verified(volunteer, community, steward, n: int, day=None) -> None:
    for _ in range(n):
        row = sf.record(volunteer, community, served_on=day or local_today())
        records.verify(steward, row.id)


def test_expected_by_the_date():
    assert tracker.expected_by(2025, date(2025, 1, 20)) == 0  # January: nobody is behind yet
    assert tracker.expected_by(2025, date(2025, 2, 1)) == 1
    assert tracker.expected_by(2025, date(2025, 7, 2)) == 6
    assert tracker.expected_by(2025, date(2025, 12, 31)) == 12
    assert tracker.expected_by(2025, date(2026, 3, 1)) == 12  # a past year: the whole 12
    assert tracker.expected_by(2026, date(2025, 12, 1)) == 0


def test_numbers_count_verified_services_in_the_assigned_community(district, browse):
    d = district
    today = local_today()
    verified(d.member_a, d.a, d.steward_a, 3)
    verified(d.member_a, d.b, d.steward_b, 1)  # another community: not their 1112
    sf.record(d.member_a, d.a)  # pending: not counted yet
    sf.record(d.member_a, d.a, served_on=date(today.year - 1, 6, 1), status="rejected")
    [row] = tracker.rows(today.year, today, community_ids={d.a.id})
    assert (row.user.id, row.verified, row.pending, row.minutes) == (d.member_a.id, 3, 1, 270)

    steward = browse(d.steward_a)
    page = text(steward.get("/service/tracker"))
    assert "王党员" in page and "赵党员" not in page
    assert "3/12" in page and d.member_a.phone not in page and "东城供电局" in page
    assert 'data-summary="members">1<' in page
    assert steward.get(f"/service/tracker?community={d.b.id}").status_code == 404
    assert steward.get("/service/tracker?year=abc").status_code == 400

    organiser = text(browse(d.organiser_a).get("/service/tracker"))
    assert "王党员" in organiser and "赵党员" in organiser
    assert "王党员" not in text(browse(d.steward_b).get("/service/tracker"))
    assert browse(d.member_a).get("/service/tracker").status_code == 403
    assert browse(d.resident_a).get("/service/tracker.csv").status_code == 403


def test_on_pace_around_the_date(district, browse, monkeypatch):
    d = district
    year = local_today().year
    verified(d.member_a, d.a, d.steward_a, 2, day=date(year, 1, 10))
    # Early March: a steady pace gives 1, so 2 is on pace; by July 2 it gives 6, so 2 is behind.
    monkeypatch.setattr(views, "local_today", lambda: date(year, 3, 5))
    steward = browse(d.steward_a)
    page = text(steward.get(f"/service/tracker?year={year}"))
    assert "On pace" in page and 'data-summary="on_pace">1<' in page and 'data-summary="behind">0<' in page
    assert "王党员" not in text(steward.get(f"/service/tracker?year={year}&behind=1"))

    monkeypatch.setattr(views, "local_today", lambda: date(year, 7, 2))
    page = text(steward.get(f"/service/tracker?year={year}"))
    assert "Behind" in page and 'data-summary="behind">1<' in page
    assert "王党员" in text(steward.get(f"/service/tracker?year={year}&behind=1"))


def test_filters_per_unit_and_grouping(district, browse):
    d = district
    other_unit = factories.unit(name="南城医院")
    member = factories.resident(d.building_a, name="刘党员", party_member=True)
    factories.report(member, d.a, other_unit)
    verified(member, d.a, d.steward_a, 12)
    steward = browse(d.steward_a)
    only = text(steward.get(f"/service/tracker?unit={other_unit.id}"))
    assert "刘党员" in only and "王党员" not in only and "Done" in only
    assert steward.get(f"/service/tracker?unit={d.unit_b.id}").status_code == 404  # not a unit of theirs
    grouped = text(steward.get("/service/tracker?by=unit"))
    assert f'data-unit="{d.unit_a.id}"' in grouped and f'data-unit="{other_unit.id}"' in grouped
    assert "Nobody is behind." in grouped


def test_csv_has_bom_header_and_only_the_viewers_rows(district, browse):
    d = district
    verified(d.member_a, d.a, d.steward_a, 2)
    verified(d.member_b, d.b, d.steward_b, 1)
    response = browse(d.steward_a).get("/service/tracker.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="tracker-' in response.headers["Content-Disposition"]
    assert response.data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert lines[0][:5] == ["Name", "Phone", "Unit", "Community", "Verified"]
    assert len(lines) == 2
    assert lines[0][7:10] == ["Hours", "Checked hours", "Entered hours"]
    name, phone, unit, community, done, target, pending, hours, checked, entered, _status = lines[1]
    assert (name, unit, community) == ("王党员", "东城供电局", "东一社区")
    assert (done, target, pending, hours, checked, entered) == ("2", "12", "0", "3.0", "0.0", "3.0")
    assert phone != d.member_a.phone and "****" in phone
    organiser = browse(d.organiser_a).get(f"/service/tracker.csv?community={d.b.id}")
    rows = list(csv.reader(io.StringIO(organiser.data.decode("utf-8-sig"))))[1:]
    assert [r[0] for r in rows] == ["赵党员"]


def test_own_trail_with_totals_and_progress(district, browse):
    d = district
    today = local_today()
    verified(d.member_a, d.a, d.steward_a, 2)
    sf.record(d.member_a, d.a, description="等待核实的服务")
    sf.record(d.member_a, d.a, served_on=date(today.year - 1, 12, 1), description="去年的服务")
    member = browse(d.member_a)
    page = text(member.get("/service/trail"))
    points = 2 * records.points_for(records.policy_for(d.a.id), 90)
    assert "等待核实的服务" in page and "去年的服务" not in page
    assert 'data-total="services">2<' in page and 'data-total="hours">3.0<' in page
    assert f'data-total="points">{points}<' in page and "progress-1112" in page and "2/12" in page
    last_year = text(member.get(f"/service/trail?year={today.year - 1}"))
    assert "去年的服务" in last_year and "等待核实的服务" not in last_year
    assert member.get("/service/trail?year=1900").status_code == 400
    assert "progress-1112" not in text(browse(d.resident_a).get("/service/trail"))


def test_member_trail_for_stewards_only_of_their_communities(district, browse):
    d = district
    sf.record(d.member_a, d.a, description="在东一的服务")
    sf.record(d.member_a, d.b, description="在东二的服务", served_on=local_today() - timedelta(days=1))
    mine = text(browse(d.steward_a).get(f"/service/members/{d.member_a.id}/trail"))
    assert "在东一的服务" in mine and "在东二的服务" not in mine and "progress-1112" in mine
    theirs = text(browse(d.steward_b).get(f"/service/members/{d.member_a.id}/trail"))
    assert "在东二的服务" in theirs and "在东一的服务" not in theirs and "progress-1112" not in theirs
    assert browse(d.steward_a).get(f"/service/members/{d.member_b.id}/trail").status_code == 404
    assert browse(d.steward_a).get(f"/service/members/{d.resident_a.id}/trail").status_code == 404
    assert browse(d.steward_a).get("/service/members/999999/trail").status_code == 404
    assert browse(d.member_b).get(f"/service/members/{d.member_a.id}/trail").status_code == 403


# --- checked and entered hours ---------------------------------------------------------------------


def four_sources(d):
    """member_a, verified: QR 1 h and an order 2 h (checked), self-reported 0.5 h and steward-entered 1.5 h."""
    rows = {
        "qr": sf.record(d.member_a, d.a, source="qr", kind="activity", minutes=60),
        "order": sf.record(d.member_a, d.a, source="order", kind="order", minutes=120),
        "self": sf.record(d.member_a, d.a, source="self", minutes=30),
        "steward": sf.record(d.member_a, d.a, source="steward", minutes=90),
    }
    for row in rows.values():
        records.verify(d.steward_a, row.id)
    # Counted in neither: waiting or rejected.
    sf.record(d.member_a, d.a, source="qr", kind="activity", minutes=600)
    sf.record(d.member_a, d.a, source="order", kind="order", minutes=300, status="rejected", reject_reason="无")
    return rows


def split_of(page: str, member_id: int) -> tuple[str, str, str]:
    """(hours, checked, entered) in the member's tracker row."""
    row = page.split(f'data-member="{member_id}"', 1)[1].split("</tr>", 1)[0]

    def value(attr):
        return row.split(attr + ">", 1)[1].split("<", 1)[0]

    return value("data-hours"), value("data-checked-hours"), value("data-entered-hours")


def csv_split(client) -> tuple[str, str, str]:
    lines = list(csv.reader(io.StringIO(client.get("/service/tracker.csv").data.decode("utf-8-sig"))))
    header, [row] = lines[0], lines[1:]
    return tuple(row[header.index(name)] for name in ("Hours", "Checked hours", "Entered hours"))


def test_tracker_page_and_csv_tell_checked_from_entered_hours(district, browse):
    d = district
    four_sources(d)
    steward = browse(d.steward_a)
    page = text(steward.get("/service/tracker"))
    assert "4/12" in page and split_of(page, d.member_a.id) == ("5.0", "3.0", "2.0")
    assert csv_split(steward) == ("5.0", "3.0", "2.0")
    trail = text(browse(d.member_a).get("/service/trail"))
    assert 'data-total="hours">5.0<' in trail
    assert 'data-total="checked_hours">3.0<' in trail and 'data-total="entered_hours">2.0<' in trail


def test_correcting_a_qr_record_moves_its_hours_to_entered(district, browse):
    d = district
    rows = four_sources(d)
    records.correct_minutes(d.steward_a, rows["qr"].id, 90, "忘记签退")
    steward = browse(d.steward_a)
    assert split_of(text(steward.get("/service/tracker")), d.member_a.id) == ("5.5", "2.0", "3.5")
    assert csv_split(steward) == ("5.5", "2.0", "3.5")
    trail = text(steward.get(f"/service/members/{d.member_a.id}/trail"))
    assert 'data-total="checked_hours">2.0<' in trail and 'data-total="entered_hours">3.5<' in trail
    [row] = tracker.rows(local_today().year, local_today(), community_ids={d.a.id})
    assert (row.minutes, row.checked_minutes, row.checked_hours, row.entered_hours) == (330, 120, 2.0, 3.5)
