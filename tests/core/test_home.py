"""The home page shows each role what it should do next."""

import pytest

from ..conftest import english, login


def _home(app, user) -> str:
    client = app.test_client()
    english(client)
    login(client, user)
    return client.get("/").get_data(as_text=True)


def test_anonymous_sees_the_welcome_page(client):
    english(client)
    page = client.get("/").get_data(as_text=True)
    assert "Serve your community, earn points, exchange them for rewards" in page
    assert 'href="/login"' in page and 'href="/register"' in page
    assert "Hello," not in page


def test_resident_sees_own_community_and_no_staff_cards(app, district):
    page = _home(app, district.resident_a)
    assert "Hello, 张三" in page
    assert "东街道 · 东一社区" in page
    assert "幸福小区 1栋" in page
    for staff_only in ("Admin:", "Desk:", "Register a resident", "Our staff", "1112 volunteer service", "Audit log"):
        assert staff_only not in page


def test_admin_sees_the_admin_card_for_its_community_only(app, district):
    page = _home(app, district.admin_a)
    assert "Admin: 东一社区" in page
    assert "Admin: 东二社区" not in page
    assert "Desk: 东一社区" not in page  # the admin card covers the desk
    assert 'href="/admin/users/"' in page
    assert f'href="/audit?community={district.a.id}"' in page


def test_admin_card_counts_residents_and_reports(app, district):
    page = _home(app, district.admin_a)
    # 张三 and 王党员 are residents of 东一社区; 王党员 reported this year
    assert '<span class="stat">2</span> residents' in page
    assert '<span class="stat">1</span> members reported this year' in page


def test_steward_sees_the_desk_card(app, district):
    page = _home(app, district.steward_a)
    assert "Desk: 东一社区" in page
    assert 'href="/admin/users/desk/register"' in page
    assert "Admin:" not in page
    assert "Desk: 东二社区" not in page


def test_party_member_sees_the_1112_card_with_the_community_reported_to(app, district):
    page = _home(app, district.member_b)
    assert "1112 volunteer service" in page
    assert "You report to 东二社区 this year, from 西城税务所." in page


def test_party_member_without_report_is_invited_to_report(app, district):
    from .. import factories

    member = factories.resident(district.building_a, name="新党员", party_member=True)
    page = _home(app, member)
    assert "You have not reported to a community for" in page
    assert "Report to a community" in page


def test_collector_sees_its_compound(app, district):
    page = _home(app, district.collector_a)
    assert "Information collector" in page
    assert "东一社区 · 幸福小区" in page
    assert "You gather and check residents" in page and "credit declarations in this compound." in page


def test_council_member_sees_the_assessment_card(app, district):
    page = _home(app, district.council_a)
    assert "Council member" in page
    assert "You assess declarations checked by the collector" in page


def test_employer_sees_our_staff(app, district):
    page = _home(app, district.employer_a)
    assert "Our staff" in page
    assert "See which of your staff report to a community" in page
    assert "Admin:" not in page


@pytest.mark.parametrize("who", ["organiser_a", "organiser_all"])
def test_organiser_sees_organisation(app, district, who):
    page = _home(app, getattr(district, who))
    assert "Manage streets, communities and units" in page
    assert 'href="/org/communities"' in page


def test_street_organiser_has_admin_cards_for_its_streets_communities_only(app, district):
    page = _home(app, district.organiser_a)
    assert "Admin: 东一社区" in page and "Admin: 东二社区" in page
    assert "Admin: 西一社区" not in page
