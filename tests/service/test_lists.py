"""The resources and projects lists: saving them, claiming projects within capacity, releasing claims."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from volunteer.core.audit import AuditEntry
from volunteer.core.models import local_today
from volunteer.extensions import db
from volunteer.service import lists
from volunteer.service.models import Project, ProjectClaim, Resource

from . import factories as sf


def project_fields(**kw) -> dict:
    values = {
        "kind": "post",
        "title": "路口文明劝导",
        "description": "",
        "capacity": 3,
        "starts_on": local_today() - timedelta(days=1),
        "ends_on": None,
        "active": True,
    }
    return {**values, **kw}


def claimed(project_id) -> tuple[int, list[int]]:
    """(claimed counter, volunteers holding an active claim) read fresh."""
    project = sf.fresh(Project, project_id)
    return project.claimed, sorted(c.volunteer_id for c in project.claims if c.released_at is None)


# --- resources ------------------------------------------------------------------------------------


def test_a_steward_adds_and_edits_a_resource(district):
    fields = {"kind": "venue", "title": " 活动室 ", "availability": "周末", "unit_id": district.unit_a.id}
    resource = lists.save_resource(district.steward_a, district.a.id, fields)
    row = sf.fresh(Resource, resource.id)
    assert (row.kind, row.title, row.unit_id, row.active, row.community_id) == (
        "venue",
        "活动室",
        district.unit_a.id,
        True,
        district.a.id,
    )
    lists.save_resource(district.steward_a, district.a.id, {**fields, "active": False}, resource.id)
    assert sf.fresh(Resource, resource.id).active is False
    lists.save_resource(district.steward_a, district.a.id, {**fields, "active": False}, resource.id)  # unchanged
    assert sf.count(AuditEntry, AuditEntry.action == "service.resource_save") == 2


def test_bad_resources_are_refused(district):
    ok = {"kind": "goods", "title": "轮椅"}
    sf.refused("forbidden", lists.save_resource, district.steward_b, district.a.id, ok)
    sf.refused("bad_kind", lists.save_resource, district.steward_a, district.a.id, {**ok, "kind": "money"})
    sf.refused("bad_title", lists.save_resource, district.steward_a, district.a.id, {**ok, "title": " "})
    sf.refused("bad_unit", lists.save_resource, district.steward_a, district.a.id, {**ok, "unit_id": 10**6})
    sf.refused("bad_contact", lists.save_resource, district.steward_a, district.a.id, {**ok, "contact": "x" * 61})
    other = lists.save_resource(district.steward_b, district.b.id, ok)
    sf.refused("not_found", lists.save_resource, district.steward_a, district.a.id, ok, other.id)
    assert sf.count(Resource) == 1


# --- projects -------------------------------------------------------------------------------------


def test_a_steward_adds_a_project(district):
    project = lists.save_project(district.steward_a, district.a.id, project_fields())
    row = sf.fresh(Project, project.id)
    assert (row.kind, row.capacity, row.claimed, row.community_id) == ("post", 3, 0, district.a.id)
    assert sf.count(AuditEntry, AuditEntry.action == "service.project_save") == 1


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"kind": "job"}, "bad_kind"),
        ({"capacity": 0}, "bad_capacity"),
        ({"capacity": 501}, "bad_capacity"),
        ({"capacity": True}, "bad_capacity"),
        ({"starts_on": None}, "bad_period"),
        ({"ends_on": local_today() - timedelta(days=2)}, "bad_period"),
        ({"title": ""}, "bad_title"),
        ({"description": "x" * 501}, "bad_description"),
    ],
)
def test_bad_projects_are_refused(district, change, code):
    sf.refused(code, lists.save_project, district.steward_a, district.a.id, project_fields(**change))
    assert sf.count(Project) == 0


def test_only_its_stewards_edit_a_project(district):
    project = sf.project(district.a)
    sf.refused("forbidden", lists.save_project, district.steward_b, district.a.id, project_fields(), project.id)
    sf.refused("not_found", lists.save_project, district.steward_b, district.b.id, project_fields(), project.id)
    sf.refused("forbidden", lists.save_project, district.member_a, district.a.id, project_fields(), project.id)


def test_capacity_cannot_go_below_the_claims(district):
    project = sf.project(district.a, capacity=3)
    vs = [sf.volunteer(district.a) for _ in range(2)]
    for v in vs:
        lists.claim(v, project.id)
    err = sf.refused(
        "bad_capacity", lists.save_project, district.steward_a, district.a.id, project_fields(capacity=1), project.id
    )
    assert "2" in str(err)
    assert sf.fresh(Project, project.id).capacity == 3
    lists.save_project(district.steward_a, district.a.id, project_fields(capacity=2), project.id)
    assert (sf.fresh(Project, project.id).capacity, claimed(project.id)[0]) == (2, 2)


# --- claims ---------------------------------------------------------------------------------------


def test_claims_within_capacity_then_full(district):
    project = sf.project(district.a, capacity=2)
    a, c = sf.volunteer(district.a), sf.volunteer(district.a)
    first = lists.claim(a, project.id)
    assert first.released_at is None and lists.active_claim(project.id, a.id).id == first.id
    lists.claim(district.member_a, project.id)
    sf.refused("full", lists.claim, c, project.id)
    assert claimed(project.id) == (2, sorted([a.id, district.member_a.id]))
    assert lists.active_claim(project.id, c.id) is None


def test_claiming_twice_is_refused(district):
    project = sf.project(district.a)
    lists.claim(district.member_a, project.id)
    sf.refused("already_claimed", lists.claim, district.member_a, project.id)
    assert claimed(project.id) == (1, [district.member_a.id]) and sf.count(ProjectClaim) == 1


def test_release_and_claim_again(district):
    project = sf.project(district.a, capacity=1)
    first = lists.claim(district.member_a, project.id)
    other = sf.volunteer(district.a)
    sf.refused("forbidden", lists.release_claim, other, project.id, district.member_a.id)
    sf.refused("not_claimed", lists.release_claim, other, project.id, other.id)
    lists.release_claim(district.member_a, project.id, district.member_a.id)
    assert claimed(project.id) == (0, []) and sf.fresh(ProjectClaim, first.id).released_at is not None
    sf.refused("not_claimed", lists.release_claim, district.member_a, project.id, district.member_a.id)
    again = lists.claim(district.member_a, project.id)
    assert again.id == first.id and sf.fresh(ProjectClaim, again.id).released_at is None  # one row per pair
    assert claimed(project.id) == (1, [district.member_a.id])
    assert sf.count(AuditEntry, AuditEntry.action == "service.claim_release") == 0  # own release: not audited


def test_a_steward_ends_a_claim_audited(district):
    project = sf.project(district.a, capacity=1)
    lists.claim(district.member_a, project.id)
    sf.refused("forbidden", lists.release_claim, district.steward_b, project.id, district.member_a.id)
    lists.release_claim(district.steward_a, project.id, district.member_a.id)
    assert claimed(project.id) == (0, [])
    (audit,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "service.claim_release")).all()
    assert (audit.actor_id, audit.object_id, audit.after) == (
        district.steward_a.id,
        project.id,
        {"volunteer_id": district.member_a.id},
    )
    lists.claim(sf.volunteer(district.a), project.id)  # the place is free again
    assert claimed(project.id)[0] == 1


@pytest.mark.parametrize(
    "change",
    [
        {"starts_on": local_today() + timedelta(days=1)},
        {"starts_on": local_today() - timedelta(days=30), "ends_on": local_today() - timedelta(days=1)},
        {"active": False},
    ],
)
def test_a_project_not_running_cannot_be_claimed(district, change):
    project = sf.project(district.a, **change)
    sf.refused("not_running", lists.claim, district.member_a, project.id)
    assert claimed(project.id) == (0, [])


def test_a_project_ending_today_can_be_claimed(district):
    project = sf.project(district.a, starts_on=local_today(), ends_on=local_today())
    lists.claim(district.member_a, project.id)
    assert claimed(project.id)[0] == 1


def test_only_volunteers_of_the_community_claim(district):
    project = sf.project(district.a)
    for outsider in (district.member_b, district.resident_a, district.steward_a, sf.volunteer(district.b)):
        err = sf.refused("not_volunteer", lists.claim, outsider, project.id)
        assert err.status == 403
    sf.refused("not_found", lists.claim, district.member_a, 10**6)
    assert claimed(project.id) == (0, []) and sf.count(ProjectClaim) == 0
