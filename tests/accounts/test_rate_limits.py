"""Login and registration are rate limited: the next attempt gets a clear 429, never a 500."""

from sqlalchemy import func, select

from volunteer.accounts.models import User
from volunteer.extensions import db

from .. import factories
from ..core.apps import extra_app


def _english(client):
    with client.session_transaction() as session:
        session["lang"] = "en"


def test_fourth_login_attempt_in_a_minute_is_refused(app, district):
    with extra_app(app, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute") as limited:
        client = limited.test_client()
        _english(client)
        wrong = {"phone": district.resident_a.phone, "password": "guess12345"}
        assert [client.post("/login", data=wrong).status_code for _ in range(3)] == [400, 400, 400]
        response = client.post("/login", data=wrong)
        assert response.status_code == 429
        assert "Too many attempts. Please wait a minute and try again." in response.get_data(as_text=True)
        assert "Retry-After" in response.headers
        # even the right password waits: guessing cannot continue by getting lucky
        right = {"phone": district.resident_a.phone, "password": factories.PASSWORD}
        assert client.post("/login", data=right).status_code == 429
        # the form itself still opens
        assert client.get("/login").status_code == 200


def test_rate_limited_json_caller_gets_json(app, district):
    with extra_app(app, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="1 per minute") as limited:
        client = limited.test_client()
        client.post("/login", data={"phone": "13700000000", "password": "x"})
        response = client.post(
            "/login", data={"phone": "13700000000", "password": "x"}, headers={"Accept": "application/json"}
        )
        assert response.status_code == 429
        assert response.get_json()["error"] == "too_many_requests"


def test_fourth_registration_in_a_minute_is_refused_and_creates_nothing(app, district):
    with extra_app(app, RATELIMIT_ENABLED=True, REGISTER_RATE_LIMIT="3 per minute") as limited:
        client = limited.test_client()
        _english(client)
        for i in range(3):
            other = limited.test_client()  # a new browser each time: the limit is per address
            response = other.post(
                "/register",
                data={
                    "name": f"居民{i}",
                    "phone": f"1381234000{i}",
                    "building": district.building_a.id,
                    "password": "abc12345",
                    "confirm": "abc12345",
                },
            )
            assert response.status_code == 302
        response = client.post(
            "/register",
            data={
                "name": "第四位",
                "phone": "13812340009",
                "building": district.building_a.id,
                "password": "abc12345",
                "confirm": "abc12345",
            },
        )
        assert response.status_code == 429
        assert "Too many attempts" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(User.id)).where(User.phone.like("1381234000%"))) == 3
    assert db.session.scalar(select(User).where(User.phone == "13812340009")) is None


def test_session_app_is_not_rate_limited_after_a_limited_app_ran(app, client, district):
    """Flask-Limiter's on/off switch is shared; extra_app must put it back."""
    with extra_app(app, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="1 per minute"):
        pass
    wrong = {"phone": district.resident_a.phone, "password": "guess12345"}
    assert {client.post("/login", data=wrong).status_code for _ in range(15)} == {400}
