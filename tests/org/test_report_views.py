"""双报到: the admins' list, recording and cancelling; a member's own report; the employer's staff page."""

from datetime import date

import pytest

from volunteer.accounts.models import Role, RoleGrant
from volunteer.org.models import MemberReport

from .. import factories
from .conftest import audits, count, find, get, text

YEAR = date.today().year


def test_admin_lists_own_communitys_reports_with_masked_phones(browse, district):
    page = text(browse(district.admin_a).get("/org/reports"))
    assert "王党员" in page and "东城供电局" in page
    assert district.member_a.phone not in page and district.member_a.phone[-4:] in page
    assert "赵党员" not in page and "东二社区" not in page


def test_reports_filter_by_year_and_search(browse, district):
    old = factories.resident(district.building_a, name="钱老党员", party_member=True)
    factories.report(old, district.a, district.unit_a, year=YEAR - 1)
    client = browse(district.admin_a)
    this_year = text(client.get("/org/reports"))
    assert "钱老党员" not in this_year
    last_year = text(client.get("/org/reports", query_string={"year": YEAR - 1}))
    assert "钱老党员" in last_year and "王党员" not in last_year
    assert "王党员" in text(client.get("/org/reports", query_string={"q": "王"}))
    by_phone = text(client.get("/org/reports", query_string={"q": district.member_a.phone[-4:]}))
    assert "王党员" in by_phone
    assert "王党员" not in text(client.get("/org/reports", query_string={"q": "没有这个人"}))


def test_reports_are_paginated(browse, district):
    for i in range(21):
        member = factories.resident(district.building_a, name=f"党员{i:02d}", party_member=True)
        factories.report(member, district.a, district.unit_a)
    client = browse(district.admin_a)
    first = text(client.get("/org/reports", query_string={"community": district.a.id}))
    second = text(client.get("/org/reports", query_string={"community": district.a.id, "page": 2}))
    assert "22 records" in first and "Page 2 of 2" in second
    assert "王党员" in second and "王党员" not in first  # sorted by name: 党员00..20 first


def test_bad_filters_give_a_message_or_404(browse, district):
    client = browse(district.admin_a)
    other = client.get("/org/reports", query_string={"community": district.b.id})
    assert other.status_code == 404 and "赵党员" not in text(other)
    for year in ("1999", "abc", "２０２６", "9" * 30):
        response = client.get("/org/reports", query_string={"year": year})
        assert response.status_code == 400, year
        assert "Choose a year between 2000 and 2100." in text(response)
    assert client.get("/org/reports", query_string={"community": "x"}).status_code == 404
    assert client.get("/org/reports", query_string={"q": "a\x00b"}).status_code == 200


def test_organiser_sees_reports_of_their_streets(browse, district):
    page = text(browse(district.organiser_a).get("/org/reports"))
    assert "王党员" in page and "赵党员" in page


@pytest.mark.parametrize("who", ["steward_a", "resident_a", "employer_a", "member_a"])
def test_reports_are_refused_to_non_admins(browse, district, who):
    client = browse(getattr(district, who))
    response = client.get("/org/reports")
    assert response.status_code == 403 and "王党员" not in text(response)
    report = find(MemberReport, user_id=district.member_a.id)
    assert client.post(f"/org/reports/{report.id}/cancel", data={"reason": "x"}).status_code == 403
    assert count(MemberReport) == 2


def test_admin_records_a_report_by_phone_with_audit_and_volunteer_role(browse, district):
    member = factories.resident(district.building_a, name="新党员", party_member=True)
    client = browse(district.admin_a)
    data = {"phone": member.phone, "community": district.a.id, "unit": district.unit_b.id, "year": YEAR}
    response = client.post("/org/reports/new", data=data)
    assert response.status_code == 303
    report = find(MemberReport, user_id=member.id)
    assert (report.community_id, report.unit_id, report.year) == (district.a.id, district.unit_b.id, YEAR)
    assert report.recorded_by_id == district.admin_a.id
    assert find(RoleGrant, user_id=member.id, role=Role.VOLUNTEER).community_id == district.a.id
    [entry] = audits("report.create")
    assert entry.community_id == district.a.id and entry.actor_id == district.admin_a.id


def test_recording_needs_a_registered_party_member(browse, district):
    client = browse(district.admin_a)
    base = {"community": district.a.id, "unit": district.unit_a.id, "year": YEAR}
    unknown = client.post("/org/reports/new", data=dict(base, phone="13700000000"))
    assert unknown.status_code == 400 and "No one is registered with this mobile number." in text(unknown)
    not_member = client.post("/org/reports/new", data=dict(base, phone=district.resident_a.phone))
    assert not_member.status_code == 400 and "Only party members" in text(not_member)
    assert count(MemberReport) == 2 and not audits("report.create")


def test_member_reported_elsewhere_is_refused_without_naming_that_community(browse, district):
    client = browse(district.admin_a)
    data = {"phone": district.member_b.phone, "community": district.a.id, "unit": district.unit_a.id, "year": YEAR}
    response = client.post("/org/reports/new", data=data)
    assert response.status_code == 400
    assert "already reports to another community" in text(response)
    assert "东二社区" not in text(response)
    assert count(MemberReport, MemberReport.user_id == district.member_b.id) == 1


