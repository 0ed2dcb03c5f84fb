"""Every refused transition changes nothing; approval is exactly once, even racing; limits per period."""

import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from volunteer.accounts.models import Role, User
from volunteer.core.errors import DomainError
from volunteer.credit import services
from volunteer.credit.models import Declaration
from volunteer.extensions import db
from volunteer.ledger.services import find_account

from .. import crawl, factories
from . import factories as cf
from .conftest import credit_entries


@contextmanager
def refused(code: str):
    with pytest.raises(DomainError) as err:
        yield err
    assert err.value.code == code, err.value.code
    db.session.rollback()


def review(d, actor, decision="check", note="ok"):
    return services.review(d.id, actor, decision, note)


def assess(d, actor):
    return services.assess(d.id, actor, "approve", "理由")


def decide(d, actor, decision="approve"):
    return services.decide(d.id, actor, decision, "理由")


def appeal(d, actor):
    return services.appeal(d.id, actor, "申诉理由")


def resubmit(d, actor):
    return services.resubmit(d.id, actor, "新说明")


@pytest.fixture
def world(district):
    d = district
    d.compound_a2 = factories.compound(d.a, name="第二小区")
    d.collector_a2 = factories.staff(Role.COLLECTOR, d.a, d.compound_a2, name="别处信息员")
    d.council_a2 = factories.staff(Role.COUNCIL, d.a, d.compound_a2, name="别处议事")
    d.collector_b = factories.staff(Role.COLLECTOR, d.b, name="和平信息员")  # all of b
    d.indicator = cf.indicator(d.a, points=12)
    return d


# (state, step, actor attribute, error code, appealed)
REFUSED = [
    # wrong role
    ("submitted", review, "resident_a", "forbidden", False),
    ("submitted", review, "council_a", "forbidden", False),
    ("submitted", review, "admin_a", "forbidden", False),
    ("checked", assess, "collector_a", "forbidden", False),
    ("checked", assess, "admin_a", "forbidden", False),
    ("assessed", decide, "council_a", "forbidden", False),
    ("assessed", decide, "resident_a", "forbidden", False),
    ("rejected", appeal, "admin_a", "forbidden", False),
    ("returned", resubmit, "collector_a", "forbidden", False),
    # wrong compound or community
    ("submitted", review, "collector_a2", "forbidden", False),
    ("submitted", review, "collector_b", "forbidden", False),
    ("checked", assess, "council_a2", "forbidden", False),
    ("assessed", decide, "admin_b", "forbidden", False),
    ("rejected", appeal, "resident_b", "forbidden", False),
    # wrong state
    ("checked", review, "collector_a", "bad_state", False),
    ("returned", review, "collector_a", "bad_state", False),
    ("submitted", assess, "council_a", "bad_state", False),
    ("assessed", assess, "council_a", "bad_state", False),
    ("checked", decide, "admin_a", "bad_state", False),
    ("submitted", decide, "admin_a", "bad_state", False),
    ("approved", decide, "admin_a", "already_approved", False),
    ("rejected", decide, "admin_a", "already_rejected", False),
    ("rejected", decide, "admin_a", "final", True),
    ("approved", appeal, "resident_a", "bad_state", False),
    ("assessed", appeal, "resident_a", "bad_state", False),
    ("rejected", appeal, "resident_a", "appealed_once", True),
    ("submitted", resubmit, "resident_a", "bad_state", False),
]


@pytest.mark.parametrize("state,step,actor,code,appealed", REFUSED, ids=lambda v: getattr(v, "__name__", str(v)))
def test_refused_transition_changes_nothing(world, state, step, actor, code, appealed):
    declaration = cf.declaration(world.resident_a, world.indicator, state, appealed=appealed)
    before = crawl.snapshot()
    with pytest.raises(DomainError) as err:
        step(declaration, getattr(world, actor))
    db.session.rollback()
    assert err.value.code == code
    assert str(err.value.message)
    assert crawl.changes(before, crawl.snapshot()) == []


def test_refused_over_http_shows_the_message(world, browse):
    declaration = cf.declaration(world.resident_a, world.indicator, "checked")
    client = browse(world.collector_a)
    before = crawl.snapshot()
    response = client.post(
        f"/credit/declarations/{declaration.id}/review", data={"decision": "check"}, follow_redirects=True
    )
    assert "This declaration is not waiting for a collector&#39;s check." in response.get_data(as_text=True)
    assert crawl.changes(before, crawl.snapshot()) == []
    # A collector of another compound of the same community does not even see it.
    other = browse(world.collector_a2)
    assert other.post(f"/credit/declarations/{declaration.id}/review", data={"decision": "check"}).status_code == 404


def test_whole_community_collector_and_council_may_act(world):
    everywhere = factories.staff(Role.COLLECTOR, world.a, name="全社区信息员")
    council = factories.staff(Role.COUNCIL, world.a, name="全社区议事")
    declaration = cf.declaration(world.resident_a, world.indicator)
    review(declaration, everywhere)
    assess(declaration, council)
    assert db.session.get(Declaration, declaration.id).state == "assessed"


