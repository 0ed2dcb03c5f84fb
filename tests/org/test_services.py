"""Organisation rules called directly: creation, 双报到, agreements, and the same change twice at once."""

import threading
from datetime import date

import pytest
from sqlalchemy import select

from volunteer.accounts.models import Role, RoleGrant, User
from volunteer.core.errors import DomainError
from volunteer.extensions import db
from volunteer.org import services
from volunteer.org.models import Agreement, Building, Community, Compound, MemberReport, Unit

from .. import factories
from .conftest import audits, count, find, get

YEAR = date.today().year


def test_create_compound_places_it_in_its_community_and_audits_there(district):
    compound = services.create(Compound, district.admin_a, community_id=district.a.id, name="新小区", kind="grid")
    assert (compound.community_id, compound.kind) == (district.a.id, "grid")
    [entry] = audits("compound.create")
    assert entry.community_id == district.a.id and entry.after == {"name": "新小区", "kind": "grid"}


def test_new_community_audit_entry_belongs_to_the_new_community(district):
    community = services.create(Community, district.organiser_all, street_id=district.street_b.id, name="西二社区")
    assert audits("community.create")[0].community_id == community.id


def test_building_audit_entry_belongs_to_its_community(district):
    services.create(Building, district.admin_b, compound_id=district.compound_b.id, name="7栋")
    assert audits("building.create")[0].community_id == district.b.id


@pytest.mark.parametrize("name", ["", "   "])
def test_blank_names_are_refused_by_the_service_too(district, name):
    with pytest.raises(DomainError) as err:
        services.create(Compound, district.admin_a, community_id=district.a.id, name=name)
    assert err.value.code == "bad_name"
    with pytest.raises(DomainError):
        services.update(district.building_a, district.admin_a, name=name)
    assert get(Building, district.building_a.id).name == "1栋"
    assert count(Compound) == 2


def test_duplicate_name_rolls_back_and_says_so(district):
    with pytest.raises(DomainError) as err:
        services.create(Building, district.admin_a, compound_id=district.compound_a.id, name="1栋")
    assert err.value.code == "duplicate"
    assert count(Building) == 2
    with pytest.raises(DomainError) as err:
        services.update(district.b, district.organiser_a, name="东一社区")  # same street
    assert err.value.code == "duplicate"
    assert get(Community, district.b.id).name == "东二社区"
    assert not audits("building.create") and not audits("community.update")
    # the same name in another community's compound is fine
    services.update(district.compound_a, district.admin_a, name="和平小区")
    assert get(Compound, district.compound_a.id).name == "和平小区"


def test_report_member_grants_volunteer_and_refuses_a_second_report(district):
    member = factories.resident(district.building_a, party_member=True)
    report = services.report_member(member, district.a, district.unit_a, YEAR, district.admin_a)
    assert report.recorded_by_id == district.admin_a.id
    assert find(RoleGrant, user_id=member.id, role=Role.VOLUNTEER).community_id == district.a.id
    with pytest.raises(DomainError) as err:
        services.report_member(member, district.b, district.unit_b, YEAR, member)
    assert err.value.code == "already_reported"
    # another year is a new assignment
    services.report_member(member, district.b, district.unit_b, YEAR + 1, member)
    assert count(MemberReport, MemberReport.user_id == member.id) == 2


def test_report_rules_for_non_members_and_years(district):
    with pytest.raises(DomainError) as err:
        services.report_member(district.resident_a, district.a, district.unit_a, YEAR, district.admin_a)
    assert err.value.code == "not_member"
    member = factories.resident(district.building_a, party_member=True)
    with pytest.raises(DomainError) as err:
        services.report_member(member, district.a, district.unit_a, 1999, district.admin_a)
    assert err.value.code == "bad_year"
    assert count(MemberReport) == 2


