"""flask seed-demo: the demo district's shape, its logins, refusal to run twice, --reset, determinism."""

import os
import re
import sqlite3
import subprocess
import sys
from collections import Counter
from contextlib import closing, suppress
from datetime import date

import pytest
from sqlalchemy import func, select

from volunteer.accounts.models import Role, RoleGrant, User
from volunteer.core import phone as phones
from volunteer.credit.models import Declaration, Indicator
from volunteer.demo import layout
from volunteer.demo.build import AlreadySeeded, build_demo
from volunteer.extensions import db
from volunteer.ledger.models import LedgerEntry, PointsAccount
from volunteer.org.models import Agreement, Building, Community, Compound, MemberReport, Street, Unit

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


def test_builds_two_streets_four_communities_and_their_compounds(seeded):
    assert count(Street) == 2
    assert {s.district for s in db.session.scalars(select(Street))} == {"成华区"}
    communities = list(db.session.scalars(select(Community)))
    assert len(communities) == 4
    assert Counter(c.street.name for c in communities) == {"猛追湾街道": 2, "府青路街道": 2}
    for community in communities:
        assert 3 <= len(community.compounds) <= 4
        for compound in community.compounds:
            assert 3 <= len(compound.buildings) <= 6
            assert compound.buildings[0].name.endswith("栋")
    assert "grid" in {p.kind for p in db.session.scalars(select(Compound))}


def test_units_have_contacts_and_some_sign_agreements(seeded):
    units = list(db.session.scalars(select(Unit)))
    assert len(units) == 10
    assert {u.contact_email for u in units} == {f"hr@unit{i}.example.cn" for i in range(1, 11)}
    assert all(u.contact_person and phones.is_valid(u.contact_phone) for u in units)
    agreements = list(db.session.scalars(select(Agreement)))
    assert len({a.unit_id for a in agreements}) >= 5
    assert len({a.community_id for a in agreements}) == 4
    assert all(a.is_active(date.today()) for a in agreements)


def test_300_residents_live_in_a_building_with_the_resident_role_there(seeded):
    residents = grants(Role.RESIDENT)
    assert len(residents) == 300
    for grant in residents:
        assert grant.user.building is not None
        assert grant.community_id == grant.user.building.compound.community_id


def test_60_party_members_each_report_to_one_community_this_year(seeded):
    members = list(db.session.scalars(select(User).where(User.is_party_member)))
    assert len(members) == 60
    year = date.today().year
    at_home = 0
    for member in members:
        reports = [r for r in member.reports if r.year == year]
        assert len(reports) == 1
        report = reports[0]
        assert report.unit is not None
        assert any(g.role == Role.VOLUNTEER and g.community_id == report.community_id for g in member.roles)
        at_home += report.community_id == member.building.compound.community_id
    assert at_home >= 40  # mostly their own community
    assert count(MemberReport) == 60
    assert len(grants(Role.VOLUNTEER)) == 60


def test_every_community_has_staff_and_every_compound_a_collector_and_council(seeded):
    for community in db.session.scalars(select(Community)):
        roles = Counter(g.role for g in community_grants(community.id) if g.compound_id is None)
        assert roles[Role.STEWARD] == 1 and roles[Role.ADMIN] == 1
        for compound in community.compounds:
            seats = Counter(g.role for g in community_grants(community.id) if g.compound_id == compound.id)
            assert seats == {Role.COLLECTOR: 1, Role.COUNCIL: 2}


def community_grants(community_id: int) -> list[RoleGrant]:
    return list(db.session.scalars(select(RoleGrant).where(RoleGrant.community_id == community_id)))


def test_organisers_for_the_district_and_each_street_and_employer_contacts(seeded):
    organisers = grants(Role.ORGANISER)
    assert len(organisers) == 3
    assert sorted(g.street.name for g in organisers if g.street) == ["府青路街道", "猛追湾街道"]
    assert [g.user.phone for g in organisers if g.street_id is None] == ["13900000001"]
    employers = grants(Role.EMPLOYER)
    assert len(employers) >= 2
    for grant in employers:
        assert grant.unit.contact_phone == grant.user.phone


def test_phones_are_unique_valid_mobiles_and_one_password_hash_is_shared(seeded):
    users = list(db.session.scalars(select(User)))
    assert len(users) == len({u.phone for u in users})
    assert all(phones.is_valid(u.phone) for u in users)
    assert all(u.phone[:2] in ("13", "15", "18") for u in users)
    assert len({u.password_hash for u in users}) == 1


def test_printed_logins_log_in(app, seeded, client):
    output = seeded.output
    password = re.search(r"Password for every demo account: (\S+)", output).group(1)
    for phone in ("13900000001", "13900000011", "13900000021", "13900000311", "13900000801", "13900000802"):
        assert phone in output
    for phone in ("13900000801", "13900000021"):
        response = client.post("/login", data={"phone": phone, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        client.post("/logout")


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


def test_demo_users_have_lived_in_pages_and_staff_have_queues(app, seeded, client):
    from volunteer.credit.models import Declaration
    from volunteer.credit.views import queue_count
    from volunteer.ledger import stars
    from volunteer.ledger.models import LedgerEntry, PointsAccount

    resident, volunteer = user_by_phone(layout.DEMO_RESIDENT), user_by_phone(layout.DEMO_VOLUNTEER)
    community_id = resident.building.compound.community_id
    for user, least in ((resident, 25), (volunteer, 20)):
        states = {d.state for d in db.session.scalars(select(Declaration).where(Declaration.user_id == user.id))}
        assert len(states) >= 4 and "approved" in states
        entries = db.session.scalar(
            select(func.count(LedgerEntry.id)).join(LedgerEntry.account).where(PointsAccount.user_id == user.id)
        )
        assert entries >= least
    rating = stars.rating(resident.id, community_id, date.today().year)
    assert rating.earned > 0 and 2 <= rating.stars <= 5
    ranking = stars.ranking(community_id, date.today().year)
    assert resident.id in [r.user_id for r in ranking] and len(ranking) >= 20
    assert len({r.stars for r in ranking}) >= 3

    assert queue_count(user_by_phone("311"), Role.COLLECTOR) > 0
    assert queue_count(user_by_phone("411"), Role.COUNCIL) > 0
    for number in range(1, 5):
        assert queue_count(user_by_phone(f"01{number}"), Role.ADMIN) > 0

    password = layout.PASSWORD
    mine = db.session.scalar(
        select(Declaration).where(Declaration.user_id == resident.id, Declaration.state == "returned")
    )
    photo = db.session.scalar(
        select(Declaration).where(Declaration.user_id == resident.id, Declaration.photos.any())
    ).photos[0]
    pages = {
        resident.phone: ["/points", "/credit/mine", f"/credit/declarations/{mine.id}", f"/credit/photos/{photo.id}"],
        layout.fixed_phone("311"): ["/credit/queue/collect"],
        layout.fixed_phone("411"): ["/credit/queue/assess"],
        layout.fixed_phone("011"): [
            "/credit/queue/approve",
            f"/communities/{community_id}/ledger",
            f"/communities/{community_id}/ranking",
            "/credit/indicators",
        ],
    }
    for phone, urls in pages.items():
        assert client.post("/login", data={"phone": phone, "password": password}).status_code == 302
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (phone, url)
        client.post("/logout")
