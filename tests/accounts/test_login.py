"""Login, logout, registration and password change on the phone."""

from sqlalchemy import select

from volunteer.accounts.models import Role, User
from volunteer.extensions import db

from .. import factories
from ..conftest import english, login


def test_login_by_phone_and_password_then_home_shows_name(client, district):
    login(client, district.resident_a)
    page = client.get("/").get_data(as_text=True)
    assert "张三" in page


def test_wrong_password_is_refused_with_a_message(client, district):
    english(client)
    response = client.post("/login", data={"phone": district.resident_a.phone, "password": "nope12345"})
    assert response.status_code == 400
    assert "Wrong phone number or password" in response.get_data(as_text=True)
    assert client.get("/account/password").status_code == 302  # still logged out


def test_register_creates_resident_in_building_community(client, district):
    response = client.post(
        "/register",
        data={
            "name": "新居民",
            "phone": "138 1234 5678",
            "building": district.building_b.id,
            "password": "abc12345",
            "confirm": "abc12345",
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.phone == "13812345678"))
    assert user.name == "新居民"
    assert [(g.role, g.community_id) for g in user.roles] == [(Role.RESIDENT, district.b.id)]


def test_register_twice_with_one_phone_is_refused(client, district):
    data = {
        "name": "甲",
        "phone": district.resident_a.phone,
        "building": district.building_a.id,
        "password": "abc12345",
        "confirm": "abc12345",
    }
    response = client.post("/register", data=data)
    assert response.status_code == 400
    assert db.session.scalar(select(db.func.count(User.id)).where(User.phone == district.resident_a.phone)) == 1


def test_password_change_logs_out_other_sessions(app, district):
    phone_one, phone_two = app.test_client(), app.test_client()
    login(phone_one, district.resident_a)
    login(phone_two, district.resident_a)
    response = phone_one.post(
        "/account/password", data={"current": factories.PASSWORD, "password": "newpass123", "confirm": "newpass123"}
    )
    assert response.status_code == 302
    assert phone_one.get("/account/password").status_code == 200
    assert phone_two.get("/account/password").status_code == 302  # back to login
    login(phone_two, district.resident_a, "newpass123")
