"""Who takes part in 1112 service where: volunteers, stewards and residents of a community.

A volunteer of a community is someone holding the volunteer role there, or a party member who
reported to it (双报到) this year. Stewards and admins (and organisers covering it) run it.
"""

from sqlalchemy import select

from ..accounts.models import Role
from ..core import permissions as perm
from ..core.models import local_today
from ..extensions import db
from ..org.models import MemberReport


def assigned_community_id(user, year: int | None = None) -> int | None:
    """The community a party member reported to for `year` (their 1112 assignment)."""
    if not user or not user.is_authenticated:
        return None
    year = year or local_today().year
    return db.session.scalar(
        select(MemberReport.community_id).where(MemberReport.user_id == user.id, MemberReport.year == year)
    )


def volunteer_community_ids(user) -> set[int]:
    if not user or not user.is_authenticated:
        return set()
    ids = {r.community_id for r in user.roles if r.role == Role.VOLUNTEER and r.community_id}
    assigned = assigned_community_id(user)
    if assigned:
        ids.add(assigned)
    return ids


def is_volunteer_of(user, community_id: int | None) -> bool:
    return community_id is not None and community_id in volunteer_community_ids(user)


def steward_community_ids(user) -> set[int]:
    return perm.community_ids(user, Role.STEWARD, Role.ADMIN)


def is_steward_of(user, community_id: int | None) -> bool:
    return community_id is not None and community_id in steward_community_ids(user)


def resident_community_id(user) -> int | None:
    """The community whose needs list the user posts to: their building's, if a resident there."""
    building = getattr(user, "building", None) if user and user.is_authenticated else None
    if building is None:
        return None
    community_id = building.compound.community_id
    return community_id if perm.has_role(user, community_id, Role.RESIDENT) else None


def member_community_ids(user) -> set[int]:
    """Communities whose lists (needs, resources, projects, activities) the user may read."""
    ids = volunteer_community_ids(user) | steward_community_ids(user)
    if (home := resident_community_id(user)) is not None:
        ids.add(home)
    return ids
