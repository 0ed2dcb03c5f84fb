"""Units and co-building agreements: district-wide units, community-scoped agreements and members."""

from datetime import date

import pytest

from volunteer.org.models import Agreement, Unit

from .. import factories
from .conftest import audits, count, find, get, text


def test_admin_lists_and_searches_all_units_with_masked_phones(browse, district):
    factories.unit(name="东城医院", contact_phone="13912345678")
    client = browse(district.admin_a)
    page = text(client.get("/org/units"))
    assert "东城供电局" in page and "西城税务所" in page and "东城医院" in page
    assert "139****5678" in page and "13912345678" not in page
    found = text(client.get("/org/units", query_string={"q": "东城"}))
    assert "东城供电局" in found and "东城医院" in found and "西城税务所" not in found


@pytest.mark.parametrize("who", ["steward_a", "resident_a", "employer_a", "member_a"])
def test_units_are_for_admins_and_organisers(browse, district, who):
    client = browse(getattr(district, who))
    assert client.get("/org/units").status_code == 403
    assert client.get(f"/org/units/{district.unit_a.id}").status_code == 403
    assert client.post("/org/units/new", data={"name": "新单位"}).status_code == 403
    assert count(Unit) == 2


def test_admin_creates_unit_with_audit_and_duplicate_is_refused(browse, district):
    client = browse(district.admin_a)
    data = {
        "name": "成华区人民医院",
        "contact_person": "刘",
        "contact_email": "hr@hospital.cn",
        "contact_phone": "028-1234567",
    }
    response = client.post("/org/units/new", data=data)
    assert response.status_code == 303
    unit = find(Unit, name="成华区人民医院")
    assert (unit.contact_email, unit.contact_phone) == ("hr@hospital.cn", "028-1234567")
    [entry] = audits("unit.create")
    assert entry.actor_id == district.admin_a.id and entry.object_id == unit.id
    again = client.post("/org/units/new", data=data)
    assert again.status_code == 400 and "already used" in text(again)
    assert count(Unit) == 3


def test_unit_detail_shows_only_members_and_agreements_of_covered_communities(browse, district):
    factories.agreement(district.unit_b, district.b, content="东二的协议")
    factories.agreement(district.unit_b, district.a, signed_on=date(2026, 2, 1), content="东一的协议")
    # 赵党员 (community b) and a new member of community a both work at unit_b
    member = factories.resident(district.building_a, name="孙党员", party_member=True)
    factories.report(member, district.a, district.unit_b)
    page = text(browse(district.admin_a).get(f"/org/units/{district.unit_b.id}"))
    assert "孙党员" in page and "东一社区" in page and "2026-02-01" in page
    assert "赵党员" not in page and "东二社区" not in page
    assert member.phone not in page and "139****" in page


def test_organiser_sees_members_across_their_streets(browse, district):
    page = text(browse(district.organiser_all).get(f"/org/units/{district.unit_b.id}"))
    assert "赵党员" in page and "东二社区" in page


def test_admin_edits_a_unit_their_community_works_with(browse, district):
    client = browse(district.admin_a)
    # member_a reports to community a from unit_a
    response = client.post(
        f"/org/units/{district.unit_a.id}/edit", data={"name": "东城供电公司", "contact_person": "王经理"}
    )
    assert response.status_code == 303
    assert get(Unit, district.unit_a.id).name == "东城供电公司"
    [entry] = audits("unit.update")
    assert entry.before["name"] == "东城供电局" and entry.after["contact_person"] == "王经理"


def test_admin_cannot_edit_an_unrelated_unit_until_an_agreement(browse, district):
    client = browse(district.admin_a)
    url = f"/org/units/{district.unit_b.id}/edit"
    assert client.get(url).status_code == 403
    assert client.post(url, data={"name": "改名"}).status_code == 403
    assert "Edit unit" not in text(client.get(f"/org/units/{district.unit_b.id}"))
    assert get(Unit, district.unit_b.id).name == "西城税务所"
    factories.agreement(district.unit_b, district.a)
    assert client.post(url, data={"name": "西城税务局"}).status_code == 303
    assert get(Unit, district.unit_b.id).name == "西城税务局"


