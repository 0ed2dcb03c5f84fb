"""flask seed-demo: the demo district's shape, its logins, refusal to run twice, --reset, determinism."""

import os
import sqlite3
import subprocess
import sys
from collections import Counter
from contextlib import closing, suppress
from datetime import date

import pytest
from sqlalchemy import func, select

from volunteer.accounts.models import Role, RoleGrant, User
from volunteer.credit.models import Declaration, Indicator
from volunteer.demo import layout
from volunteer.demo.build import AlreadySeeded, build_demo
from volunteer.extensions import db
from volunteer.ledger.models import LedgerEntry, PointsAccount
from volunteer.org.models import Building, Community, Compound, MemberReport, Street, Unit

from .. import factories

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def seed(app, *args):
    return app.test_cli_runner().invoke(args=["seed-demo", *args])


@pytest.fixture
def seeded(app):
    result = seed(app)
    assert result.exit_code == 0, result.output
    return result


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def grants(role: str) -> list[RoleGrant]:
    return list(db.session.scalars(select(RoleGrant).where(RoleGrant.role == role)))


def snapshot() -> dict:
    """What a user of the demo would notice: people, places, reports; not the row ids."""
    return {
        "users": sorted(db.session.execute(select(User.name, User.phone, User.is_party_member)).all()),
        "buildings": sorted(db.session.execute(select(Compound.name, Building.name).join(Building.compound)).all()),
        "reports": sorted(
            db.session.execute(
                select(User.phone, Community.name, Unit.name)
                .select_from(MemberReport)
                .join(MemberReport.user)
                .join(MemberReport.community)
                .join(MemberReport.unit)
            ).all()
        ),
        "declarations": sorted(
            db.session.execute(
                select(
                    User.phone, Indicator.name, Declaration.state, Declaration.points_awarded, Declaration.approved_at
                )
                .select_from(Declaration)
                .join(Declaration.user)
                .join(Declaration.indicator)
            ).all()
        ),
        "entries": sorted(
            db.session.execute(
                select(User.phone, LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.memo, LedgerEntry.at)
                .select_from(LedgerEntry)
                .join(LedgerEntry.account)
                .join(PointsAccount.user)
            ).all()
        ),
    }


def community_grants(community_id: int) -> list[RoleGrant]:
    return list(db.session.scalars(select(RoleGrant).where(RoleGrant.community_id == community_id)))


def test_a_second_run_refuses_and_changes_nothing(app, seeded):
    before = snapshot()
    result = seed(app)
    assert result.exit_code != 0
    assert "--reset" in result.output
    assert snapshot() == before


def test_refuses_a_database_that_already_has_users(app):
    factories.user(name="先来的人")
    result = seed(app)
    assert result.exit_code != 0
    assert count(Street) == 0 and count(User) == 1


def test_reset_rebuilds_the_same_district(app, seeded):
    before = snapshot()
    result = seed(app, "--reset")
    assert result.exit_code == 0, result.output
    assert snapshot() == before
    assert count(Street) == 2 and len(grants(Role.RESIDENT)) == 300 and count(MemberReport) == 60
    assert len(before["declarations"]) >= 400 and len(before["entries"]) >= 600


def test_build_demo_is_callable_directly_and_guards_itself(app):
    result = build_demo()
    assert result.counts["residents"] == 300 and result.counts["party members"] == 60
    assert len({login.phone for login in result.logins}) == len(result.logins)
    with pytest.raises(AlreadySeeded):
        build_demo()
    assert count(Street) == 2


def test_another_seed_gives_other_people_in_the_same_places(app):
    build_demo()
    first = snapshot()
    build_demo(rng_seed=7, reset=True)
    second = snapshot()
    assert first["buildings"] == second["buildings"]
    assert first["users"] != second["users"]


def remove_photo_files(database) -> None:
    """The command stores evidence photos in the instance folder (there is no setting for it in the
    environment): remove the ones this database holds, so test runs leave nothing behind."""
    if not database.exists():
        return
    with closing(sqlite3.connect(database)) as conn:
        try:
            names = [row[0] for row in conn.execute("SELECT filename FROM credit_declaration_photos")]
        except sqlite3.OperationalError:
            return
    folder = os.path.join(ROOT, "instance", "uploads", "declarations")
    for name in names:
        with suppress(OSError):
            os.remove(os.path.join(folder, os.path.basename(name)))


def test_the_readme_command_migrates_a_fresh_sqlite_file_and_builds(tmp_path):
    env = dict(
        os.environ,
        DATABASE_URL="sqlite:///" + str(tmp_path / "fresh.sqlite"),
        ARGON2_TIME_COST="1",
        ARGON2_MEMORY_COST="1024",
    )
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "seed-demo"]
    try:
        first = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    finally:
        remove_photo_files(tmp_path / "fresh.sqlite")
    assert first.returncode == 0, first.stderr
    assert "13900000001" in first.stdout and layout.PASSWORD in first.stdout
    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 1
    assert "--reset" in again.stderr


# --- credit points: indicators, declarations in every state, their points ------------------------

CREDIT_STATES = {"submitted", "returned", "checked", "assessed", "approved", "rejected", "appealed"}


def user_by_phone(code: str) -> User:
    return db.session.scalar(select(User).where(User.phone == layout.fixed_phone(code)))


