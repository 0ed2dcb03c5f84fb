"""The public verification page: a real, an unknown and a revoked number; key facts only; rate limited."""

from datetime import date

from volunteer.core.models import local_today
from volunteer.letters import documents

from ..conftest import english, text
from ..core.apps import extra_app
from .factories import letter_for, served

UNKNOWN = "There is no document with"


def _page(client, url):
    response = client.get(url)
    return response, text(response)


def test_a_real_letter_shows_its_key_facts_to_anyone(district, client):
    d = district
    served(d.member_a, d.a, 4, minutes=90)
    letter = letter_for(d.member_a, d.a, d.admin_a)
    response, page = _page(english(client), f"/v/{letter.number}")
    assert response.status_code == 200
    assert 'data-state="valid"' in page and "This document is genuine and valid." in page
    assert "Thank-you letter to the employer" in page and f"data-number>{letter.number}<" in page
    assert "王党员" in page and "东城供电局" in page and "东一社区" in page and letter.period_label in page
    assert "data-services>4<" in page and "data-hours>6<" in page
    assert letter.issued_on.isoformat() in page
    assert "noindex" in response.headers["X-Robots-Tag"] and response.headers["Cache-Control"] == "no-store"


def test_nothing_beyond_the_key_facts(district, client):
    d = district
    served(d.member_a, d.a, 2)
    letter = letter_for(d.member_a, d.a, d.admin_a)
    page = text(client.get(f"/v/{letter.number}"))
    for private in (d.member_a.phone, d.unit_a.contact_phone, d.unit_a.contact_email, "为老服务1", d.admin_a.name):
        assert not private or private not in page, private


def test_a_revoked_letter_says_so_without_the_reason(district, client):
    d = district
    served(d.member_a, d.a, 2)
    letter = letter_for(d.member_a, d.a, d.admin_a)
    documents.revoke(letter, d.admin_a, "服务记录重复录入")
    response, page = _page(english(client), f"/v/{letter.number}")
    assert response.status_code == 200 and 'data-state="revoked"' in page
    assert f"This document was revoked on {local_today().isoformat()}." in page
    assert "genuine and valid" not in page and "服务记录重复录入" not in page


def test_unknown_and_malformed_numbers_are_a_clear_404(district, client):
    english(client)
    for number in ("GX2026-2345-6789", "ZM2026-ABCD-EFGH", "hello", "GX2026-OOOO-IIII", "a/b/c", "%E4%B8%AD" * 20):
        response, page = _page(client, f"/v/{number}")
        assert response.status_code == 404, number
        assert UNKNOWN in page and 'name="number"' in page
        assert "noindex" in response.headers["X-Robots-Tag"]
    response, page = _page(client, "/verify?number=GX2026-2345-6789")
    assert response.status_code == 404 and "There is no document with the number GX2026-2345-6789." in page


def test_what_is_typed_is_escaped(district, client):
    response, page = _page(english(client), "/verify?number=<script>alert(1)</script>")
    assert response.status_code == 404 and "<script>alert(1)" not in page and "&lt;script&gt;" in page


def test_typed_numbers_are_forgiven_and_lead_to_the_short_url(district, client):
    d = district
    served(d.member_a, d.a, 1)
    letter = letter_for(d.member_a, d.a, d.admin_a)
    typed = " " + letter.number.lower().replace("-", " ") + " "
    response = client.get("/verify", query_string={"number": typed})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/v/{letter.number}")
    assert client.get(f"/v/{letter.number.lower()}").status_code == 200


def test_the_lookup_form(district, client):
    response, page = _page(english(client), "/verify")
    assert response.status_code == 200 and 'name="number"' in page and UNKNOWN not in page
    assert client.get("/verify?number=%20%20").status_code == 200


def test_a_certificate_shows_its_communities_and_no_unit(district, client):
    d = district
    served(d.member_a, d.a, 3)
    certificate = documents.issue_certificate(d.member_a, date(local_today().year, 1, 1), local_today())
    response, page = _page(english(client), f"/v/{certificate.number}")
    assert response.status_code == 200 and "Service record certificate" in page
    assert "王党员" in page and "东一社区" in page and "data-services>3<" in page
    assert d.unit_a.name not in page and ">Unit<" not in page


def test_lookups_are_rate_limited_per_address_across_both_routes(app, district):
    with extra_app(app, RATELIMIT_ENABLED=True, VERIFY_RATE_LIMIT="3 per minute") as limited:
        client = limited.test_client()
        codes = [client.get(url).status_code for url in ("/verify", "/v/GX2026-2345-6789", "/verify?number=x")]
        assert codes == [200, 404, 404]
        refused = client.get("/v/GX2026-2345-6789")
        assert refused.status_code == 429 and "Retry-After" in refused.headers
        assert client.get("/verify").status_code == 429
        other = limited.test_client()
        other.environ_base["REMOTE_ADDR"] = "10.0.0.2"  # another address has its own budget
        assert other.get("/verify").status_code == 200
