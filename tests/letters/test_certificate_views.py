"""A member's own service record certificate: asked for on a form, a verifiable PDF, theirs alone."""

import io
from datetime import date, timedelta

import pypdf
from sqlalchemy import func, select

from volunteer.accounts.models import Role
from volunteer.core.models import local_today
from volunteer.extensions import db
from volunteer.letters.models import Document

from .. import factories
from ..conftest import login, text
from ..core.apps import extra_app
from .factories import letter_for, served


def _count() -> int:
    return db.session.scalar(select(func.count(Document.id)))


def _pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def _ask(client, start, end):
    return client.post("/letters/certificate", data={"start": str(start), "end": str(end)})


def test_the_form_defaults_to_this_year_up_to_today(district, browse):
    page = text(browse(district.resident_a).get("/letters/certificate"))
    today = local_today()
    assert f'value="{today.year}-01-01"' in page and f'value="{today.isoformat()}"' in page
    assert f'max="{today.isoformat()}"' in page
    assert "You have not asked for a certificate yet." in page


def test_a_member_gets_a_pdf_with_every_communitys_services(district, browse):
    d = district
    served(d.member_a, d.a, 3)
    factories.grant(d.member_a, Role.VOLUNTEER, community_=d.b)
    served(d.member_a, d.b, 2)
    client = browse(d.member_a)
    today = local_today()
    response = _ask(client, today - timedelta(days=30), today)
    assert response.status_code == 303 and response.headers["Location"].endswith("/letters/certificate")
    certificate = db.session.scalar(select(Document).where(Document.kind == "certificate"))
    assert (certificate.user_id, certificate.facts["services"]) == (d.member_a.id, 5)
    page = text(client.get("/letters/certificate"))
    assert f"Your certificate {certificate.number} is ready." in page
    assert f"/letters/certificates/{certificate.id}.pdf" in page and f"/v/{certificate.number}" in page
    download = client.get(f"/letters/certificates/{certificate.id}.pdf")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert "attachment" in download.headers["Content-Disposition"]
    body = _pdf_text(download.data)
    assert "王党员" in body and "5次" in body and certificate.number in body
    assert "东一社区（3次）" in body and "东二社区（2次）" in body


def test_anyone_logged_in_may_ask_even_without_services(district, browse):
    response = _ask(browse(district.employer_a), date(local_today().year, 1, 1), local_today())
    assert response.status_code == 303
    certificate = db.session.scalar(select(Document).where(Document.kind == "certificate"))
    assert certificate.user_id == district.employer_a.id and certificate.facts["services"] == 0


def test_the_services_rules_are_shown_on_the_form_and_nothing_is_made(district, browse):
    client = browse(district.member_a)
    today = local_today()
    cases = [
        (today, today - timedelta(days=1), "The start date must not be after the end date."),
        (today, today + timedelta(days=1), "The end date cannot be in the future."),
        (date(2001, 1, 1), date(2015, 1, 1), "A certificate covers at most ten years."),
        (date(1999, 12, 31), today, "Choose a date between 2000 and 2100."),
        ("2026-02-30", today, "Not a valid date value."),
        ("", today, "This field is required."),
        ("<script>", "'; drop", "Not a valid date value."),
    ]
    for start, end, message in cases:
        response = _ask(client, start, end)
        assert response.status_code == 400, (start, end)
        assert message in text(response), (start, end)
        assert "<script>" not in text(response)
    assert _count() == 0


def test_only_the_member_gets_their_certificate(district, browse, client):
    d = district
    served(d.member_a, d.a, 2)
    _ask(browse(d.member_a), date(local_today().year, 1, 1), local_today())
    certificate = db.session.scalar(select(Document).where(Document.kind == "certificate"))
    letter = letter_for(d.member_a, d.a, d.admin_a)
    for user in (d.member_b, d.admin_a, d.employer_a, d.organiser_all):
        assert browse(user).get(f"/letters/certificates/{certificate.id}.pdf").status_code == 404
        assert certificate.number not in text(browse(user).get("/letters/certificate"))
    mine = browse(d.member_a)
    assert mine.get(f"/letters/certificates/{letter.id}.pdf").status_code == 404  # a letter is not a certificate
    assert mine.get("/letters/certificates/999999.pdf").status_code == 404
    assert client.get(f"/letters/certificates/{certificate.id}.pdf").status_code == 302
    assert client.get("/letters/certificate").status_code == 302


def test_earlier_certificates_are_listed_newest_first(district, browse):
    client = browse(district.member_a)
    today = local_today()
    _ask(client, date(today.year, 1, 1), today)
    _ask(client, date(today.year - 1, 1, 1), date(today.year - 1, 12, 31))
    numbers = list(db.session.scalars(select(Document.number).order_by(Document.id.desc())))
    page = text(client.get("/letters/certificate")).partition("My certificates")[2]
    assert len(numbers) == 2 and page.index(numbers[0]) < page.index(numbers[1])
    assert f"{today.year - 1}-01-01 – {today.year - 1}-12-31" in page


def test_asking_is_rate_limited_per_member(app, district):
    d = district
    with extra_app(app, RATELIMIT_ENABLED=True, CERTIFICATE_RATE_LIMIT="2 per hour") as limited:
        first, second = limited.test_client(), limited.test_client()
        login(first, d.member_a)
        login(second, d.resident_a)
        today = local_today()
        codes = [_ask(first, today, today).status_code for _ in range(3)]
        assert codes == [303, 303, 429] and _count() == 2
        assert first.get("/letters/certificate").status_code == 200  # the list still opens
        assert _ask(second, today, today).status_code == 303  # another member has their own budget