def test_any_organiser_edits_any_unit(browse, district):
    response = browse(district.organiser_a).post(f"/org/units/{district.unit_b.id}/edit", data={"name": "税务所"})
    assert response.status_code == 303 and get(Unit, district.unit_b.id).name == "税务所"


def test_unknown_unit_is_404(browse, district):
    client = browse(district.admin_a)
    assert client.get("/org/units/999999").status_code == 404
    assert client.get(f"/org/units/{10**20}").status_code == 404


# --- agreements -----------------------------------------------------------------------------


def test_admin_signs_an_agreement_with_audit(browse, district):
    client = browse(district.admin_a)
    data = {"unit": district.unit_b.id, "signed_on": "2026-03-01", "ends_on": "2027-02-28", "content": "共建阵地"}
    response = client.post(f"/org/communities/{district.a.id}/agreements", data=data)
    assert response.status_code == 303
    agreement = find(Agreement, community_id=district.a.id)
    assert (agreement.unit_id, agreement.signed_on, agreement.ends_on) == (
        district.unit_b.id,
        date(2026, 3, 1),
        date(2027, 2, 28),
    )
    assert agreement.content == "共建阵地"
    [entry] = audits("agreement.sign")
    assert entry.community_id == district.a.id and entry.object_id == agreement.id
    page = text(client.get(f"/org/communities/{district.a.id}/agreements"))
    assert "西城税务所" in page and "共建阵地" in page


def test_end_date_before_signing_date_is_refused_with_a_clear_message(browse, district):
    client = browse(district.admin_a)
    data = {"unit": district.unit_b.id, "signed_on": "2026-03-01", "ends_on": "2026-02-01"}
    response = client.post(f"/org/communities/{district.a.id}/agreements", data=data)
    assert response.status_code == 400
    assert "The end date cannot be before the signing date." in text(response)
    assert count(Agreement) == 0 and not audits("agreement.sign")


def test_second_agreement_on_the_same_day_is_refused(browse, district):
    factories.agreement(district.unit_b, district.a, signed_on=date(2026, 3, 1))
    client = browse(district.admin_a)
    data = {"unit": district.unit_b.id, "signed_on": "2026-03-01"}
    response = client.post(f"/org/communities/{district.a.id}/agreements", data=data)
    assert response.status_code == 400 and "already signed" in text(response)
    assert count(Agreement) == 1


def test_admin_terminates_an_agreement_once(browse, district):
    agreement = factories.agreement(district.unit_b, district.a)
    client = browse(district.admin_a)
    response = client.post(f"/org/agreements/{agreement.id}/terminate")
    assert response.status_code == 303
    assert get(Agreement, agreement.id).terminated_at is not None
    assert len(audits("agreement.terminate")) == 1
    page = text(client.get(f"/org/communities/{district.a.id}/agreements"))
    assert "Terminated" in page
    again = client.post(f"/org/agreements/{agreement.id}/terminate", follow_redirects=True)
    assert "This agreement has already ended." in text(again)
    assert len(audits("agreement.terminate")) == 1


def test_another_communitys_agreements_are_not_found(browse, district):
    agreement = factories.agreement(district.unit_b, district.b, content="东二的秘密协议")
    client = browse(district.admin_a)
    listing = client.get(f"/org/communities/{district.b.id}/agreements")
    assert listing.status_code == 404 and "东二的秘密协议" not in text(listing)
    assert client.post(f"/org/agreements/{agreement.id}/terminate").status_code == 404
    data = {"unit": district.unit_a.id, "signed_on": "2026-03-01"}
    assert client.post(f"/org/communities/{district.b.id}/agreements", data=data).status_code == 404
    assert get(Agreement, agreement.id).terminated_at is None
    assert count(Agreement) == 1


def test_agreement_pages_refuse_non_admins(browse, district):
    agreement = factories.agreement(district.unit_a, district.a)
    client = browse(district.steward_a)
    assert client.get(f"/org/communities/{district.a.id}/agreements").status_code == 403
    assert client.post(f"/org/agreements/{agreement.id}/terminate").status_code == 403
    assert client.get(f"/org/agreements/{agreement.id}/terminate").status_code == 405
    assert get(Agreement, agreement.id).terminated_at is None
