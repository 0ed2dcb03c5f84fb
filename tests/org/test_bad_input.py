"""Every organisation form: bad input gets 400 with a message and leaves the database untouched."""

import pytest
from sqlalchemy import select

from volunteer.extensions import db

from .. import factories
from .conftest import text

TEXT_BAD = [
    "",
    "   ",
    "长" * 201,
    "<script>alert(1)</script>",
    "evil\u202etxt.exe",  # right-to-left override
    "a\x00b",
    "零\u200b宽",  # zero-width space
    "\ue000",  # private use
]


def _party_member(d):
    if not hasattr(d, "new_member"):
        d.new_member = factories.resident(d.building_a, name="新党员", party_member=True)
    return d.new_member


# name, who, url, valid data, {field: [bad values]}
FORMS = [
    (
        "street_new",
        "organiser_all",
        lambda d: "/org/streets/new",
        lambda d: {"name": "北街道", "district": "成华区"},
        {"name": TEXT_BAD, "district": TEXT_BAD[2:]},
    ),
    (
        "street_edit",
        "organiser_all",
        lambda d: f"/org/streets/{d.street_a.id}/edit",
        lambda d: {"name": "东门街道", "district": ""},
        {"name": TEXT_BAD, "district": ["<b>", "x" * 81]},
    ),
    (
        "community_new",
        "organiser_all",
        lambda d: "/org/communities/new",
        lambda d: {"street": d.street_b.id, "name": "西二社区", "address": "西路", "phone": "028-1234567"},
        {
            "street": ["", "abc", "999999", "1" * 40],
            "name": TEXT_BAD,
            "address": TEXT_BAD[2:],
            "phone": ["call me", "1" * 31, "<1234567>", "12\x003456"],
        },
    ),
    (
        "community_edit",
        "organiser_a",
        lambda d: f"/org/communities/{d.a.id}/edit",
        lambda d: {"name": "东一新社区", "address": "", "phone": ""},
        {"name": TEXT_BAD, "phone": ["abc"]},
    ),
    (
        "compound_new",
        "admin_a",
        lambda d: f"/org/communities/{d.a.id}/compounds/new",
        lambda d: {"name": "新网格", "kind": "grid"},
        {"name": TEXT_BAD, "kind": ["", "house", "<grid>"]},
    ),
    (
        "compound_edit",
        "admin_a",
        lambda d: f"/org/compounds/{d.compound_a.id}/edit",
        lambda d: {"name": "幸福家园", "kind": "compound"},
        {"name": TEXT_BAD, "kind": ["tower"]},
    ),
    (
        "building_new",
        "admin_a",
        lambda d: f"/org/compounds/{d.compound_a.id}/buildings/new",
        lambda d: {"name": "8栋"},
        {"name": TEXT_BAD},
    ),
    (
        "building_edit",
        "admin_a",
        lambda d: f"/org/buildings/{d.building_a.id}/edit",
        lambda d: {"name": "一栋"},
        {"name": TEXT_BAD},
    ),
    (
        "unit_new",
        "admin_a",
        lambda d: "/org/units/new",
        lambda d: {
            "name": "新单位",
            "contact_person": "刘",
            "contact_email": "a@b.cn",
            "contact_phone": "",
            "address": "",
        },
        {
            "name": TEXT_BAD,
            "contact_person": TEXT_BAD[2:],
            "contact_email": ["not-an-email", "a@", "<a@b.cn>", "a" * 120 + "@b.cn"],
            "contact_phone": ["call me", "1" * 21],
        },
    ),
    (
        "unit_edit",
        "admin_a",
        lambda d: f"/org/units/{d.unit_a.id}/edit",
        lambda d: {"name": "东城电力", "contact_email": ""},
        {"name": TEXT_BAD, "contact_email": ["x@"]},
    ),
    (
        "agreement_sign",
        "admin_a",
        lambda d: f"/org/communities/{d.a.id}/agreements",
        lambda d: {"unit": d.unit_b.id, "signed_on": "2026-03-01", "ends_on": "", "content": "共建"},
        {
            "unit": ["", "x", "999999", "9" * 30],
            "signed_on": ["", "2026-13-45", "yesterday", "1999-12-31", "<2026-03-01>"],
            "ends_on": ["2026-02-28", "2026-02-30", "2101-01-01"],
            "content": ["长" * 2001, "<script>alert(1)</script>", "a\x00b", "\u202e"],
        },
    ),
    (
        "report_new",
        "admin_a",
        lambda d: "/org/reports/new",
        lambda d: {"phone": _party_member(d).phone, "community": d.a.id, "unit": d.unit_a.id, "year": "2026"},
        {
            "phone": ["", "abc", "12345", "1" * 25, "<13800000000>"],
            "community": ["", "x", str(10**30)],
            "unit": ["", "999999"],
            "year": ["", "abc", "1999", "2101", "9" * 30, "2026.5"],
        },
    ),
    (
        "my_report",
        "new_member",
        lambda d: "/org/me/report",
        lambda d: {"community": d.a.id, "unit": d.unit_a.id},
        {"community": ["", "abc", "999999", "-1"], "unit": ["", "999999", "９９９"]},
    ),
]

CASES = [
    pytest.param(name, who, url, valid, field, values, id=f"{name}-{field}")
    for name, who, url, valid, fields in FORMS
    for field, values in fields.items()
]


def database_rows() -> dict:
    """Every row of every table: the proof that a refused form changed nothing."""
    db.session.expire_all()
    return {
        t.name: sorted(map(tuple, db.session.execute(select(t)).all()), key=repr) for t in db.metadata.sorted_tables
    }


def user_for(district, who):
    return _party_member(district) if who == "new_member" else getattr(district, who)


@pytest.mark.parametrize(("name", "who", "url", "valid", "field", "values"), CASES)
def test_bad_input_is_a_400_with_a_message_and_changes_nothing(browse, district, name, who, url, valid, field, values):
    client = browse(user_for(district, who))
    base = valid(district)
    before = database_rows()
    for bad in values:
        response = client.post(url(district), data=dict(base, **{field: bad}))
        assert response.status_code == 400, (bad, text(response)[:2000])
        page = text(response)
        assert 'class="error"' in page or "flash-error" in page, bad
        assert "<script>alert(1)</script>" not in page  # echoed back escaped, if at all
        assert database_rows() == before, bad


@pytest.mark.parametrize(("name", "who", "url", "valid"), [f[:4] for f in FORMS], ids=[f[0] for f in FORMS])
def test_the_valid_version_of_each_bad_input_case_is_accepted(browse, district, name, who, url, valid):
    """Guards the test above: each case differs from an accepted form by the one bad field."""
    client = browse(user_for(district, who))
    response = client.post(url(district), data=valid(district))
    assert response.status_code == 303, text(response)[:2000]


@pytest.mark.parametrize(
    "url",
    ["/org/communities/99999999999999999999999", "/org/units/99999999999999999999", "/org/reports/-1/cancel"],
)
def test_absurd_ids_are_404_not_500(browse, district, url):
    assert browse(district.organiser_all).get(url).status_code == 404


@pytest.mark.parametrize("endpoint", ["/org/streets", "/org/communities", "/org/units", "/org/reports"])
@pytest.mark.parametrize("q", ["a\x00b", "%", "_", "\\", "'; DROP TABLE users; --", "长" * 500, "\U0001f600"])
def test_odd_searches_never_fail(browse, district, endpoint, q):
    response = browse(district.organiser_all).get(endpoint, query_string={"q": q})
    assert response.status_code == 200
    assert "No " in text(response) and "match" in text(response)
