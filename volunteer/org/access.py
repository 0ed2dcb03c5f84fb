"""Who may see and change organisation objects, on top of core.permissions.

Community admins manage their own communities; organisers manage the communities of their
streets (a district organiser: every street). Units are district-wide. Anything outside the
caller's reach is a 404; a page the caller's roles do not open at all is a 403.
"""

from flask import abort
from flask_login import current_user
from sqlalchemy import exists, or_, select

from ..accounts.models import Role
from ..core import permissions as perm
from ..extensions import db
from .models import Agreement, MemberReport, Street, Unit


def admin_scope() -> set[int]:
    """Communities the user administers (or organises); 403 unless an admin or organiser."""
    perm.require_login()
    ids = perm.community_ids(current_user, Role.ADMIN)
    if not ids and not perm.is_organiser(current_user):
        abort(403)
    return ids


def street_scope() -> set[int] | None:
    """Streets the organiser covers; None for a district organiser. 403 for anyone else."""
    perm.require_organiser()
    streets = perm.organiser_street_ids(current_user)
    return None if None in streets else streets


def get_street(street_id: int) -> Street:
    streets = street_scope()
    street = db.session.get(Street, street_id)
    if street is None or (streets is not None and street.id not in streets):
        abort(404)
    return street


def get_unit(unit_id: int) -> Unit:
    admin_scope()
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        abort(404)
    return unit


def can_edit_unit(unit: Unit, community_ids: set[int]) -> bool:
    """Organisers edit any unit; an admin one that signed with or employs members of their community."""
    if perm.is_organiser(current_user):
        return True
    if not community_ids:
        return False
    signed = exists().where(Agreement.unit_id == unit.id, Agreement.community_id.in_(community_ids))
    reported = exists().where(MemberReport.unit_id == unit.id, MemberReport.community_id.in_(community_ids))
    return bool(db.session.scalar(select(or_(signed, reported))))


def get_managed(model, object_id: int):
    """An object of a community the user administers: 403 for non-admins, 404 outside their reach."""
    admin_scope()
    return perm.get_in_community(model, object_id, Role.ADMIN)
