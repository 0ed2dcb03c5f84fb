"""Account rules called directly: password rules, authentication, and grants under a race."""

import threading

import pytest
from sqlalchemy import func, select

from volunteer.accounts import services
from volunteer.accounts.models import Role, RoleGrant, User
from volunteer.core.audit import AuditEntry
from volunteer.core.errors import DomainError
from volunteer.extensions import db

from .. import factories


@pytest.mark.parametrize("password", ["abc12345", "Pass word 1", "密码密码密码12", "1a" * 4])
def test_acceptable_passwords(password):
    services.check_password_rules(password)


@pytest.mark.parametrize(
    "password", ["abc1234", "12345678", "abcdefgh", "!!!!!!!!", "abcdefg!", "1234567!", "        "]
)
def test_weak_passwords(password):
    with pytest.raises(DomainError) as err:
        services.check_password_rules(password)
    assert err.value.code == "weak_password"


def test_authenticate_errors_carry_codes_and_statuses(district):
    with pytest.raises(DomainError) as err:
        services.authenticate(district.resident_a.phone, "wrong1234")
    assert (err.value.code, err.value.status) == ("bad_login", 401)
    with pytest.raises(DomainError) as err:
        services.authenticate("13700000000", "wrong1234")
    assert (err.value.code, err.value.status) == ("bad_login", 401)
    district.resident_a.active = False
    db.session.commit()
    with pytest.raises(DomainError) as err:
        services.authenticate(district.resident_a.phone, factories.PASSWORD)
    assert (err.value.code, err.value.status) == ("inactive", 403)


def test_register_resident_without_actor_writes_no_audit_entry(district):
    user = services.register_resident(
        phone="13812345678", name=" 甲 ", password="abc12345", building=district.building_b
    )
    assert user.name == "甲"
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 0


def test_revoking_own_non_admin_role_is_allowed(district):
    extra = factories.grant(district.admin_a, Role.STEWARD, community_=district.a)
    services.revoke_role(extra, district.admin_a)
    assert db.session.get(RoleGrant, extra.id) is None


def test_organiser_cannot_revoke_own_organiser_role(district):
    grant = district.organiser_all.roles[0]
    with pytest.raises(DomainError):
        services.revoke_role(grant, district.organiser_all)


@pytest.mark.postgres_only
def test_same_grant_submitted_twice_at_once_gives_one_grant_and_a_clear_error(app, district):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("two writers at once need PostgreSQL; SQLite serialises the whole database")
    user_id, admin_id, community_id = district.resident_a.id, district.admin_a.id, district.a.id
    barrier = threading.Barrier(2)
    outcomes = []

    def grant():
        with app.app_context():
            user = db.session.get(User, user_id)
            admin = db.session.get(User, admin_id)
            _ = list(user.roles)  # both see "no steward role yet"
            barrier.wait()
            try:
                services.grant_role(user, Role.STEWARD, admin, community_id=community_id)
                outcomes.append("granted")
            except DomainError as err:
                outcomes.append(err.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=grant) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["granted", "role_exists"]
    count = select(func.count(RoleGrant.id)).where(RoleGrant.user_id == user_id, RoleGrant.role == Role.STEWARD)
    assert db.session.scalar(count) == 1
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "role.grant")) == 1


def test_a_refusal_outside_a_request_is_still_a_domain_error(app, district):
    """CLI commands and batch jobs call services with an app context but no request."""
    from flask import has_request_context, session

    assert not has_request_context()
    with pytest.raises(DomainError) as err:
        services.grant_role(district.resident_a, Role.VOLUNTEER, district.admin_a, community_id=district.a.id)
    assert err.value.code == "not_member"
    with app.test_request_context():
        session["lang"] = "en"  # translated when read, in the reader's language
        assert str(err.value) == "Only party members can be volunteers in the 1112 scheme."
