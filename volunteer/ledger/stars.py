"""Star ratings (积分管理·星级评定): a yearly 100-point score and 1-5 stars from points earned."""

from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased

from ..core.models import local_year_bounds
from ..extensions import db
from .expiry import policy_for
from .models import EARN_KINDS, LedgerEntry, PointsAccount, PointsPolicy


@dataclass
class Rating:
    user_id: int
    earned: int
    score: int
    stars: int


def _year_bounds(year: int):
    return local_year_bounds(year)


def earned_in_year(community_id: int, year: int, user_id: int | None = None) -> dict[int, int]:
    """Points earned per user in the year: earnings dated in it, less reversals of those earnings."""
    start, end = _year_bounds(year)
    original = aliased(LedgerEntry)
    earning = or_(
        LedgerEntry.kind.in_(EARN_KINDS),
        and_(LedgerEntry.kind == "reversal", original.kind.in_(EARN_KINDS), original.at >= start, original.at < end),
    )
    stmt = (
        select(PointsAccount.user_id, func.sum(LedgerEntry.amount))
        .join(LedgerEntry, LedgerEntry.account_id == PointsAccount.id)
        .outerjoin(original, original.id == LedgerEntry.reverses_id)
        .where(PointsAccount.community_id == community_id, earning)
        .where(or_(LedgerEntry.kind == "reversal", and_(LedgerEntry.at >= start, LedgerEntry.at < end)))
        .group_by(PointsAccount.user_id)
    )
    if user_id is not None:
        stmt = stmt.where(PointsAccount.user_id == user_id)
    return {uid: int(total or 0) for uid, total in db.session.execute(stmt)}


def rate(earned: int, policy: PointsPolicy) -> tuple[int, int]:
    """(score out of 100, stars 1-5) for points earned in a year under the community's policy."""
    score = min(100, max(0, round(earned * 100 / policy.full_score_points)))
    stars = 1 + sum(1 for threshold in sorted(policy.star_thresholds)[:4] if score >= threshold)
    return score, stars


def rating(user_id: int, community_id: int, year: int) -> Rating:
    earned = earned_in_year(community_id, year, user_id).get(user_id, 0)
    score, stars = rate(earned, policy_for(community_id))
    return Rating(user_id, earned, score, stars)


def ranking(community_id: int, year: int) -> list[Rating]:
    """Everyone with points earned in the community that year, best first."""
    policy = policy_for(community_id)
    rows = sorted(earned_in_year(community_id, year).items(), key=lambda item: (-item[1], item[0]))
    return [Rating(uid, earned, *rate(earned, policy)) for uid, earned in rows if earned > 0]