def test_return_needs_a_note_and_rejection_a_reason(world):
    declaration = cf.declaration(world.resident_a, world.indicator)
    with refused("bad_note"):
        services.review(declaration.id, world.collector_a, "return", "  ")
    declaration = cf.declaration(world.resident_a, world.indicator, "assessed")
    with refused("bad_reason"):
        services.decide(declaration.id, world.admin_a, "reject", "")
    with refused("bad_reason"):
        services.assess(cf.declaration(world.resident_a, world.indicator, "checked").id, world.council_a, "approve", "")


def test_approval_twice_gives_one_entry(world):
    declaration = cf.declaration(world.resident_a, world.indicator, "assessed")
    decide(declaration, world.admin_a)
    with refused("already_approved"):
        decide(declaration, world.admin_a)
    db.session.rollback()
    assert len(credit_entries(declaration.id)) == 1
    assert find_account(world.resident_a.id, world.a.id).balance == 12
    [entry] = credit_entries(declaration.id)
    assert (entry.idempotency_key, entry.source_type) == (f"declaration:{declaration.id}:approve", "Declaration")


def test_indicator_change_keeps_awarded_points(world):
    declaration = cf.declaration(world.resident_a, world.indicator, "assessed")
    decide(declaration, world.admin_a)
    fields = {k: getattr(world.indicator, k) for k in services.INDICATOR_FIELDS}
    services.update_indicator(world.indicator, world.admin_a, **{**fields, "points": 99})
    assert db.session.get(Declaration, declaration.id).points_awarded == 12
    assert find_account(world.resident_a.id, world.a.id).balance == 12
    later = cf.declaration(world.resident_a, world.indicator, "assessed")
    decide(later, world.admin_a)
    assert db.session.get(Declaration, later.id).points_awarded == 99


def test_max_awards_per_period(world):
    indicator = cf.indicator(world.a, points=5, max_awards=1, period="month")
    last_year = datetime.now(UTC) - timedelta(days=400)
    cf.declaration(world.resident_a, indicator, "approved", approved_at=last_year)  # another period
    first = cf.declaration(world.resident_a, indicator, "assessed")
    second = cf.declaration(world.resident_a, indicator, "assessed")
    decide(first, world.admin_a)
    with pytest.raises(DomainError) as err:
        decide(second, world.admin_a)
    db.session.rollback()
    assert err.value.code == "limit_reached"
    with force_locale("en"):
        assert "at most 1 time" in str(err.value.message)
    assert db.session.get(Declaration, second.id).state == "assessed"
    assert credit_entries(second.id) == []
    # Someone else is not limited by it; and the admin can still reject the second one.
    decide(cf.declaration(world.member_a, indicator, "assessed"), world.admin_a)
    decide(second, world.admin_a, "reject")
    assert db.session.get(Declaration, second.id).state == "rejected"


def test_period_bounds_follow_local_time(app):
    # 2026-03-31 17:00 UTC is 2026-04-01 01:00 in Shanghai: the second quarter there.
    start, end = services.period_bounds("quarter", datetime(2026, 3, 31, 17, 0, tzinfo=UTC))
    assert (start, end) == (datetime(2026, 3, 31, 16, 0, tzinfo=UTC), datetime(2026, 6, 30, 16, 0, tzinfo=UTC))
    start, end = services.period_bounds("month", datetime(2026, 12, 15, tzinfo=UTC))
    assert end == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    assert services.period_bounds("none", datetime.now(UTC)) == (None, None)


def test_declare_refuses_inactive_or_foreign_indicator_and_non_residents(world):
    inactive = cf.indicator(world.a, active=False)
    foreign = cf.indicator(world.b)
    for indicator in (inactive, foreign):
        with refused("bad_indicator"):
            services.declare(world.resident_a, indicator.id, "说明")
    with refused("forbidden"):
        services.declare(world.admin_a, world.indicator.id, "说明")
    assert db.session.scalars(select(Declaration)).all() == []


def test_two_admins_approving_at_once_give_one_entry(app, world):
    """Real threads, each with its own app context and connection (PostgreSQL and SQLite alike)."""
    second_admin = factories.staff(Role.ADMIN, world.a, name="第二主任")
    declaration = cf.declaration(world.resident_a, world.indicator, "assessed")
    admins = [world.admin_a.id, second_admin.id] * 3
    barrier = threading.Barrier(len(admins))
    results: list[str] = []

    def approve(admin_id):
        with app.app_context():
            try:
                admin = db.session.get(User, admin_id)
                barrier.wait()
                services.decide(declaration.id, admin, "approve", "")
                results.append("ok")
            except DomainError as err:
                db.session.rollback()
                results.append(err.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=approve, args=(a,)) for a in admins]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    db.session.commit()
    assert sorted(results) == ["already_approved"] * 5 + ["ok"]
    assert len(credit_entries(declaration.id)) == 1
    assert find_account(world.resident_a.id, world.a.id).balance == world.indicator.points
