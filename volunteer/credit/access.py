"""Who may see and move a declaration: its resident, the compound's collectors and council, the
community's admins (and organisers covering it). Anyone else gets a 404 for it."""

from sqlalchemy import and_, false, or_

from ..accounts.models import Role
from ..core import permissions as perm
from .models import Declaration


def serves(user, role: str, community_id: int, compound_id: int) -> bool:
    """A collector or council grant for this compound, or for the whole community (compound NULL)."""
    if not user or not user.is_authenticated:
        return False
    return any(
        r.role == role and r.community_id == community_id and r.compound_id in (None, compound_id) for r in user.roles
    )


def is_admin_of(user, community_id: int) -> bool:
    return perm.has_role(user, community_id, Role.ADMIN)


def can_view(user, declaration: Declaration) -> bool:
    if not user or not user.is_authenticated:
        return False
    return (
        declaration.user_id == user.id
        or serves(user, Role.COLLECTOR, declaration.community_id, declaration.compound_id)
        or serves(user, Role.COUNCIL, declaration.community_id, declaration.compound_id)
        or is_admin_of(user, declaration.community_id)
    )


def served_filter(user, role: str):
    """A WHERE clause: declarations in the compounds (or whole communities) the user serves as `role`."""
    clauses = []
    for r in user.roles:
        if r.role != role or r.community_id is None:
            continue
        if r.compound_id is None:
            clauses.append(Declaration.community_id == r.community_id)
        else:
            clauses.append(and_(Declaration.community_id == r.community_id, Declaration.compound_id == r.compound_id))
    return or_(*clauses) if clauses else false()


def resident_community(user):
    """The community a resident declares in: their building's, if they are a resident there."""
    building = getattr(user, "building", None)
    if building is None:
        return None
    community_id = building.compound.community_id
    if not perm.has_role(user, community_id, Role.RESIDENT):
        return None
    return building.compound.community
