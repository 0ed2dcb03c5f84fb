"""A community's points rule for verified services (per hour and per service): saving it, audited."""

from flask_babel import lazy_gettext as _l

from ..accounts.models import Role
from ..core import permissions as perm
from ..core.audit import record as audit
from ..core.audit import snapshot
from ..core.errors import DomainError, NotAllowed
from ..extensions import db
from .models import ServicePolicy

FIELDS = ("points_per_hour", "points_per_service")
MAX_POINTS = 1000


def _points(value, code: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_POINTS:
        raise DomainError(code, _l("Enter a whole number from 0 to 1000."))
    return value


def save_policy(admin, community_id: int, points_per_hour: int, points_per_service: int) -> ServicePolicy:
    """Create or change the rule; only the next verifications use it (earned points stay as they are)."""
    if not perm.has_role(admin, community_id, Role.ADMIN):
        raise NotAllowed()
    per_hour = _points(points_per_hour, "bad_per_hour")
    per_service = _points(points_per_service, "bad_per_service")
    if per_hour + per_service == 0:
        raise DomainError("no_points", _l("A verified service must earn some points: both cannot be 0."))
    policy = db.session.get(ServicePolicy, community_id)
    before = snapshot(policy, *FIELDS) if policy is not None else None
    if policy is None:
        policy = ServicePolicy(community_id=community_id)
        db.session.add(policy)
    policy.points_per_hour, policy.points_per_service = per_hour, per_service
    after = {"points_per_hour": per_hour, "points_per_service": per_service}
    if before != after:
        db.session.flush()
        audit(admin, "service.policy", policy, community_id=community_id, before=before, after=after)
    db.session.commit()
    return policy
