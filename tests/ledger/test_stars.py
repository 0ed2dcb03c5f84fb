"""Star ratings: a yearly score out of 100 and 1-5 stars from the points earned that year."""

from datetime import UTC, datetime

import pytest

from volunteer.core.database import begin_write
from volunteer.extensions import db
from volunteer.ledger import services, stars
from volunteer.ledger.models import PointsPolicy

from .. import factories

DEFAULT = PointsPolicy(full_score_points=200, star_thresholds=[20, 40, 60, 80])


@pytest.mark.parametrize(
    ("earned", "expected"),
    [
        (0, (0, 1)),
        (-30, (0, 1)),  # more reversed than earned: never below zero
        (38, (19, 1)),
        (40, (20, 2)),
        (79, (40, 3)),  # 39.5 rounds to 40
        (80, (40, 3)),
        (119, (60, 4)),
        (120, (60, 4)),
        (158, (79, 4)),
        (160, (80, 5)),
        (200, (100, 5)),
        (1000, (100, 5)),  # capped at the full score
    ],
)
def test_rate_at_the_boundaries(earned, expected):
    assert stars.rate(earned, DEFAULT) == expected


def test_rate_follows_the_community_thresholds_in_any_order():
    policy = PointsPolicy(full_score_points=50, star_thresholds=[90, 10, 50, 30])
    assert stars.rate(5, policy) == (10, 2)
    assert stars.rate(24, policy) == (48, 3)
    assert stars.rate(25, policy) == (50, 4)
    assert stars.rate(45, policy) == (90, 5)


def on(year: int) -> datetime:
    return datetime(year, 6, 1, tzinfo=UTC)


def earn(user, community, points, year, key):
    begin_write()
    account = services.account_for(user.id, community.id)
    posting = services.earn(account, points, kind="earn_credit", key=key, at=on(year))
    db.session.commit()
    return posting.entry


def test_ranking_is_best_first_and_leaves_out_those_without_points(district):
    third = factories.resident(district.building_a)
    earn(district.resident_a, district.a, 50, 2025, "a")
    earn(district.member_a, district.a, 120, 2025, "m")
    earn(third, district.a, 50, 2025, "t")
    earn(district.collector_a, district.a, 300, 2024, "last-year")
    ranking = stars.ranking(district.a.id, 2025)
    assert [(r.user_id, r.earned, r.score, r.stars) for r in ranking] == [
        (district.member_a.id, 120, 60, 4),
        (district.resident_a.id, 50, 25, 2),  # a tie: the lower user id first
        (third.id, 50, 25, 2),
    ]


def test_a_reversed_earning_no_longer_counts_for_its_year(district):
    mistaken = earn(district.resident_a, district.a, 60, 2025, "wrong")
    earn(district.resident_a, district.a, 40, 2025, "right")
    earn(district.resident_a, district.a, 30, 2026, "next-year")
    services.reverse_entry(mistaken, district.admin_a, "recorded twice")  # dated now, counted in 2025
    assert stars.rating(district.resident_a.id, district.a.id, 2025).earned == 40
    assert stars.rating(district.resident_a.id, district.a.id, 2026).earned == 30


def test_spending_does_not_lower_the_points_earned(district):
    earn(district.resident_a, district.a, 80, 2025, "e")
    begin_write()
    services.spend(services.account_for(district.resident_a.id, district.a.id), 50, key="s", from_hold=False)
    db.session.commit()
    assert stars.rating(district.resident_a.id, district.a.id, 2025).earned == 80


def test_points_from_another_community_do_not_count(district):
    earn(district.resident_a, district.a, 40, 2025, "here")
    earn(district.resident_a, district.b, 200, 2025, "elsewhere")
    earn(district.resident_b, district.b, 100, 2025, "other-member")
    rating = stars.rating(district.resident_a.id, district.a.id, 2025)
    assert (rating.earned, rating.score, rating.stars) == (40, 20, 2)
    assert [r.user_id for r in stars.ranking(district.a.id, 2025)] == [district.resident_a.id]


def test_rating_uses_the_community_policy(district):
    db.session.add(PointsPolicy(community_id=district.a.id, full_score_points=100, star_thresholds=[10, 30, 50, 70]))
    db.session.commit()
    earn(district.resident_a, district.a, 50, 2025, "e")
    rating = stars.rating(district.resident_a.id, district.a.id, 2025)
    assert (rating.earned, rating.score, rating.stars) == (50, 50, 4)
    nobody = stars.rating(district.resident_b.id, district.a.id, 2025)
    assert (nobody.earned, nobody.score, nobody.stars) == (0, 0, 1)