def test_admin_cannot_record_into_another_community(browse, district):
    member = factories.resident(district.building_b, name="新党员", party_member=True)
    client = browse(district.admin_a)
    data = {"phone": member.phone, "community": district.b.id, "unit": district.unit_a.id, "year": YEAR}
    response = client.post("/org/reports/new", data=data)
    assert response.status_code == 400
    assert "东二社区" not in text(client.get("/org/reports/new"))
    assert find(MemberReport, user_id=member.id) is None


def test_admin_cancels_a_report_with_a_reason(browse, district):
    report_id = find(MemberReport, user_id=district.member_a.id).id
    client = browse(district.admin_a)
    form = text(client.get(f"/org/reports/{report_id}/cancel"))
    assert "王党员" in form and district.member_a.phone not in form
    response = client.post(f"/org/reports/{report_id}/cancel", data={"reason": "录入错误"})
    assert response.status_code == 303
    assert get(MemberReport, report_id) is None
    assert find(RoleGrant, user_id=district.member_a.id, role=Role.VOLUNTEER) is None
    [entry] = audits("report.cancel")
    assert entry.before["reason"] == "录入错误" and entry.community_id == district.a.id


def test_cancel_without_a_reason_changes_nothing(browse, district):
    report = find(MemberReport, user_id=district.member_a.id)
    client = browse(district.admin_a)
    for reason in ("", "   ", "<script>alert(1)</script>", "x" * 201):
        response = client.post(f"/org/reports/{report.id}/cancel", data={"reason": reason})
        assert response.status_code == 400, reason
    assert get(MemberReport, report.id) is not None and not audits("report.cancel")


def test_admin_cannot_cancel_another_communitys_report(browse, district):
    report = find(MemberReport, user_id=district.member_b.id)
    client = browse(district.admin_a)
    page = client.get(f"/org/reports/{report.id}/cancel")
    assert page.status_code == 404 and "赵党员" not in text(page)
    assert client.post(f"/org/reports/{report.id}/cancel", data={"reason": "抢"}).status_code == 404
    assert get(MemberReport, report.id) is not None


# --- a member's own report ------------------------------------------------------------------


def test_member_reports_once_a_year(browse, district):
    member = factories.resident(district.building_a, name="新党员", party_member=True)
    client = browse(member)
    form = text(client.get("/org/me/report"))
    assert "东二社区" in form and "西城税务所" in form  # any community, any unit
    assert f'<option selected value="{district.a.id}">' in form  # where they live comes first
    data = {"community": district.b.id, "unit": district.unit_b.id}
    response = client.post("/org/me/report", data=data)
    assert response.status_code == 303
    report = find(MemberReport, user_id=member.id)
    assert (report.community_id, report.year, report.recorded_by_id) == (district.b.id, YEAR, member.id)
    assert "You report to 东二社区 this year" in text(client.get("/org/me/report"))
    again = client.post("/org/me/report", data={"community": district.a.id, "unit": district.unit_a.id})
    assert again.status_code == 400 and "already reports to 东二社区" in text(again)
    assert count(MemberReport, MemberReport.user_id == member.id) == 1
    assert len(audits("report.create")) == 1


def test_member_sees_their_report_and_earlier_years(browse, district):
    factories.report(district.member_a, district.b, district.unit_b, year=YEAR - 1)
    page = text(browse(district.member_a).get("/org/me/report"))
    assert "You report to 东一社区 this year, from 东城供电局." in page
    assert str(YEAR - 1) in page and "西城税务所" in page


def test_non_member_gets_an_explanation(browse, district):
    client = browse(district.resident_a)
    response = client.get("/org/me/report")
    assert response.status_code == 403
    assert "Dual reporting is for party members" in text(response)
    assert (
        client.post("/org/me/report", data={"community": district.a.id, "unit": district.unit_a.id}).status_code == 403
    )
    assert find(MemberReport, user_id=district.resident_a.id) is None


# --- employer's staff -----------------------------------------------------------------------


def test_employer_sees_only_own_units_staff(browse, district):
    page = text(browse(district.employer_a).get("/org/staff"))
    assert "王党员" in page and "东一社区" in page and str(YEAR) in page
    assert district.member_a.phone not in page and district.member_a.phone[-4:] in page
    assert "赵党员" not in page and "东二社区" not in page and "张三" not in page


def test_employer_filters_by_year_and_name(browse, district):
    factories.report(district.member_b, district.a, district.unit_a, year=YEAR - 1)
    client = browse(district.employer_a)
    last_year = text(client.get("/org/staff", query_string={"year": YEAR - 1}))
    assert "赵党员" in last_year and "王党员" not in last_year
    assert "王党员" not in text(client.get("/org/staff", query_string={"q": "赵"}))
    assert client.get("/org/staff", query_string={"year": "soon"}).status_code == 400


@pytest.mark.parametrize("who", ["admin_a", "steward_a", "member_a", "organiser_all"])
def test_staff_page_is_for_employer_contacts_only(browse, district, who):
    response = browse(getattr(district, who)).get("/org/staff")
    assert response.status_code == 403 and "王党员" not in text(response)