def test_cancel_keeps_the_volunteer_role_while_another_year_uses_it(district):
    older = factories.report(factories.resident(district.building_a, party_member=True), district.a, year=YEAR - 1)
    member_id = older.user_id
    current = services.report_member(get(User, member_id), district.a, district.unit_a, YEAR, district.admin_a)
    services.cancel_report(current, district.admin_a, "错了")
    assert find(RoleGrant, user_id=member_id, role=Role.VOLUNTEER) is not None
    services.cancel_report(get(MemberReport, older.id), district.admin_a, "也错了")
    assert find(RoleGrant, user_id=member_id, role=Role.VOLUNTEER) is None
    assert [e.before["reason"] for e in audits("report.cancel")] == ["错了", "也错了"]


def test_cancel_needs_a_reason(district):
    report = find(MemberReport, user_id=district.member_a.id)
    with pytest.raises(DomainError) as err:
        services.cancel_report(report, district.admin_a, "  ")
    assert err.value.code == "reason_required"
    assert get(MemberReport, report.id) is not None and not audits("report.cancel")


def test_agreement_dates_and_termination(district):
    with pytest.raises(DomainError) as err:
        services.sign_agreement(district.unit_a, district.a, date(2026, 5, 1), date(2026, 4, 30), "", district.admin_a)
    assert err.value.code == "bad_dates"
    agreement = services.sign_agreement(
        district.unit_a, district.a, date(2026, 5, 1), date(2026, 5, 1), " 共建 ", district.admin_a
    )
    assert agreement.content == "共建" and agreement.is_active(date(2026, 5, 1))
    services.terminate_agreement(agreement, district.admin_a)
    assert not get(Agreement, agreement.id).is_active(date(2026, 5, 1))
    with pytest.raises(DomainError) as err:
        services.terminate_agreement(get(Agreement, agreement.id), district.admin_a)
    assert err.value.code == "already_ended"
    assert len(audits("agreement.terminate")) == 1


# --- the same change twice at once ----------------------------------------------------------


def _twice_at_once(app, action) -> list[str]:
    """Run `action()` in two threads with their own sessions, released together; collect outcomes."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("two writers at once need PostgreSQL; SQLite serialises the whole database")
    barrier = threading.Barrier(2)
    outcomes = []

    def run():
        with app.app_context():
            try:
                action(barrier)
                outcomes.append("ok")
            except DomainError as err:
                outcomes.append(err.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(outcomes)


@pytest.mark.postgres_only
def test_member_reporting_twice_at_once_gets_one_report(app, district):
    member_id = factories.resident(district.building_a, party_member=True).id
    a_id, b_id, unit_id = district.a.id, district.b.id, district.unit_a.id
    targets = iter([a_id, b_id])

    def report(barrier):
        member = db.session.get(User, member_id)
        community = db.session.get(Community, next(targets))
        unit = db.session.get(Unit, unit_id)
        _ = list(member.roles)  # both see "no report, no volunteer role yet"
        barrier.wait()
        services.report_member(member, community, unit, YEAR, member)

    assert _twice_at_once(app, report) == ["already_reported", "ok"]
    assert count(MemberReport, MemberReport.user_id == member_id) == 1
    assert len(audits("report.create")) == 1


@pytest.mark.postgres_only
def test_cancelling_one_report_twice_at_once_cancels_and_audits_once(app, district):
    report_id, admin_id = find(MemberReport, user_id=district.member_a.id).id, district.admin_a.id

    def cancel(barrier):
        report = db.session.get(MemberReport, report_id)
        admin = db.session.get(User, admin_id)
        barrier.wait()
        services.cancel_report(report, admin, "重复")

    assert _twice_at_once(app, cancel) == ["already_cancelled", "ok"]
    assert get(MemberReport, report_id) is None
    assert len(audits("report.cancel")) == 1


@pytest.mark.postgres_only
def test_terminating_twice_at_once_ends_and_audits_once(app, district):
    agreement_id = factories.agreement(district.unit_a, district.a).id
    admin_id = district.admin_a.id

    def terminate(barrier):
        agreement = db.session.get(Agreement, agreement_id)
        admin = db.session.get(User, admin_id)
        barrier.wait()
        services.terminate_agreement(agreement, admin)

    assert _twice_at_once(app, terminate) == ["already_ended", "ok"]
    assert len(audits("agreement.terminate")) == 1
    assert db.session.scalar(select(Agreement.terminated_at).where(Agreement.id == agreement_id)) is not None
