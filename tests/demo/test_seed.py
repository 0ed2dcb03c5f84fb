"""flask seed-demo: the demo district's shape, its logins, refusal to run twice, --reset, determinism."""

import os
import re
import subprocess
import sys
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select

from volunteer.accounts.models import Role, RoleGrant, User
from volunteer.core import phone as phones
from volunteer.demo import layout
from volunteer.demo.build import AlreadySeeded, build_demo
from volunteer.extensions import db
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


def test_the_readme_command_migrates_a_fresh_sqlite_file_and_builds(tmp_path):
    env = dict(
        os.environ,
        DATABASE_URL="sqlite:///" + str(tmp_path / "fresh.sqlite"),
        ARGON2_TIME_COST="1",
        ARGON2_MEMORY_COST="1024",
    )
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "seed-demo"]
    first = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "13900000001" in first.stdout and layout.PASSWORD in first.stdout
    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 1
    assert "--reset" in again.stderr


def test_every_community_has_an_audit_history(app):
    from sqlalchemy import func, select

    from volunteer.core.audit import AuditEntry
    from volunteer.demo.build import build_demo
    from volunteer.extensions import db
    from volunteer.org.models import Community

    build_demo()
    for community in db.session.scalars(select(Community)):
        actions = set(
            db.session.scalars(select(AuditEntry.action).where(AuditEntry.community_id == community.id))
        )
        assert {"report.create", "role.grant"} <= actions, community.name
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.actor_id.is_(None))) == 0


def test_points_history_verifies_and_expiry_has_nothing_left_to_do(app):
    from datetime import date

    from sqlalchemy import func, select

    from volunteer.demo.build import build_demo
    from volunteer.extensions import db
    from volunteer.ledger.expiry import expire_all
    from volunteer.ledger.models import LedgerEntry, PointsPolicy
    from volunteer.ledger.verify import mismatches

    build_demo()
    assert db.session.scalar(select(func.count(PointsPolicy.community_id))) == 4
    kinds = set(db.session.scalars(select(LedgerEntry.kind).distinct()))
    assert {"adjust", "expire"} <= kinds
    assert mismatches() == []
    assert expire_all(date.today()) == (0, 0)  # the demo already wrote the expiries that were due
