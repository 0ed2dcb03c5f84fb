"""The language switch: Chinese first, English on request, remembered per user, no open redirect."""

import pytest

from volunteer.accounts.models import User
from volunteer.extensions import db

from ..conftest import login


def test_default_page_is_chinese(client):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page


def test_switch_to_english_and_back(client):
    response = client.post("/lang/en")
    assert response.status_code == 303
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)
    client.post("/lang/zh_CN")
    assert '<html lang="zh-CN">' in client.get("/").get_data(as_text=True)


def test_unknown_language_is_404_and_changes_nothing(client):
    assert client.post("/lang/xx").status_code == 404
    assert '<html lang="zh-CN">' in client.get("/").get_data(as_text=True)


def test_switch_returns_to_the_page_it_came_from(client):
    response = client.post("/lang/en", data={"next": "/login?x=1"})
    assert response.headers["Location"] == "/login?x=1"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "http://evil.example/login",
        "/\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "javascript:alert(1)",
        "evil.example",
    ],
)
def test_next_cannot_leave_the_site(client, target):
    response = client.post("/lang/en", data={"next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_logged_in_choice_is_stored_on_the_user(app, district):
    phone = app.test_client()
    login(phone, district.resident_a)
    phone.post("/lang/en")
    assert db.session.get(User, district.resident_a.id).locale == "en"

    # another browser picks the stored choice up after logging in
    other = app.test_client()
    login(other, district.resident_a)
    assert '<html lang="en">' in other.get("/").get_data(as_text=True)


def test_anonymous_choice_touches_no_user(client, district):
    client.post("/lang/en")
    assert db.session.get(User, district.resident_a.id).locale is None
