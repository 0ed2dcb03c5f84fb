"""The resources list (what units offer) and the projects list (projects and posts volunteers claim).

Claiming locks the project row, so its capacity holds when volunteers race for the last place.
"""

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..core.audit import record as audit
from ..core.audit import snapshot
from ..core.database import begin_write
from ..core.errors import DomainError, NotAllowed
from ..core.models import local_today, utcnow
from ..extensions import db
from ..org.models import Unit
from .access import is_steward_of, is_volunteer_of
from .models import PROJECT_KINDS, RESOURCE_KINDS, Project, ProjectClaim, Resource

RESOURCE_FIELDS = ("kind", "title", "description", "availability", "contact", "unit_id", "active")
PROJECT_FIELDS = ("kind", "title", "description", "capacity", "starts_on", "ends_on", "active")


def _text(value, limit: int, code: str, message, required: bool = False) -> str:
    value = (value or "").strip()
    if (required and not value) or len(value) > limit:
        raise DomainError(code, message)
    return value


# --- resources -----------------------------------------------------------------------------------


def _resource_values(fields: dict) -> dict:
    if fields.get("kind") not in RESOURCE_KINDS:
        raise DomainError("bad_kind", _l("Choose a kind of resource."))
    unit_id = fields.get("unit_id") or None
    if unit_id is not None and db.session.get(Unit, unit_id) is None:
        raise DomainError("bad_unit", _l("Choose a unit from the list."))
    return {
        "kind": fields["kind"],
        "title": _text(fields.get("title"), 80, "bad_title", _l("Enter a title (up to 80 characters)."), True),
        "description": _text(fields.get("description"), 500, "bad_description", _l("Up to 500 characters.")),
        "availability": _text(fields.get("availability"), 80, "bad_availability", _l("Up to 80 characters.")),
        "contact": _text(fields.get("contact"), 60, "bad_contact", _l("Up to 60 characters.")),
        "unit_id": unit_id,
        "active": bool(fields.get("active", True)),
    }


def save_resource(steward, community_id: int, fields: dict, resource_id: int | None = None) -> Resource:
    """Add a resource to the community's list, or edit one (audited)."""
    if not is_steward_of(steward, community_id):
        raise NotAllowed()
    values = _resource_values(fields)
    if resource_id is None:
        resource = Resource(community_id=community_id, created_by_id=steward.id)
        db.session.add(resource)
        before = None
    else:
        resource = db.session.get(Resource, resource_id)
        if resource is None or resource.community_id != community_id:
            raise DomainError("not_found", _l("This resource does not exist."), status=404)
        before = snapshot(resource, *RESOURCE_FIELDS)
    for key, value in values.items():
        setattr(resource, key, value)
    db.session.flush()
    after = snapshot(resource, *RESOURCE_FIELDS)
    if before != after:
        audit(steward, "service.resource_save", resource, before=before, after=after)
    db.session.commit()
    return resource


# --- projects and posts --------------------------------------------------------------------------


def _project_values(fields: dict, claimed: int = 0) -> dict:
    if fields.get("kind") not in PROJECT_KINDS:
        raise DomainError("bad_kind", _l("Choose project or post."))
    capacity = fields.get("capacity")
    if not isinstance(capacity, int) or isinstance(capacity, bool) or not 1 <= capacity <= 500:
        raise DomainError("bad_capacity", _l("Capacity must be a whole number from 1 to 500."))
    if capacity < claimed:
        raise DomainError("bad_capacity", _l("%(n)d volunteers have claimed it already.", n=claimed))
    starts, ends = fields.get("starts_on"), fields.get("ends_on")
    if not isinstance(starts, date) or (ends is not None and (not isinstance(ends, date) or ends < starts)):
        raise DomainError("bad_period", _l("The period must end on or after its start."))
    return {
        "kind": fields["kind"],
        "title": _text(fields.get("title"), 80, "bad_title", _l("Enter a title (up to 80 characters)."), True),
        "description": _text(fields.get("description"), 500, "bad_description", _l("Up to 500 characters.")),
        "capacity": capacity,
        "starts_on": starts,
        "ends_on": ends,
        "active": bool(fields.get("active", True)),
    }


def save_project(steward, community_id: int, fields: dict, project_id: int | None = None) -> Project:
    if not is_steward_of(steward, community_id):
        raise NotAllowed()
    begin_write()
    if project_id is None:
        project, before = Project(community_id=community_id, created_by_id=steward.id, claimed=0), None
        db.session.add(project)
    else:
        project = db.session.get(Project, project_id, with_for_update=True, populate_existing=True)
        if project is None or project.community_id != community_id:
            raise DomainError("not_found", _l("This project does not exist."), status=404)
        before = snapshot(project, *PROJECT_FIELDS)
    for key, value in _project_values(fields, project.claimed or 0).items():
        setattr(project, key, value)
    db.session.flush()
    after = snapshot(project, *PROJECT_FIELDS)
    if before != after:
        audit(steward, "service.project_save", project, before=before, after=after)
    db.session.commit()
    return project


def _lock_project(project_id: int) -> Project:
    project = db.session.get(Project, project_id, with_for_update=True, populate_existing=True)
    if project is None:
        raise DomainError("not_found", _l("This project does not exist."), status=404)
    return project


def active_claim(project_id: int, volunteer_id: int) -> ProjectClaim | None:
    return db.session.scalar(
        select(ProjectClaim).where(
            ProjectClaim.project_id == project_id,
            ProjectClaim.volunteer_id == volunteer_id,
            ProjectClaim.released_at.is_(None),
        )
    )


def claim(volunteer, project_id: int) -> ProjectClaim:
    """认领: one of the project's places, while it runs; a volunteer of another community is refused."""
    begin_write()
    project = _lock_project(project_id)
    if not is_volunteer_of(volunteer, project.community_id):
        raise DomainError("not_volunteer", _l("Only volunteers of this community can claim it."), status=403)
    if not project.is_open_on(local_today()):
        raise DomainError("not_running", _l("This project is not running now."))
    row = db.session.scalar(
        select(ProjectClaim).where(ProjectClaim.project_id == project.id, ProjectClaim.volunteer_id == volunteer.id)
    )
    if row is not None and row.released_at is None:
        raise DomainError("already_claimed", _l("You have already claimed this."))
    if project.claimed >= project.capacity:
        raise DomainError("full", _l("Every place has been claimed."))
    if row is None:
        row = ProjectClaim(project_id=project.id, volunteer_id=volunteer.id)
        db.session.add(row)
    row.claimed_at, row.released_at = utcnow(), None
    project.claimed += 1
    db.session.commit()
    return row


def release_claim(actor, project_id: int, volunteer_id: int) -> ProjectClaim:
    """The volunteer gives a claim up, or a steward ends it."""
    begin_write()
    project = _lock_project(project_id)
    steward = is_steward_of(actor, project.community_id)
    if actor.id != volunteer_id and not steward:
        raise NotAllowed()
    row = active_claim(project.id, volunteer_id)
    if row is None:
        raise DomainError("not_claimed", _l("There is no claim to give up."))
    row.released_at = utcnow()
    project.claimed -= 1
    if actor.id != volunteer_id:
        audit(actor, "service.claim_release", project, after={"volunteer_id": volunteer_id})
    db.session.commit()
    return row
