"""A steward registers residents of their own community at the desk, audited."""

from sqlalchemy import func, select

from volunteer.accounts.models import Role, User
from volunteer.core.audit import AuditEntry
from volunteer.extensions import db

from ..conftest import english, login

URL = "/admin/users/desk/register"


def _form(building, **kw):
    data = {
        "name": "柜台居民",
        "phone": "13812345678",
        "building": building.id,
        "password": "abc12345",
        "confirm": "abc12345",
    }
    data.update(kw)
    return data


def _steward(app, user):
    client = app.test_client()
    english(client)
    login(client, user)
    return client


def test_steward_sees_only_own_communitys_buildings(app, district):
    page = _steward(app, district.steward_a).get(URL).get_data(as_text=True)
    assert f'value="{district.building_a.id}"' in page
    assert f'value="{district.building_b.id}"' not in page
    assert "东二社区" not in page


def test_steward_registers_a_resident_in_own_community(app, district):
    client = _steward(app, district.steward_a)
    response = client.post(URL, data=_form(district.building_a))
    assert response.status_code == 303
    user = db.session.scalar(select(User).where(User.phone == "13812345678"))
    assert user.building_id == district.building_a.id
    assert [(g.role, g.community_id) for g in user.roles] == [(Role.RESIDENT, district.a.id)]
    page = client.get(URL).get_data(as_text=True)
    assert "柜台居民 is registered and can log in with 138****5678." in page
    # the steward stays logged in as the steward
    assert "Hello, 周管家" in client.get("/").get_data(as_text=True)
    # and the resident can log in with the password set at the desk
    login(app.test_client(), user, "abc12345")


def test_desk_registration_is_audited_with_the_steward_as_actor(app, district):
    _steward(app, district.steward_a).post(URL, data=_form(district.building_a))
    user = db.session.scalar(select(User).where(User.phone == "13812345678"))
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.register_at_desk"))
    assert entry.actor_id == district.steward_a.id
    assert entry.object_type == "User" and entry.object_id == user.id
    assert entry.community_id == district.a.id
    assert entry.after == {"name": "柜台居民"}


def test_building_of_another_community_is_refused_and_nobody_is_created(app, district):
    client = _steward(app, district.steward_a)
    response = client.post(URL, data=_form(district.building_b))
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.phone == "13812345678")) is None
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 0


def test_taken_phone_is_refused_at_the_desk(app, district):
    client = _steward(app, district.steward_a)
    response = client.post(URL, data=_form(district.building_a, phone=district.resident_b.phone))
    assert response.status_code == 400
    assert "This phone number is already registered" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 0


def test_weak_password_at_the_desk_is_refused(app, district):
    client = _steward(app, district.steward_a)
    response = client.post(URL, data=_form(district.building_a, password="12345678", confirm="12345678"))
    assert response.status_code == 400
    assert "The password needs both letters and digits." in response.get_data(as_text=True)


def test_admin_may_register_at_the_desk_too(app, district):
    response = _steward(app, district.admin_a).post(URL, data=_form(district.building_a))
    assert response.status_code == 303


def test_resident_cannot_open_the_desk(app, district):
    client = _steward(app, district.resident_a)
    assert client.get(URL).status_code == 403
    assert client.post(URL, data=_form(district.building_a)).status_code == 403
    assert db.session.scalar(select(User).where(User.phone == "13812345678")) is None


def test_collector_and_employer_cannot_open_the_desk(app, district):
    assert _steward(app, district.collector_a).get(URL).status_code == 403
    assert _steward(app, district.employer_a).get(URL).status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
