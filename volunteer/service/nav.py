"""Menu links of the 1112 service pages, per role, with the number of services waiting for verification."""

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..accounts.models import Role
from ..core import permissions as perm
from ..extensions import db
from .access import resident_community_id, volunteer_community_ids
from .models import ServiceRecord


def desk_community_ids(user) -> set[int]:
    """Communities where the user is steward or admin by their own grant (organisers are not desk staff)."""
    return {r.community_id for r in user.roles if r.role in (Role.STEWARD, Role.ADMIN) and r.community_id}


def pending_count(user, community_ids) -> int:
    """Records waiting for this steward: their own services wait for another steward."""
    if not community_ids:
        return 0
    stmt = select(func.count(ServiceRecord.id)).where(
        ServiceRecord.community_id.in_(community_ids),
        ServiceRecord.status == "pending",
        ServiceRecord.volunteer_id != user.id,
    )
    return db.session.scalar(stmt)


def _links(user) -> list[tuple[str, object]]:
    wanted = []
    if volunteer_community_ids(user):
        wanted += [
            ("service.activities", _l("Activities")),
            ("service.orders", _l("Orders")),
            ("service.projects", _l("Projects")),
            ("service.checkin", _l("Check in")),
            ("service.trail", _l("My service trail")),
            ("service.report", _l("Report a service")),
        ]
    if resident_community_id(user) is not None:
        wanted += [
            ("service.needs", _l("My needs")),
            ("service.need_new", _l("Post a need")),
            ("service.resources", _l("Resources")),
        ]
    desk = desk_community_ids(user)
    if desk:
        n = pending_count(user, desk)
        wanted += [
            ("service.records", _l("Verify services (%(n)d)", n=n)),
            ("service.needs", _l("Needs")),
            ("service.orders", _l("Orders")),
            ("service.activities", _l("Activities")),
            ("service.tracker", _l("Tracker")),
        ]
    if perm.is_organiser(user):
        wanted.append(("service.tracker", _l("Tracker")))
    return wanted


def service_links(user) -> list[tuple[str, str]]:
    """(href, label) per page the user may use; a page twice (volunteer and steward) is listed once."""
    if not user or not user.is_authenticated:
        return []
    items, seen = [], set()
    for endpoint, label in _links(user):
        href = url_for(endpoint)
        if href in seen:
            continue
        seen.add(href)
        items.append((href, label))
    return items
