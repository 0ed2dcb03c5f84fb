"""The community admin's user pages: list, search, roles, password reset, disabling; all audited."""

import pytest
from flask import current_app
from sqlalchemy import func, select

from volunteer.accounts.models import Role, RoleGrant, User
from volunteer.core.audit import AuditEntry
from volunteer.extensions import db

from .. import factories
from ..conftest import english, login


def _as(app, user):
    client = app.test_client()
    english(client)
    login(client, user)
    return client


def _rows(page: str) -> str:
    return page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]


def _entries(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def _grants(user) -> set[tuple]:
    rows = db.session.execute(
        select(RoleGrant.role, RoleGrant.community_id, RoleGrant.compound_id).where(RoleGrant.user_id == user.id)
    )
    return {tuple(r) for r in rows}


def _grant(client, user, role, community, compound=None):
    return client.post(
        f"/admin/users/{user.id}/roles",
        data={"role": role, "community": community.id, "compound": compound.id if compound else 0},
    )


# --- the list ---------------------------------------------------------------------------


def test_list_shows_own_community_with_masked_phones_only(app, district):
    factories.resident(district.building_a, name="钱多多", phone="13812345678")
    response = _as(app, district.admin_a).get("/admin/users/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "138****5678" in page
    for user in db.session.scalars(select(User)):
        assert user.phone not in page, f"full phone of {user.name} in the list"
    rows = _rows(page)
    for name in ("张三", "王党员", "钱信息", "周管家", "郑主任", "钱多多"):
        assert name in rows
    for name in ("李四", "赵党员", "吴管家", "冯主任", "陈人事", "卫区委"):
        assert name not in rows


def test_search_by_name(app, district):
    rows = _rows(_as(app, district.admin_a).get("/admin/users/?q=张三").get_data(as_text=True))
    assert "张三" in rows
    assert "王党员" not in rows and "周管家" not in rows


def test_search_by_phone_fragment(app, district):
    factories.resident(district.building_a, name="钱多多", phone="13812345678")
    rows = _rows(_as(app, district.admin_a).get("/admin/users/?q=2345").get_data(as_text=True))
    assert "钱多多" in rows
    assert "张三" not in rows


def test_search_does_not_reach_other_communities(app, district):
    rows = _rows(_as(app, district.admin_a).get("/admin/users/?q=李四").get_data(as_text=True))
    assert "李四" not in rows
    assert "No users match." in rows


def test_search_wildcards_are_literal(app, district):
    rows = _rows(_as(app, district.admin_a).get("/admin/users/?q=%25").get_data(as_text=True))
    assert "No users match." in rows


def test_role_filter(app, district):
    rows = _rows(_as(app, district.admin_a).get("/admin/users/?role=steward").get_data(as_text=True))
    assert "周管家" in rows
    assert "张三" not in rows and "郑主任" not in rows
    rows = _rows(_as(app, district.admin_a).get("/admin/users/?role=volunteer").get_data(as_text=True))
    assert "王党员" in rows and "张三" not in rows


def test_pagination(app, district):
    size = current_app.config["PAGE_SIZE"]
    for i in range(size + 5):
        factories.resident(district.building_a, name=f"批量{i:03d}")
    client = _as(app, district.admin_a)
    first = client.get("/admin/users/?q=批量").get_data(as_text=True)
    second = client.get("/admin/users/?q=批量&page=2").get_data(as_text=True)
    assert f"{size + 5} records" in first
    assert "批量000" in _rows(first) and f"批量{size - 1:03d}" in _rows(first)
    assert f"批量{size:03d}" not in _rows(first)
    assert "批量000" not in _rows(second)
    assert [f"批量{i:03d}" in _rows(second) for i in range(size, size + 5)] == [True] * 5
    assert 'rel="next"' in first and "page=2" in first
    assert 'rel="prev"' in second


def test_bad_page_number_falls_back(app, district):
    client = _as(app, district.admin_a)
    assert client.get("/admin/users/?page=abc").status_code == 200
    assert client.get("/admin/users/?page=-3").status_code == 200
    assert "No users match." in client.get("/admin/users/?page=999").get_data(as_text=True)


def test_non_admins_cannot_list_users(app, district):
    for who in (district.resident_a, district.steward_a, district.collector_a, district.employer_a):
        assert _as(app, who).get("/admin/users/").status_code == 403


# --- the detail page --------------------------------------------------------------------


def test_detail_of_own_community_user(app, district):
    response = _as(app, district.admin_a).get(f"/admin/users/{district.resident_a.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "张三" in page and district.resident_a.masked_phone in page
    assert district.resident_a.phone not in page


def test_detail_of_another_communitys_user_is_404(app, district):
    client = _as(app, district.admin_a)
    assert client.get(f"/admin/users/{district.resident_b.id}").status_code == 404
    assert client.get(f"/admin/users/{district.admin_b.id}").status_code == 404
    assert client.get("/admin/users/999999").status_code == 404


def test_actions_on_another_communitys_user_are_404_and_change_nothing(app, district):
    client = _as(app, district.admin_a)
    b = district.resident_b
    before = _grants(b)
    assert _grant(client, b, Role.STEWARD, district.a).status_code == 404
    assert client.post(f"/admin/users/{b.id}/password", data={"password": "takeover1"}).status_code == 404
    assert client.post(f"/admin/users/{b.id}/active", data={"active": "0"}).status_code == 404
    grant_id = b.roles[0].id
    assert client.post(f"/admin/users/{b.id}/roles/{grant_id}/revoke").status_code == 404
    db.session.expire_all()
    assert _grants(b) == before
    assert db.session.get(User, b.id).active is True
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 0
    login(app.test_client(), b)  # old password still works


# --- granting and revoking roles --------------------------------------------------------


def test_grant_steward_role_is_audited(app, district):
    client = _as(app, district.admin_a)
    response = _grant(client, district.resident_a, Role.STEWARD, district.a)
    assert response.status_code == 303
    assert "Role granted." in client.get(response.headers["Location"]).get_data(as_text=True)
    assert (Role.STEWARD, district.a.id, None) in _grants(district.resident_a)
    grant = db.session.scalar(
        select(RoleGrant).where(RoleGrant.user_id == district.resident_a.id, RoleGrant.role == Role.STEWARD)
    )
    assert grant.granted_by_id == district.admin_a.id
    [entry] = _entries("role.grant")
    assert entry.actor_id == district.admin_a.id
    assert (entry.object_type, entry.object_id) == ("User", district.resident_a.id)
    assert entry.community_id == district.a.id
    assert entry.after == {
        "role": "steward",
        "community_id": district.a.id,
        "compound_id": None,
        "unit_id": None,
        "street_id": None,
    }


def test_grant_collector_scoped_to_a_compound(app, district):
    _grant(_as(app, district.admin_a), district.resident_a, Role.COLLECTOR, district.a, district.compound_a)
    assert (Role.COLLECTOR, district.a.id, district.compound_a.id) in _grants(district.resident_a)
    [entry] = _entries("role.grant")
    assert entry.after["compound_id"] == district.compound_a.id


def test_compound_is_dropped_for_roles_that_are_not_compound_scoped(app, district):
    _grant(_as(app, district.admin_a), district.resident_a, Role.STEWARD, district.a, district.compound_a)
    assert (Role.STEWARD, district.a.id, None) in _grants(district.resident_a)


def test_compound_of_another_community_is_refused(app, district):
    client = _as(app, district.admin_a)
    before = _grants(district.resident_a)
    response = _grant(client, district.resident_a, Role.COLLECTOR, district.a, district.compound_b)
    assert "Not a valid choice" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert _grants(district.resident_a) == before
    assert _entries("role.grant") == []


def test_compound_of_another_of_my_communities_is_refused_by_the_rule(app, district):
    """A street organiser sees both communities' compounds; the pair must still match."""
    client = _as(app, district.organiser_a)
    before = _grants(district.resident_a)
    response = _grant(client, district.resident_a, Role.COLLECTOR, district.a, district.compound_b)
    assert response.status_code == 400
    assert "That compound is not in this community." in response.get_data(as_text=True)
    assert _grants(district.resident_a) == before
    assert _entries("role.grant") == []


def test_admin_of_b_cannot_grant_a_role_in_a(app, district):
    client = _as(app, district.admin_b)
    before = _grants(district.resident_b)
    response = _grant(client, district.resident_b, Role.ADMIN, district.a)
    assert response.status_code in (303, 400, 403)
    if response.status_code == 303:
        assert "Not a valid choice" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert _grants(district.resident_b) == before
    assert _entries("role.grant") == []
    # nor on a user of A, whom B cannot even see
    assert _grant(client, district.resident_a, Role.ADMIN, district.a).status_code == 404
    assert (Role.ADMIN, district.a.id, None) not in _grants(district.resident_a)


def test_grant_form_offers_only_own_communities(app, district):
    page = _as(app, district.admin_a).get(f"/admin/users/{district.resident_a.id}").get_data(as_text=True)
    assert f'<option value="{district.a.id}"' in page
    assert f'<option value="{district.b.id}"' not in page
    assert "和平小区" not in page


def test_granting_the_same_role_twice_says_so(app, district):
    client = _as(app, district.admin_a)
    _grant(client, district.resident_a, Role.STEWARD, district.a)
    response = _grant(client, district.resident_a, Role.STEWARD, district.a)
    assert response.status_code == 400
    assert "This user already holds that role here." in response.get_data(as_text=True)
    assert len(_entries("role.grant")) == 1


def test_volunteer_role_needs_a_party_member(app, district):
    client = _as(app, district.admin_a)
    response = _grant(client, district.resident_a, Role.VOLUNTEER, district.a)
    assert response.status_code == 400
    assert "Only party members can be volunteers in the 1112 scheme." in response.get_data(as_text=True)
    assert (Role.VOLUNTEER, district.a.id, None) not in _grants(district.resident_a)
    assert _entries("role.grant") == []


def test_volunteer_role_for_a_party_member(app, district):
    member = factories.resident(district.building_a, name="新党员", party_member=True)
    _grant(_as(app, district.admin_a), member, Role.VOLUNTEER, district.a)
    assert (Role.VOLUNTEER, district.a.id, None) in _grants(member)


def test_unknown_role_is_refused(app, district):
    client = _as(app, district.admin_a)
    before = _grants(district.resident_a)
    client.post(
        f"/admin/users/{district.resident_a.id}/roles",
        data={"role": Role.ORGANISER, "community": district.a.id, "compound": 0},
    )
    assert _grants(district.resident_a) == before


def test_revoke_role_is_audited(app, district):
    client = _as(app, district.admin_a)
    grant_id = district.steward_a.roles[0].id
    response = client.post(f"/admin/users/{district.steward_a.id}/roles/{grant_id}/revoke")
    assert response.status_code == 303
    assert db.session.get(RoleGrant, grant_id) is None
    [entry] = _entries("role.revoke")
    assert entry.actor_id == district.admin_a.id
    assert entry.object_id == district.steward_a.id
    assert entry.community_id == district.a.id
    assert entry.before["role"] == "steward"
    # the former steward can no longer open the desk
    assert _as(app, district.steward_a).get("/admin/users/desk/register").status_code == 403


def test_revoke_a_grant_of_another_user_through_this_user_is_404(app, district):
    client = _as(app, district.admin_a)
    other_grant = district.steward_a.roles[0].id
    response = client.post(f"/admin/users/{district.resident_a.id}/roles/{other_grant}/revoke")
    assert response.status_code == 404
    assert db.session.get(RoleGrant, other_grant) is not None


def test_admin_cannot_revoke_own_admin_role(app, district):
    client = _as(app, district.admin_a)
    own = district.admin_a.roles[0].id
    response = client.post(f"/admin/users/{district.admin_a.id}/roles/{own}/revoke")
    assert response.status_code == 400
    assert "You cannot remove your own administrator role." in response.get_data(as_text=True)
    assert db.session.get(RoleGrant, own) is not None
    assert _entries("role.revoke") == []


def test_admin_may_revoke_another_admin_of_the_same_community(app, district):
    second = factories.staff(Role.ADMIN, district.a, name="副主任")
    client = _as(app, district.admin_a)
    grant_id = second.roles[0].id
    assert client.post(f"/admin/users/{second.id}/roles/{grant_id}/revoke").status_code == 303
    assert db.session.get(RoleGrant, grant_id) is None


# --- passwords and disabling ------------------------------------------------------------


def test_reset_password_logs_out_old_sessions_and_the_new_one_works(app, district):
    resident_phone = app.test_client()
    login(resident_phone, district.resident_a)
    assert resident_phone.get("/account/password").status_code == 200

    client = _as(app, district.admin_a)
    response = client.post(f"/admin/users/{district.resident_a.id}/password", data={"password": "fresh2026"})
    assert response.status_code == 303
    assert "Password reset. Tell 张三 the new password in person." in client.get(response.headers["Location"]).get_data(
        as_text=True
    )

    assert resident_phone.get("/account/password").status_code == 302  # logged out
    assert (
        app.test_client()
        .post("/login", data={"phone": district.resident_a.phone, "password": factories.PASSWORD})
        .status_code
        == 400
    )
    login(app.test_client(), district.resident_a, "fresh2026")

    [entry] = _entries("user.password_reset")
    assert entry.actor_id == district.admin_a.id
    assert entry.object_id == district.resident_a.id
    assert entry.community_id == district.a.id
    assert "fresh2026" not in str(entry.before) + str(entry.after)


def test_reset_to_a_weak_password_is_refused(app, district):
    client = _as(app, district.admin_a)
    before = db.session.get(User, district.resident_a.id).password_hash
    response = client.post(f"/admin/users/{district.resident_a.id}/password", data={"password": "abcdefghij"})
    assert "The password needs both letters and digits." in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    response = client.post(f"/admin/users/{district.resident_a.id}/password", data={"password": "a1"})
    assert "Between 8 and 128 characters." in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, district.resident_a.id).password_hash == before
    assert _entries("user.password_reset") == []


def test_disable_and_enable_account_are_audited(app, district):
    resident_phone = app.test_client()
    login(resident_phone, district.resident_a)
    client = _as(app, district.admin_a)

    assert client.post(f"/admin/users/{district.resident_a.id}/active", data={"active": "0"}).status_code == 303
    assert db.session.get(User, district.resident_a.id).active is False
    assert resident_phone.get("/account/password").status_code == 302
    assert (
        app.test_client()
        .post("/login", data={"phone": district.resident_a.phone, "password": factories.PASSWORD})
        .status_code
        == 400
    )

    assert client.post(f"/admin/users/{district.resident_a.id}/active", data={"active": "1"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(User, district.resident_a.id).active is True
    login(app.test_client(), district.resident_a)

    off, on = _entries("user.set_active")
    assert (off.actor_id, off.object_id, off.community_id) == (
        district.admin_a.id,
        district.resident_a.id,
        district.a.id,
    )
    assert (off.before, off.after) == ({"active": True}, {"active": False})
    assert (on.before, on.after) == ({"active": False}, {"active": True})


def test_admin_cannot_disable_own_account(app, district):
    client = _as(app, district.admin_a)
    response = client.post(f"/admin/users/{district.admin_a.id}/active", data={"active": "0"})
    assert response.status_code == 400
    assert "You cannot disable your own account." in response.get_data(as_text=True)
    assert db.session.get(User, district.admin_a.id).active is True


@pytest.mark.parametrize("victim", ["admin_b", "organiser_all", "steward_b"])
def test_admin_cannot_take_over_a_stronger_account_living_in_the_community(app, district, victim):
    """An admin of B (or an organiser) who lives in A is listed for A's admin, but not theirs to reset."""
    target = getattr(district, victim)
    target.building_id = district.building_a.id
    db.session.commit()
    client = _as(app, district.admin_a)
    assert client.get(f"/admin/users/{target.id}").status_code == 200
    assert client.post(f"/admin/users/{target.id}/password", data={"password": "takeover1"}).status_code == 403
    assert client.post(f"/admin/users/{target.id}/active", data={"active": "0"}).status_code == 403
    db.session.expire_all()
    assert db.session.get(User, target.id).active is True
    assert _entries("user.password_reset") == [] and _entries("user.set_active") == []
    login(app.test_client(), target)  # the old password still works


def test_district_organiser_may_reset_a_community_admins_password(app, district):
    district.admin_b.building_id = district.building_a.id
    db.session.commit()
    client = _as(app, district.organiser_all)
    response = client.post(f"/admin/users/{district.admin_b.id}/password", data={"password": "fresh2026"})
    assert response.status_code == 303
    login(app.test_client(), district.admin_b, "fresh2026")
