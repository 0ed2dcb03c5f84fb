"""The resources and projects lists through the pages: create, edit, claim up to capacity, give up, end a claim."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from volunteer.core.audit import AuditEntry
from volunteer.core.models import local_today
from volunteer.extensions import db
from volunteer.service.models import Project, ProjectClaim, Resource

from .. import factories
from ..conftest import text
from . import factories as sf


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def fresh(model, object_id):
    db.session.expire_all()
    return db.session.get(model, object_id)


def volunteer_of(d, community, name):
    user = factories.resident(d.building_a, name=name)
    factories.grant(user, "volunteer", community_=community)
    return user


RESOURCE = {
    "kind": "venue",
    "title": "供电局会议室",
    "description": "可坐30人",
    "availability": "工作日 9:00-17:00",
    "contact": "王经理",
    "active": "y",
}


def project_data(**kw) -> dict:
    data = {
        "kind": "post",
        "title": "楼道清洁岗",
        "description": "每周一次",
        "capacity": "2",
        "starts_on": (local_today() - timedelta(days=1)).isoformat(),
        "ends_on": "",
        "active": "y",
    }
    return {**data, **kw}


# --- resources -----------------------------------------------------------------------------------


def test_resource_create_edit_and_list(district, browse):
    d = district
    steward = browse(d.steward_a)
    assert steward.get("/service/resources/new").status_code == 200
    response = steward.post("/service/resources/new", data={**RESOURCE, "community": d.a.id, "unit": d.unit_a.id})
    assert response.status_code == 303
    resource = db.session.scalars(select(Resource)).one()
    assert (resource.community_id, resource.unit_id, resource.kind, resource.active) == (
        d.a.id,
        d.unit_a.id,
        "venue",
        True,
    )

    # Members of the community read it, with the unit that offers it; stewards get the edit link.
    page = text(browse(d.resident_a).get("/service/resources"))
    assert "供电局会议室" in page and "Offered by 东城供电局" in page and "工作日 9:00-17:00" in page
    assert f"/service/resources/{resource.id}/edit" not in page
    assert f"/service/resources/{resource.id}/edit" in text(steward.get("/service/resources"))
    assert "供电局会议室" not in text(browse(d.member_b).get("/service/resources"))

    page = text(steward.get(f"/service/resources/{resource.id}/edit"))
    assert 'value="供电局会议室"' in page and f'<option selected value="{d.unit_a.id}"' in page
    data = {**RESOURCE, "title": "会议室", "unit": "0"}
    data.pop("active")  # unticked: hidden from the list
    assert steward.post(f"/service/resources/{resource.id}/edit", data=data).status_code == 303
    resource = fresh(Resource, resource.id)
    assert (resource.title, resource.unit_id, resource.active) == ("会议室", None, False)
    assert "会议室" not in text(browse(d.resident_a).get("/service/resources"))
    assert "Hidden" in text(steward.get("/service/resources"))
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action == "service.resource_save")).all()
    assert len(actions) == 2


def test_resource_access(district, browse):
    d = district
    resource = sf_resource(d.a)
    assert browse(d.steward_b).get(f"/service/resources/{resource.id}/edit").status_code == 404
    response = browse(d.steward_b).post(f"/service/resources/{resource.id}/edit", data=RESOURCE)
    assert response.status_code == 404
    assert browse(d.member_a).get("/service/resources/new").status_code == 403
    assert browse(d.employer_a).get("/service/resources").status_code == 403
    assert browse(d.resident_a).get(f"/service/resources?community={d.b.id}").status_code == 404
    response = browse(d.steward_a).post("/service/resources/new", data={**RESOURCE, "community": d.b.id})
    assert response.status_code == 400
    assert fresh(Resource, resource.id).title == "场地" and count(Resource) == 1


def sf_resource(community) -> Resource:
    return factories._commit(Resource(community_id=community.id, kind="venue", title="场地"))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "", "This field is required."),
        ("title", "x" * 81, "At most 80 characters."),
        ("kind", "castle", "Not a valid choice"),
        ("contact", "x" * 61, "At most 60 characters."),
        ("availability", "x" * 81, "At most 80 characters."),
        ("description", "x" * 501, "At most 500 characters."),
    ],
)
def test_bad_resource(district, browse, field, value, message):
    d = district
    steward = browse(d.steward_a)
    response = steward.post("/service/resources/new", data={**RESOURCE, "community": d.a.id, field: value})
    assert response.status_code == 400 and message in text(response)
    assert count(Resource) == 0


# --- projects ------------------------------------------------------------------------------------


def test_project_create_claim_capacity_release(district, browse):
    d = district
    steward = browse(d.steward_a)
    assert steward.get("/service/projects/new").status_code == 200
    response = steward.post("/service/projects/new", data={**project_data(), "community": d.a.id})
    assert response.status_code == 303
    project = db.session.scalars(select(Project)).one()
    assert (project.kind, project.capacity, project.claimed, project.ends_on) == ("post", 2, 0, None)

    first, second, third = volunteer_of(d, d.a, "甲"), volunteer_of(d, d.a, "乙"), volunteer_of(d, d.a, "丙")
    one, two, three = browse(first), browse(second), browse(third)
    assert "Claim it" in text(one.get(f"/service/projects/{project.id}"))
    assert one.post(f"/service/projects/{project.id}/claim").status_code == 303
    response = one.post(f"/service/projects/{project.id}/claim")
    assert response.status_code == 400 and "already claimed" in text(response)
    assert two.post(f"/service/projects/{project.id}/claim").status_code == 303
    assert fresh(Project, project.id).claimed == 2

    # Full: the third is refused and nothing changes.
    assert "Every place has been claimed." in text(three.get(f"/service/projects/{project.id}"))
    response = three.post(f"/service/projects/{project.id}/claim")
    assert response.status_code == 400 and "Every place has been claimed." in text(response)
    assert fresh(Project, project.id).claimed == 2
    assert count(ProjectClaim, ProjectClaim.volunteer_id == third.id) == 0

    page = text(one.get("/service/projects"))
    assert "楼道清洁岗" in page and "Claimed by you" in page and "2/2" in page
    assert "Claimed by you" not in text(three.get("/service/projects"))

    # The list of who claimed: names for all, masked phones and the end button for stewards.
    page = text(three.get(f"/service/projects/{project.id}"))
    assert "甲" in page and first.masked_phone not in page and "End the claim" not in page
    page = text(steward.get(f"/service/projects/{project.id}"))
    assert first.masked_phone in page and "End the claim" in page and first.phone not in page

    # The volunteer gives up; the place opens for the third.
    assert one.post(f"/service/projects/{project.id}/release").status_code == 303
    assert fresh(Project, project.id).claimed == 1
    assert three.post(f"/service/projects/{project.id}/claim").status_code == 303
    response = one.post(f"/service/projects/{project.id}/release")
    assert response.status_code == 400 and "no claim to give up" in text(response)

    # The steward ends someone's claim (audited); a volunteer cannot end another's.
    response = three.post(f"/service/projects/{project.id}/claims/{second.id}/release")
    assert response.status_code == 404
    assert steward.post(f"/service/projects/{project.id}/claims/{second.id}/release").status_code == 303
    project = fresh(Project, project.id)
    assert project.claimed == 1
    claim = db.session.scalars(select(ProjectClaim).where(ProjectClaim.volunteer_id == second.id)).one()
    assert claim.released_at is not None
    assert count(AuditEntry, AuditEntry.action == "service.claim_release") == 1

    # Claiming again after giving up reuses the row.
    assert one.post(f"/service/projects/{project.id}/claim").status_code == 303
    assert count(ProjectClaim, ProjectClaim.volunteer_id == first.id) == 1
    assert fresh(Project, project.id).claimed == 2


def test_project_edit_and_capacity_floor(district, browse):
    d = district
    project = sf.project(d.a, capacity=3)
    volunteers = [volunteer_of(d, d.a, f"义工{i}") for i in range(2)]
    for user in volunteers:
        assert browse(user).post(f"/service/projects/{project.id}/claim").status_code == 303
    steward = browse(d.steward_a)
    page = text(steward.get(f"/service/projects/{project.id}/edit"))
    assert f'value="{project.title}"' in page and "2 volunteers have claimed it" in page
    response = steward.post(f"/service/projects/{project.id}/edit", data=project_data(capacity="1"))
    assert response.status_code == 400 and "2 volunteers have claimed it already." in text(response)
    assert fresh(Project, project.id).capacity == 3
    response = steward.post(f"/service/projects/{project.id}/edit", data=project_data(capacity="2", title="新名字"))
    assert response.status_code == 303
    project = fresh(Project, project.id)
    assert (project.capacity, project.title, project.kind) == (2, "新名字", "post")
    assert count(AuditEntry, AuditEntry.action == "service.project_save") == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"capacity": "0"}, "Enter a whole number from 1 to 500."),
        ({"capacity": "501"}, "Enter a whole number from 1 to 500."),
        ({"title": ""}, "This field is required."),
        ({"title": "x" * 81}, "At most 80 characters."),
        ({"starts_on": "2026-13-45"}, "Not a valid date value."),
        ({"ends_on": "2020-01-01"}, "The period must end on or after its start."),
        ({"kind": "party"}, "Not a valid choice"),
    ],
)
def test_bad_project(district, browse, changes, message):
    d = district
    response = browse(d.steward_a).post("/service/projects/new", data={**project_data(**changes), "community": d.a.id})
    assert response.status_code == 400 and message in text(response)
    assert count(Project) == 0


def test_project_access(district, browse):
    d = district
    project = sf.project(d.a)
    # A volunteer of another community neither sees nor claims it.
    stranger = browse(d.member_b)
    assert stranger.get(f"/service/projects/{project.id}").status_code == 404
    assert stranger.post(f"/service/projects/{project.id}/claim").status_code == 404
    assert project.title not in text(stranger.get("/service/projects"))
    # A resident of the community reads it but is not a volunteer: refused, nothing claimed.
    resident = browse(d.resident_a)
    page = text(resident.get(f"/service/projects/{project.id}"))
    assert project.title in page and "Claim it" not in page
    response = resident.post(f"/service/projects/{project.id}/claim")
    assert response.status_code == 403 and "Only volunteers of this community can claim it." in text(response)
    assert count(ProjectClaim) == 0 and fresh(Project, project.id).claimed == 0
    # Editing and ending claims are for the community's stewards.
    assert browse(d.steward_b).get(f"/service/projects/{project.id}/edit").status_code == 404
    assert browse(d.member_a).get("/service/projects/new").status_code == 403
    response = browse(d.steward_a).post("/service/projects/new", data={**project_data(), "community": d.b.id})
    assert response.status_code == 400 and count(Project) == 1


def test_project_not_running(district, browse):
    d = district
    ended = sf.project(d.a, ends_on=local_today() - timedelta(days=1))
    member = browse(d.member_a)
    assert "This project is not running now." in text(member.get(f"/service/projects/{ended.id}"))
    response = member.post(f"/service/projects/{ended.id}/claim")
    assert response.status_code == 400 and "not running now" in text(response)
    assert count(ProjectClaim) == 0


def test_lists_paginate(district, browse, app):
    d = district
    size = app.config["PAGE_SIZE"]
    for i in range(size + 1):
        sf.project(d.a, title=f"项目-{i:03d}")
    first = text(browse(d.member_a).get("/service/projects"))
    assert "Page 1 of 2" in first
    second = text(browse(d.member_a).get("/service/projects?page=2"))
    assert "Page 2 of 2" in second
