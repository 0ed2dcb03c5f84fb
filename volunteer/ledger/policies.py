"""A community's points policy (expiry rule, full score, star thresholds): saving it, audited."""

from flask_babel import lazy_gettext as _l

from ..core.audit import record, snapshot
from ..core.errors import DomainError
from ..extensions import db
from .models import EXPIRY_MODES, PointsPolicy

FIELDS = ("expiry_mode", "full_score_points", "star_thresholds")


def check(expiry_mode: str, full_score_points: int, thresholds: list[int]) -> None:
    if expiry_mode not in EXPIRY_MODES:
        raise DomainError("bad_expiry_mode", _l("Choose when points expire from the list."))
    if not isinstance(full_score_points, int) or not 1 <= full_score_points <= 100_000:
        raise DomainError("bad_full_score", _l("Enter a number between 1 and 100000."))
    if len(thresholds) != 4 or any(not isinstance(t, int) or not 1 <= t <= 100 for t in thresholds):
        raise DomainError("bad_thresholds", _l("Give four star thresholds between 1 and 100."))
    if any(b <= a for a, b in zip(thresholds, thresholds[1:], strict=False)):
        raise DomainError("bad_thresholds", _l("Each threshold must be higher than the one before."))


def save_policy(community_id: int, actor, *, expiry_mode: str, full_score_points: int, thresholds) -> PointsPolicy:
    """Create or change the community's policy; audited with before and after. No-op if unchanged."""
    thresholds = list(thresholds)
    check(expiry_mode, full_score_points, thresholds)
    policy = db.session.get(PointsPolicy, community_id)
    before = snapshot(policy, *FIELDS) if policy is not None else None
    if policy is None:
        policy = PointsPolicy(community_id=community_id)
        db.session.add(policy)
    policy.expiry_mode = expiry_mode
    policy.full_score_points = full_score_points
    policy.star_thresholds = thresholds
    after = {"expiry_mode": expiry_mode, "full_score_points": full_score_points, "star_thresholds": thresholds}
    if before != after:
        db.session.flush()
        record(actor, "points.policy", policy, community_id=community_id, before=before, after=after)
    db.session.commit()
    return policy
