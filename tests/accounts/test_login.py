"""Login, logout, registration and password change on the phone."""

import pytest
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


def test_logout_ends_the_session(client, district):
    english(client)
    login(client, district.resident_a)
    response = client.post("/logout")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")
    assert "You have logged out." in client.get("/login").get_data(as_text=True)
    assert client.get("/account/password").status_code == 302


def test_logout_needs_post(client, district):
    login(client, district.resident_a)
    assert client.get("/logout").status_code == 405
    assert client.get("/account/password").status_code == 200  # still logged in


def test_login_accepts_the_phone_as_people_type_it(client):
    factories.user(phone="13812345678")
    response = client.post("/login", data={"phone": "+86 138-1234-5678", "password": factories.PASSWORD})
    assert response.status_code == 302


def test_unknown_phone_gets_the_same_message_as_a_wrong_password(client):
    english(client)
    response = client.post("/login", data={"phone": "13700000000", "password": factories.PASSWORD})
    assert response.status_code == 400
    assert "Wrong phone number or password" in response.get_data(as_text=True)


def test_empty_login_form_says_what_is_missing(client):
    english(client)
    response = client.post("/login", data={"phone": "", "password": ""})
    assert response.status_code == 400
    assert "This field is required." in response.get_data(as_text=True)


def test_disabled_account_is_refused_even_with_the_right_password(client, district):
    english(client)
    district.resident_a.active = False
    db.session.commit()
    response = client.post("/login", data={"phone": district.resident_a.phone, "password": factories.PASSWORD})
    assert response.status_code == 400
    assert "This account is disabled. Please contact your community." in response.get_data(as_text=True)
    assert client.get("/account/password").status_code == 302


def test_disabling_ends_a_running_session(app, district):
    phone = app.test_client()
    login(phone, district.resident_a)
    district.resident_a.active = False
    db.session.commit()
    assert phone.get("/account/password").status_code == 302


def test_logged_in_user_visiting_login_goes_home(client, district):
    login(client, district.resident_a)
    response = client.get("/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_login_follows_a_local_next(client, district):
    response = client.post(
        "/login?next=/account/password", data={"phone": district.resident_a.phone, "password": factories.PASSWORD}
    )
    assert response.headers["Location"] == "/account/password"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "https://evil.example/login",
        "/\\evil.example",
        "%2F%2Fevil.example",
        "/%09/evil.example",
        "/%0a/evil.example",
        "javascript:alert(1)",
    ],
)
def test_login_next_cannot_leave_the_site(client, district, target):
    response = client.post(
        f"/login?next={target}", data={"phone": district.resident_a.phone, "password": factories.PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_anonymous_visit_to_a_private_page_comes_back_after_login(client, district):
    response = client.get("/account/password")
    assert response.status_code == 302
    login_url = response.headers["Location"]
    assert login_url.startswith("/login?next=")
    response = client.post(login_url, data={"phone": district.resident_a.phone, "password": factories.PASSWORD})
    assert response.headers["Location"] == "/account/password"


def _register(client, building, password, confirm=None):
    return client.post(
        "/register",
        data={
            "name": "新居民",
            "phone": "13812345678",
            "building": building.id,
            "password": password,
            "confirm": password if confirm is None else confirm,
        },
    )


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("abc123", "Between 8 and 128 characters."),
        ("12345678", "The password needs both letters and digits."),
        ("abcdefgh", "The password needs both letters and digits."),
        ("!!!!!!!!", "The password needs both letters and digits."),
        ("abcdefg!", "The password needs both letters and digits."),
        ("1234567!", "The password needs both letters and digits."),
        ("x" * 129 + "1", "Between 8 and 128 characters."),
    ],
)
def test_weak_passwords_are_refused_with_a_clear_message(client, district, password, message):
    english(client)
    response = _register(client, district.building_a, password)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.phone == "13812345678")) is None


def test_mismatched_confirmation_is_refused(client, district):
    english(client)
    response = _register(client, district.building_a, "abc12345", confirm="abc12346")
    assert response.status_code == 400
    assert "The two passwords do not match." in response.get_data(as_text=True)


def test_bad_phone_is_refused_with_an_example(client, district):
    english(client)
    response = client.post(
        "/register",
        data={
            "name": "甲",
            "phone": "12345",
            "building": district.building_a.id,
            "password": "abc12345",
            "confirm": "abc12345",
        },
    )
    assert response.status_code == 400
    assert "Enter an 11-digit mainland mobile number, such as 13812345678." in response.get_data(as_text=True)


def test_name_with_markup_is_refused(client, district):
    english(client)
    response = client.post(
        "/register",
        data={
            "name": "<script>x</script>",
            "phone": "13812345678",
            "building": district.building_a.id,
            "password": "abc12345",
            "confirm": "abc12345",
        },
    )
    assert response.status_code == 400
    assert "Please do not use &lt; or &gt; here." in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.phone == "13812345678")) is None


def test_unknown_building_is_refused(client, district):
    english(client)
    response = _register(client, type("B", (), {"id": 999999})(), "abc12345")
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)


def test_registration_logs_in_and_stores_a_hash_not_the_password(client, district):
    response = _register(client, district.building_a, "abc12345")
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.phone == "13812345678"))
    assert "abc12345" not in user.password_hash
    assert user.password_hash.startswith("$argon2")
    assert client.get("/account/password").status_code == 200


def test_password_change_with_wrong_current_password_changes_nothing(client, district):
    english(client)
    login(client, district.resident_a)
    before = db.session.get(User, district.resident_a.id).password_hash
    response = client.post(
        "/account/password", data={"current": "wrong1234", "password": "newpass123", "confirm": "newpass123"}
    )
    assert response.status_code == 400
    assert "The current password is not correct." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, district.resident_a.id).password_hash == before


def test_password_change_to_a_weak_password_is_refused(client, district):
    english(client)
    login(client, district.resident_a)
    response = client.post(
        "/account/password", data={"current": factories.PASSWORD, "password": "abcdefghij", "confirm": "abcdefghij"}
    )
    assert response.status_code == 400
    assert "The password needs both letters and digits." in response.get_data(as_text=True)


def test_register_starts_on_choose_a_building_and_requires_one(client, district):
    english(client)
    page = client.get("/register").get_data(as_text=True)
    assert '<option value="" selected>Choose your compound and building</option>' in page
    response = client.post(
        "/register",
        data={"name": "甲", "phone": "13812340001", "building": "", "password": "abc12345", "confirm": "abc12345"},
    )
    assert response.status_code == 400
    assert "This field is required." in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.phone == "13812340001")) is None
