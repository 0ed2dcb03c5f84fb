"""The demo's points: each community's policy and a history written through the ledger service."""

from datetime import date, datetime, time, timedelta

from ..core.models import local_zone
from ..extensions import db
from ..ledger import services
from ..ledger.models import PointsPolicy

POLICIES = [  # (expiry mode, points for a full score, star thresholds)
    ("end_of_next_year", 200, [15, 30, 55, 85]),
    ("end_of_next_year", 150, [15, 35, 60, 85]),
    ("end_of_next_year", 150, [15, 30, 50, 75]),
    ("never", 200, [10, 30, 50, 75]),
]


def _moment(day: date, rng) -> datetime:
    return datetime.combine(day, time(9), tzinfo=local_zone()) + timedelta(minutes=rng.randrange(9 * 60))


def build_points(communities, admins, residents, rng, today: date, always=()) -> None:
    """Policies, then opening balances carried over from the paper ledgers, then their expiry.

    About half the residents (and everyone in `always`) had points on paper before."""
    for community, (mode, full, thresholds) in zip(communities, POLICIES, strict=True):
        db.session.add(
            PointsPolicy(
                community_id=community.id, expiry_mode=mode, full_score_points=full, star_thresholds=thresholds
            )
        )
    db.session.flush()
    last_year, two_years_ago = today.year - 1, today.year - 2
    for user in residents:
        if user not in always and rng.random() > 0.45:
            continue
        community = user.building.compound.community
        admin = admins[community.id]
        account = services.account_for(user.id, community.id)
        older = rng.choice([0, 0, 5, 10, 20])
        if older:  # points from two years ago: expired on 1 January this year (where the rule says so)
            _carry_over(account, older, two_years_ago, admin, rng)
            if mode_of(communities, community) == "end_of_next_year":
                services.expire(
                    account,
                    older,
                    key=f"expire:{account.id}:{two_years_ago}:0",
                    memo=f"points earned in {two_years_ago}",
                    at=datetime(today.year, 1, 1, tzinfo=local_zone()),
                )
        _carry_over(account, rng.randrange(10, 70, 5), last_year, admin, rng)


def mode_of(communities, community) -> str:
    return POLICIES[communities.index(community)][0]


def _carry_over(account, points: int, year: int, admin, rng) -> None:
    services.post(
        account,
        "adjust",
        key=f"demo:opening:{account.id}:{year}",
        amount=points,
        actor=admin,
        memo=f"{year}年纸质台账积分转入",
        at=_moment(date(year, 12, 20), rng),
    )
