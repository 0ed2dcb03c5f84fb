"""Errors end in a friendly page (or JSON for API callers), never a bare 500 or a stack trace."""

from sqlalchemy import func, select

from volunteer.core.errors import DomainError
from volunteer.extensions import db
from volunteer.org.models import Street

from ..conftest import english, login
from .apps import extra_app


def test_unknown_url_gives_the_friendly_404_page(client):
    english(client)
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "This page or record does not exist" in page
    assert "Back to the home page" in page


def test_unknown_url_in_chinese_by_default(client):
    page = client.get("/no/such/page").get_data(as_text=True)
    assert 'lang="zh-CN"' in page
    assert "This page or record does not exist" not in page


def test_json_caller_gets_a_json_404(client):
    english(client)
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.is_json
    body = response.get_json()
    assert body["error"] == "not_found"
    assert "does not exist" in body["message"]


def test_wrong_method_is_a_friendly_405(client):
    english(client)
    response = client.get("/logout")
    assert response.status_code == 405
    assert "That action is not allowed here" in response.get_data(as_text=True)


def test_post_without_csrf_token_is_refused_with_a_clear_message(app, district):
    with extra_app(app, WTF_CSRF_ENABLED=True) as secured:
        client = secured.test_client()
        with client.session_transaction() as session:
            session["lang"] = "en"  # POST /lang/en needs a token too
        data = {"phone": district.resident_a.phone, "password": "password123"}
        response = client.post("/login", data=data)
        assert response.status_code == 400
        assert "Your form expired or was sent from elsewhere" in response.get_data(as_text=True)

        json_response = client.post("/login", data=data, headers={"Accept": "application/json"})
        assert json_response.status_code == 400
        assert json_response.get_json()["error"] == "csrf"

        # the same POST with the token from the form logs in
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
        response = client.post("/login", data=dict(data, csrf_token=token))
        assert response.status_code == 302


def test_unexpected_exception_gives_the_500_page_and_changes_nothing(app):
    with extra_app(app) as broken:

        @broken.route("/boom")
        def boom():
            db.session.add(Street(name="半路写入"))
            db.session.flush()
            raise RuntimeError("bug")

        client = broken.test_client()
        english(client)
        response = client.get("/boom")
        assert response.status_code == 500
        page = response.get_data(as_text=True)
        assert "Something went wrong on our side" in page
        assert "RuntimeError" not in page and "Traceback" not in page

        json_response = client.get("/boom", headers={"Accept": "application/json"})
        assert json_response.status_code == 500
        assert json_response.get_json()["error"] == "server_error"
    assert db.session.scalar(select(func.count(Street.id))) == 0


def test_domain_error_on_a_get_renders_its_message_and_status(app):
    with extra_app(app) as other:

        @other.route("/refuse")
        def refuse():
            raise DomainError("sold_out", "Sold out.", status=409)

        english(client := other.test_client())
        response = client.get("/refuse")
        assert response.status_code == 409
        assert "Sold out." in response.get_data(as_text=True)
        assert client.get("/refuse", headers={"Accept": "application/json"}).get_json() == {
            "error": "sold_out",
            "reason": "sold_out",
            "message": "Sold out.",
        }


def test_domain_error_on_a_post_only_action_shows_the_message_not_a_405(app, district):
    """Revoking one's own admin role is refused; the refusal must be readable."""
    client = app.test_client()
    english(client)
    login(client, district.admin_a)
    own = district.admin_a.roles[0]
    response = client.post(f"/admin/users/{district.admin_a.id}/roles/{own.id}/revoke")
    assert response.status_code == 400
    assert "You cannot remove your own administrator role" in response.get_data(as_text=True)


def test_domain_error_on_a_post_goes_back_to_the_form_with_a_flash(app, district):
    client = app.test_client()
    english(client)
    login(client, district.admin_a)
    own = district.admin_a.roles[0]
    detail = f"http://localhost/admin/users/{district.admin_a.id}"
    response = client.post(f"/admin/users/{district.admin_a.id}/roles/{own.id}/revoke", headers={"Referer": detail})
    assert response.status_code == 303
    assert response.headers["Location"] == detail
    assert "You cannot remove your own administrator role" in client.get(detail).get_data(as_text=True)


def test_domain_error_never_redirects_to_another_sites_referrer(app, district):
    client = app.test_client()
    login(client, district.admin_a)
    own = district.admin_a.roles[0]
    response = client.post(
        f"/admin/users/{district.admin_a.id}/roles/{own.id}/revoke",
        headers={"Referer": "https://evil.example/phish"},
    )
    assert "evil.example" not in response.headers.get("Location", "")


def test_error_page_escapes_names_inside_translated_messages(app):
    from flask_babel import lazy_gettext as _l

    with extra_app(app) as other:

        @other.route("/taken")
        def taken():
            raise DomainError("taken", _l("%(name)s already reports here.", name="<script>alert(1)</script>"))

        page = other.test_client().get("/taken").get_data(as_text=True)
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt; already reports here." in page
