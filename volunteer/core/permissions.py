"""Who may act where: every view and object lookup goes through these helpers.

A community admin's powers also belong to an organiser of the community's street (or of the
whole district). An object outside the caller's scope is reported as missing (404), so its
existence does not leak.
"""

from flask import abort, g
from flask_login import current_user
from sqlalchemy import select

from ..accounts.models import Role
from ..extensions import db, login_manager
from ..org.models import Community


def _grants(user):
    return user.roles if user and user.is_authenticated else []


def organiser_street_ids(user) -> set[int | None]:
    """Streets the user organises; None in the set means the whole district."""
    return {r.street_id for r in _grants(user) if r.role == Role.ORGANISER}


def is_organiser(user) -> bool:
    return bool(organiser_street_ids(user))


def is_district_organiser(user) -> bool:
    return None in organiser_street_ids(user)


def organised_community_ids(user) -> set[int]:
    streets = organiser_street_ids(user)
    if not streets:
        return set()
    cache = g.setdefault("_organised", {})
    if user.id not in cache:
        stmt = select(Community.id)
        if None not in streets:
            stmt = stmt.where(Community.street_id.in_(streets))
        cache[user.id] = set(db.session.scalars(stmt))
    return cache[user.id]


def community_ids(user, *roles: str) -> set[int]:
    """Communities where the user holds any of `roles` (admin includes organisers)."""
    ids = {r.community_id for r in _grants(user) if r.role in roles and r.community_id}
    if Role.ADMIN in roles:
        ids |= organised_community_ids(user)
    return ids


def has_role(user, community_id: int | None, *roles: str) -> bool:
    return community_id is not None and community_id in community_ids(user, *roles)


def unit_ids(user) -> set[int]:
    return {r.unit_id for r in _grants(user) if r.role == Role.EMPLOYER}


def require_login():
    """Send an anonymous visitor to the login page (and back here afterwards)."""
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())


def require_role(community_id: int | None, *roles: str) -> None:
    """Stop with 403 unless the current user holds one of `roles` in that community."""
    require_login()
    if not has_role(current_user, community_id, *roles):
        abort(403)


def require_any_role(*roles: str) -> set[int]:
    """Stop with 403 unless the user holds one of `roles` somewhere; return those communities."""
    require_login()
    ids = community_ids(current_user, *roles)
    if not ids:
        abort(403)
    return ids


def require_organiser() -> None:
    require_login()
    if not is_organiser(current_user):
        abort(403)


def get_in_community(model, object_id: int, *roles: str):
    """Load an object that belongs to a community; 404 if missing or outside the user's roles."""
    require_login()
    obj = db.session.get(model, object_id)
    if obj is None or not has_role(current_user, obj.community_id, *roles):
        abort(404)
    return obj
