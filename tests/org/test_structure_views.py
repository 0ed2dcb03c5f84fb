"""Streets, communities, compounds and buildings: who sees and changes which, with audits."""

import pytest

from volunteer.org.models import Building, Community, Compound, Street

from .. import factories
from .conftest import audits, count, find, get, text


def test_district_organiser_sees_every_street_and_creates_one(browse, district):
    client = browse(district.organiser_all)
    page = text(client.get("/org/streets"))
    assert "东街道" in page and "西街道" in page
    response = client.post("/org/streets/new", data={"name": " 北街道 ", "district": "成华区"})
    assert response.status_code == 303
    street = find(Street, name="北街道")
    assert street.district == "成华区"
    [entry] = audits("street.create")
    assert entry.actor_id == district.organiser_all.id and entry.after["name"] == "北街道"


def test_street_organiser_sees_only_their_street_and_cannot_create(browse, district):
    client = browse(district.organiser_a)
    page = text(client.get("/org/streets"))
    assert "东街道" in page and "西街道" not in page
    assert client.get("/org/streets/new").status_code == 403
    assert client.post("/org/streets/new", data={"name": "北街道"}).status_code == 403
    assert count(Street) == 2


def test_street_organiser_renames_own_street_but_not_another(browse, district):
    client = browse(district.organiser_a)
    response = client.post(f"/org/streets/{district.street_a.id}/edit", data={"name": "东门街道", "district": ""})
    assert response.status_code == 303
    assert db_street(district.street_a.id).name == "东门街道"
    [entry] = audits("street.update")
    assert entry.before["name"] == "东街道" and entry.after["name"] == "东门街道"
    other = client.get(f"/org/streets/{district.street_b.id}/edit")
    assert other.status_code == 404 and "西街道" not in text(other)
    assert client.post(f"/org/streets/{district.street_b.id}/edit", data={"name": "x"}).status_code == 404
    assert db_street(district.street_b.id).name == "西街道"


def db_street(street_id):
    return get(Street, street_id)


@pytest.mark.parametrize("who", ["admin_a", "steward_a", "resident_a", "employer_a"])
def test_streets_are_for_organisers_only(browse, district, who):
    assert browse(getattr(district, who)).get("/org/streets").status_code == 403


def test_admin_lists_only_own_communities_with_counts(browse, district):
    page = text(browse(district.admin_a).get("/org/communities"))
    assert "东一社区" in page
    assert "东二社区" not in page and "西一社区" not in page
    assert "1 record" in page


def test_street_organiser_lists_the_communities_of_their_street_and_searches(browse, district):
    client = browse(district.organiser_a)
    page = text(client.get("/org/communities"))
    assert "东一社区" in page and "东二社区" in page and "西一社区" not in page
    found = text(client.get("/org/communities", query_string={"q": "东二"}))
    assert "东二社区" in found and "东一社区" not in found
    assert "西一社区" not in text(client.get("/org/communities", query_string={"q": "西"}))


def test_communities_list_is_paginated(browse, district):
    for i in range(22):
        factories.community(district.street_b, name=f"分页社区{i:02d}")
    client = browse(district.organiser_all)
    first = text(client.get("/org/communities"))
    second = text(client.get("/org/communities", query_string={"page": 2}))
    assert "25 records" in first and "Page 1 of 2" in first
    assert "分页社区21" in second and "分页社区21" not in first
    assert client.get("/org/communities", query_string={"page": 10**12}).status_code == 404


@pytest.mark.parametrize("who", ["steward_a", "resident_a", "employer_a", "member_a"])
def test_communities_are_refused_to_non_admins(browse, district, who):
    response = browse(getattr(district, who)).get("/org/communities")
    assert response.status_code == 403
    assert "东一社区" not in text(response)


def test_organiser_creates_community_in_own_street_with_audit(browse, district):
    client = browse(district.organiser_a)
    data = {"street": district.street_a.id, "name": "东三社区", "address": "东路3号", "phone": "028-84512345"}
    response = client.post("/org/communities/new", data=data)
    assert response.status_code == 303
    community = find(Community, name="东三社区")
    assert community.street_id == district.street_a.id and community.phone == "028-84512345"
    [entry] = audits("community.create")
    assert entry.community_id == community.id  # the new community's own audit log shows it


def test_organiser_cannot_create_community_in_another_street(browse, district):
    client = browse(district.organiser_a)
    form = text(client.get("/org/communities/new"))
    assert "东街道" in form and "西街道" not in form
    response = client.post("/org/communities/new", data={"street": district.street_b.id, "name": "偷偷社区"})
    assert response.status_code == 400
    assert count(Community) == 3 and not audits("community.create")


def test_admin_cannot_create_or_rename_communities(browse, district):
    client = browse(district.admin_a)
    assert client.get("/org/communities/new").status_code == 403
    assert client.post(f"/org/communities/{district.a.id}/edit", data={"name": "改名"}).status_code == 403
    assert get(Community, district.a.id).name == "东一社区"