def test_every_community_has_indicators_and_declarations_in_every_state(app):
    from volunteer.credit.access import is_admin_of, serves
    from volunteer.credit.models import Declaration, DeclarationPhoto, Indicator
    from volunteer.credit.photos import path_of

    result = build_demo()
    for community in db.session.scalars(select(Community)):
        indicators = list(db.session.scalars(select(Indicator).where(Indicator.community_id == community.id)))
        assert 8 <= len(indicators) <= 12, community.name
        assert sum(not i.active for i in indicators) == 1
        assert all(i.description and i.points > 0 for i in indicators)
        assert any(i.evidence_required for i in indicators) and any(i.max_awards for i in indicators)
        states = set(db.session.scalars(select(Declaration.state).where(Declaration.community_id == community.id)))
        assert states == CREDIT_STATES, community.name
    declarations = list(db.session.scalars(select(Declaration)))
    assert len(declarations) == result.counts["declarations"] >= 400
    states = Counter(d.state for d in declarations)
    assert states["approved"] > len(declarations) / 2  # the majority
    assert any(d.appealed and d.state == "approved" for d in declarations)  # approved after an appeal
    assert any(d.appealed and d.state == "rejected" for d in declarations)  # rejected, final
    for d in declarations:
        events = d.events
        assert events[0].from_state is None and events[0].to_state == "submitted"
        assert events[0].actor_id == d.user_id and events[0].at == d.created_at
        for before, after in zip(events, events[1:], strict=False):
            assert after.from_state == before.to_state and after.at > before.at
        assert events[-1].to_state == d.state
        assert d.appealed == any(e.to_state == "appealed" for e in events)
        assert (d.state == "approved") == (d.points_awarded is not None) == (d.approved_at is not None)
        for e in events[1:]:
            if e.to_state in ("returned", "checked"):
                assert serves(e.actor, Role.COLLECTOR, d.community_id, d.compound_id)
            elif e.to_state == "assessed":
                assert serves(e.actor, Role.COUNCIL, d.community_id, d.compound_id) and d.recommendation
            elif e.to_state in ("approved", "rejected"):
                assert is_admin_of(e.actor, d.community_id) and (e.to_state == "approved" or e.note)
            else:  # resubmitted or appealed by the resident
                assert e.actor_id == d.user_id
            if e.to_state == "returned":
                assert e.note  # the collector says what is missing
        if d.indicator.evidence_required:
            assert d.photos
    photos = list(db.session.scalars(select(DeclarationPhoto)))
    assert photos and all(os.path.getsize(path_of(p.filename)) == p.size for p in photos)


def test_approvals_are_earn_credit_entries_one_to_one_and_the_ledger_verifies(app):
    from volunteer.core.audit import AuditEntry
    from volunteer.credit.models import Declaration
    from volunteer.ledger.expiry import expire_all
    from volunteer.ledger.models import LedgerEntry, PointsPolicy
    from volunteer.ledger.verify import mismatches

    build_demo()
    approved = {d.id: d for d in db.session.scalars(select(Declaration).where(Declaration.state == "approved"))}
    credits = list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "earn_credit")))
    assert len(credits) == len(approved)
    assert {(e.source_type, e.source_id) for e in credits} == {("Declaration", i) for i in approved}
    for entry in credits:
        declaration = approved[entry.source_id]
        assert entry.idempotency_key == f"declaration:{declaration.id}:approve"
        assert entry.amount == declaration.points_awarded
        assert entry.at == declaration.approved_at
        assert entry.account.user_id == declaration.user_id
        assert entry.account.community_id == declaration.community_id
    # A year of history, nothing dated after today.
    times = [e.at for e in credits]
    assert (max(times) - min(times)).days >= 300
    assert max(times).date() < date.today()

    for community in db.session.scalars(select(Community)):  # every community's audit log has a history
        mine = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.community_id == community.id)))
        assert {"report.create", "role.grant", "credit_declaration.approve", "points.adjust"} <= mine, community.name
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.actor_id.is_(None))) == 0
    actions = Counter(db.session.scalars(select(AuditEntry.action)))
    rejected = db.session.scalar(
        select(func.count()).select_from(Declaration).where(Declaration.state.in_(("rejected", "appealed")))
    )
    assert actions["credit_declaration.approve"] == len(approved)
    assert actions["credit_declaration.reject"] >= rejected
    assert actions["credit_declaration.appeal"] >= 4
    assert actions["points.adjust"] >= 4 and actions["points.reverse"] == 1
    assert actions["credit_indicator.create"] >= 32 and actions["credit_indicator.deactivate"] == 4

    adjustments = list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "adjust")))
    assert all(e.memo and e.actor_id for e in adjustments)
    assert any(e.amount < 0 for e in adjustments)
    reversal = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "reversal"))
    assert reversal.reverses.kind == "adjust" and reversal.amount == -reversal.reverses.amount and reversal.memo

    assert db.session.scalar(select(func.count(PointsPolicy.community_id))) == 4
    kinds = set(db.session.scalars(select(LedgerEntry.kind).distinct()))
    assert {"adjust", "expire", "earn_credit", "reversal"} <= kinds
    assert mismatches() == []
    assert expire_all(date.today()) == (0, 0)  # the demo already wrote the expiries that were due
