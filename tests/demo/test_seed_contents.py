"""The demo district's contents, read by tests that share one build (marked shared_rows)."""

import re
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select

from volunteer.accounts.models import Role, User
from volunteer.core import phone as phones
from volunteer.demo import layout
from volunteer.extensions import db
from volunteer.org.models import Agreement, Community, Compound, MemberReport, Street, Unit

from ..conftest import wipe
from .test_seed import community_grants, count, grants, seed, user_by_phone

pytestmark = pytest.mark.shared_rows


@pytest.fixture(scope="module")
def seeded(app):
    """One demo district for every test here: they only read it."""
    with app.app_context():
        wipe(app)
        result = seed(app)
        assert result.exit_code == 0, result.output
    yield result
    with app.app_context():
        wipe(app)


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