def test_organiser_edits_community_and_duplicate_name_is_refused(browse, district):
    client = browse(district.organiser_a)
    url = f"/org/communities/{district.a.id}/edit"
    response = client.post(url, data={"name": "东一新社区", "address": "新址", "phone": ""})
    assert response.status_code == 303
    assert get(Community, district.a.id).address == "新址"
    [entry] = audits("community.update")
    assert entry.before["name"] == "东一社区" and entry.after["name"] == "东一新社区"
    clash = client.post(url, data={"name": "东二社区"})
    assert clash.status_code == 400 and "already used" in text(clash)
    assert get(Community, district.a.id).name == "东一新社区"
    assert client.post(f"/org/communities/{district.c.id}/edit", data={"name": "x"}).status_code == 404


def test_community_detail_shows_compounds_buildings_and_resident_counts(browse, district):
    grid = factories.compound(district.a, name="第三网格", kind="grid")
    factories.building(grid, name="9栋")
    page = text(browse(district.admin_a).get(f"/org/communities/{district.a.id}"))
    assert "幸福小区" in page and "1栋" in page and "第三网格" in page and "9栋" in page
    assert "Grid" in page and "Residential compound" in page
    # 张三 and 王党员 live in 1栋
    assert "2 residents" in page


def test_community_of_another_admin_is_not_found(browse, district):
    client = browse(district.admin_a)
    for url in (
        f"/org/communities/{district.b.id}",
        f"/org/communities/{district.b.id}/compounds/new",
        f"/org/compounds/{district.compound_b.id}/edit",
        f"/org/compounds/{district.compound_b.id}/buildings/new",
        f"/org/buildings/{district.building_b.id}/edit",
        f"/org/communities/{2**40}",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "东二社区" not in text(response) and "和平小区" not in text(response)


def test_steward_gets_403_on_community_pages(browse, district):
    assert browse(district.steward_a).get(f"/org/communities/{district.a.id}").status_code == 403


def test_admin_adds_and_edits_compounds_and_buildings(browse, district):
    client = browse(district.admin_a)
    response = client.post(f"/org/communities/{district.a.id}/compounds/new", data={"name": "二网格", "kind": "grid"})
    assert response.status_code == 303
    grid = find(Compound, name="二网格")
    assert grid.community_id == district.a.id and grid.kind == "grid"
    assert audits("compound.create")[0].community_id == district.a.id

    response = client.post(f"/org/compounds/{grid.id}/edit", data={"name": "二号网格", "kind": "grid"})
    assert response.status_code == 303 and get(Compound, grid.id).name == "二号网格"
    assert audits("compound.update")[0].before["name"] == "二网格"

    response = client.post(f"/org/compounds/{grid.id}/buildings/new", data={"name": "5栋"})
    assert response.status_code == 303
    building = find(Building, name="5栋")
    assert building.compound_id == grid.id
    assert audits("building.create")[0].community_id == district.a.id

    response = client.post(f"/org/buildings/{building.id}/edit", data={"name": "6栋"})
    assert response.status_code == 303 and get(Building, building.id).name == "6栋"
    assert audits("building.update")[0].after == {"name": "6栋"}


def test_duplicate_building_name_is_a_form_error(browse, district):
    client = browse(district.admin_a)
    response = client.post(f"/org/compounds/{district.compound_a.id}/buildings/new", data={"name": "1栋"})
    assert response.status_code == 400
    assert "That name is already used here" in text(response)
    assert count(Building, Building.compound_id == district.compound_a.id) == 1
    assert not audits("building.create")


def test_admin_cannot_change_another_communitys_compound(browse, district):
    client = browse(district.admin_a)
    response = client.post(f"/org/compounds/{district.compound_b.id}/edit", data={"name": "抢来的", "kind": "grid"})
    assert response.status_code == 404
    response = client.post(f"/org/communities/{district.b.id}/compounds/new", data={"name": "新", "kind": "grid"})
    assert response.status_code == 404
    assert get(Compound, district.compound_b.id).name == "和平小区"
    assert count(Compound) == 2 and not audits("compound.update")


def test_organiser_manages_compounds_of_their_streets_only(browse, district):
    client = browse(district.organiser_a)
    assert (
        client.post(
            f"/org/communities/{district.b.id}/compounds/new", data={"name": "甲", "kind": "compound"}
        ).status_code
        == 303
    )
    assert (
        client.post(
            f"/org/communities/{district.c.id}/compounds/new", data={"name": "乙", "kind": "compound"}
        ).status_code
        == 404
    )
    assert find(Compound, name="甲").community_id == district.b.id
    assert find(Compound, name="乙") is None


def test_anonymous_visitor_is_sent_to_login(client, district):
    response = client.get(f"/org/communities/{district.a.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
