"""The audit log page: an admin reads their own communities' entries only."""

from .. import factories
from ..conftest import english, login


def _audit(app, user, query: str = ""):
    client = app.test_client()
    english(client)
    login(client, user)
    return client.get("/audit" + query)


def test_admin_sees_own_communitys_entries_and_not_others(app, district):
    factories.audit(district.admin_a, district.a, action="voucher.hand_over")
    factories.audit(district.admin_b, district.b, action="stock.adjust")
    response = _audit(app, district.admin_a)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "voucher.hand_over" in page and "郑主任" in page
    assert "stock.adjust" not in page and "冯主任" not in page


def test_filter_by_action(app, district):
    factories.audit(district.admin_a, district.a, action="role.grant")
    factories.audit(district.admin_a, district.a, action="user.password_reset")
    page = _audit(app, district.admin_a, "?action=role.grant").get_data(as_text=True)
    rows = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert "<code>role.grant</code>" in rows
    assert "<code>user.password_reset</code>" not in rows


def test_filter_by_action_of_another_community_shows_nothing(app, district):
    factories.audit(district.admin_b, district.b, action="stock.adjust")
    page = _audit(app, district.admin_a, "?action=stock.adjust").get_data(as_text=True)
    assert "Nothing recorded yet." in page
    assert "冯主任" not in page


def test_community_parameter_outside_own_scope_is_ignored(app, district):
    factories.audit(district.admin_b, district.b, action="stock.adjust")
    page = _audit(app, district.admin_a, f"?community={district.b.id}").get_data(as_text=True)
    assert "stock.adjust" not in page


def test_entries_about_a_user_show_the_masked_phone_only(app, district):
    factories.audit(
        district.admin_a, district.a, action="user.set_active", object_id=district.resident_a.id, object_type="User"
    )
    page = _audit(app, district.admin_a).get_data(as_text=True)
    assert "张三" in page
    assert district.resident_a.masked_phone in page
    assert district.resident_a.phone not in page


def test_before_and_after_are_shown(app, district):
    factories.audit(
        district.admin_a, district.a, action="user.set_active", before={"active": True}, after={"active": False}
    )
    page = _audit(app, district.admin_a).get_data(as_text=True)
    assert 'before: {"active": true}' in page
    assert 'after: {"active": false}' in page


def test_street_organiser_sees_its_streets_communities(app, district):
    factories.audit(district.admin_a, district.a, action="in.a")
    factories.audit(district.admin_b, district.b, action="in.b")
    factories.audit(None, district.c, action="in.c")
    page = _audit(app, district.organiser_a).get_data(as_text=True)
    assert "in.a" in page and "in.b" in page
    assert "in.c" not in page


def test_resident_and_steward_get_403(app, district):
    assert _audit(app, district.resident_a).status_code == 403
    assert _audit(app, district.steward_a).status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get("/audit")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_audit_log_pages(app, district):
    from flask import current_app

    size = current_app.config["PAGE_SIZE"]
    for i in range(size + 3):
        factories.audit(district.admin_a, district.a, action=f"bulk.{i:03d}")
    client = app.test_client()
    english(client)
    login(client, district.admin_a)
    first = client.get("/audit").get_data(as_text=True)
    second = client.get("/audit?page=2")
    assert second.status_code == 200
    second = second.get_data(as_text=True)
    rows = second.split("<tbody>", 1)[1]
    # newest first: the three oldest are on page two
    assert "<code>bulk.000</code>" in rows and "<code>bulk.002</code>" in rows
    assert f"<code>bulk.{size + 2:03d}</code>" not in rows
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
