"""The employer contact's page, exports and letters: its own staff only, in every format."""

import csv
import io
import zipfile

import openpyxl
import pypdf
import pytest
from sqlalchemy import func, select

from volunteer.accounts.models import Role
from volunteer.extensions import db
from volunteer.letters import documents, periods
from volunteer.letters.models import Document

from .. import factories
from ..conftest import text
from .factories import generate, served, this_quarter

EXPORTS = ("/letters/employer/report.csv", "/letters/employer/report.xlsx", "/letters/employer/letters.zip")


@pytest.fixture
def staffed(district):
    """member_a (unit_a, community a) and member_b (unit_b, community b) served; both have letters."""
    d = district
    served(d.member_a, d.a, 3)
    served(d.member_b, d.b, 5)
    generate(d.a, d.admin_a)
    generate(d.b, d.admin_b)
    d.letter_a = documents.live_letter(d.a.id, d.member_a.id, this_quarter())
    d.letter_b = documents.live_letter(d.b.id, d.member_b.id, this_quarter())
    return d


def _q(**extra) -> str:
    args = {"period": this_quarter().key, **extra}
    return "?" + "&".join(f"{k}={v}" for k, v in args.items())


def _zip(response) -> zipfile.ZipFile:
    assert response.status_code == 200 and response.mimetype == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.data))


def _pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_the_page_shows_the_staffs_period_status_and_letters(staffed, browse):
    d = staffed
    response = browse(d.employer_a).get("/letters/employer" + _q())
    page = text(response)
    assert response.status_code == 200
    assert "王党员" in page and "东一社区" in page and "data-services>3<" in page
    assert "3/12" in page and f'href="/letters/employer/letters/{d.letter_a.id}.pdf"' in page
    assert "All 1 letter as ZIP" in page
    assert text(browse(d.employer_a).get("/letters/employer" + _q(unit=""))).count("data-member=") == 1


def test_the_default_period_is_last_quarter(staffed, browse):
    page = text(browse(staffed.employer_a).get("/letters/employer"))
    last = periods.last_quarter(this_quarter().start)
    assert f'<option value="{last.key}" selected>' in page


def test_nothing_about_another_units_staff_anywhere(staffed, browse):
    d = staffed
    client = browse(d.employer_a)
    outsider = (d.member_b.name, d.letter_b.number, d.b.name, d.unit_b.name)
    for period in (this_quarter().key, str(this_quarter().year)):
        page = text(client.get(f"/letters/employer?period={period}"))
        assert not any(value in page for value in outsider)
        csv_text = client.get(f"/letters/employer/report.csv?period={period}").data.decode("utf-8-sig")
        assert "王党员" in csv_text and not any(value in csv_text for value in outsider)
        book = openpyxl.load_workbook(io.BytesIO(client.get(f"/letters/employer/report.xlsx?period={period}").data))
        cells = " ".join(str(c.value) for row in book.active.iter_rows() for c in row)
        assert "王党员" in cells and not any(value in cells for value in outsider)
        archive = _zip(client.get(f"/letters/employer/letters.zip?period={period}"))
        assert archive.namelist() == [f"感谢函-王党员-{d.letter_a.number}.pdf"]
        assert not any(value in _pdf_text(archive.read(archive.namelist()[0])) for value in outsider)


def test_another_units_letter_or_a_certificate_is_missing(staffed, browse):
    d = staffed
    client = browse(d.employer_a)
    certificate = documents.issue_certificate(d.member_a, this_quarter().start, this_quarter().start)
    for document_id in (d.letter_b.id, certificate.id, 999_999):
        assert client.get(f"/letters/employer/letters/{document_id}.pdf").status_code == 404
    mine = client.get(f"/letters/employer/letters/{d.letter_a.id}.pdf")
    assert mine.status_code == 200 and mine.mimetype == "application/pdf"
    assert "attachment" in mine.headers["Content-Disposition"] and mine.headers["Cache-Control"] == "no-store"
    body = _pdf_text(mine.data)
    assert "王党员" in body and "3次" in body and d.letter_a.number in body


def test_another_unit_in_the_query_is_missing(staffed, browse):
    client = browse(staffed.employer_a)
    for unit in (staffed.unit_b.id, "abc", "-1", 999_999):
        for path in ("/letters/employer", *EXPORTS):
            assert client.get(path + _q(unit=unit)).status_code == 404, (path, unit)


def test_a_contact_of_two_units_chooses_one(staffed, browse):
    d = staffed
    factories.grant(d.employer_a, Role.EMPLOYER, unit_=d.unit_b)
    client = browse(d.employer_a)
    both = text(client.get("/letters/employer" + _q()))
    assert "王党员" in both and "赵党员" in both and "All my units" in both
    only_b = text(client.get("/letters/employer" + _q(unit=d.unit_b.id)))
    assert "赵党员" in only_b and "王党员" not in only_b
    archive = _zip(client.get("/letters/employer/letters.zip" + _q(unit=d.unit_a.id)))
    assert archive.namelist() == [f"感谢函-王党员-{d.letter_a.number}.pdf"]


def test_people_who_are_no_units_contact_are_refused(staffed, browse, client):
    d = staffed
    paths = ["/letters/employer", *EXPORTS, f"/letters/employer/letters/{d.letter_a.id}.pdf"]
    for user in (d.resident_a, d.member_a, d.admin_a, d.organiser_all):
        signed_in = browse(user)
        assert [signed_in.get(path).status_code for path in paths] == [403] * len(paths), user.name
    assert [client.get(path).status_code for path in paths] == [302] * len(paths)


def test_a_bad_period_is_a_clear_400(staffed, browse):
    client = browse(staffed.employer_a)
    for bad in ("2026-Q5", "1999", "abc", "2026-Q3;drop", "2026-Q0", "%00", "9" * 30):
        page = client.get(f"/letters/employer?period={bad}")
        assert page.status_code == 400 and "Choose a quarter such as 2026-Q3" in text(page)
        for path in EXPORTS:
            response = client.get(f"{path}?period={bad}")
            assert response.status_code == 400 and "Choose a quarter such as 2026-Q3" in text(response)


def test_csv_export(staffed, browse):
    response = browse(staffed.employer_a).get("/letters/employer/report.csv" + _q())
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.data.startswith("\ufeff".encode())
    header, row = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert header == ["Name", "Unit", "Community", "Verified services", "Hours"] + [
        "1112 status",
        "1112 services this year",
        "1112 target",
        "Letters",
    ]
    assert row == ["王党员", "东城供电局", "东一社区", "3", "6.0", "Behind", "3", "12", staffed.letter_a.number]
    assert staffed.member_a.phone not in response.data.decode("utf-8-sig")


def test_xlsx_export(staffed, browse):
    response = browse(staffed.employer_a).get("/letters/employer/report.xlsx" + _q())
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][0] == "Name" and len(rows) == 2
    assert rows[1] == ["王党员", "东城供电局", "东一社区", 3, 6, "Behind", 3, 12, staffed.letter_a.number]


def test_revoked_letters_are_listed_but_not_served_or_zipped(staffed, browse):
    d = staffed
    documents.revoke(d.letter_a, d.admin_a, "服务记录有误")
    client = browse(d.employer_a)
    page = text(client.get("/letters/employer" + _q()))
    assert d.letter_a.number in page and "Revoked" in page and "服务记录有误" not in page
    assert f"/letters/employer/letters/{d.letter_a.id}.pdf" not in page
    assert client.get(f"/letters/employer/letters/{d.letter_a.id}.pdf").status_code == 404
    empty = client.get("/letters/employer/letters.zip" + _q())
    assert empty.status_code == 200 and empty.mimetype == "text/html"
    assert "No letters to download" in text(empty)


def test_a_period_without_letters_gives_a_message_not_an_empty_zip(staffed, browse):
    client = browse(staffed.employer_a)
    before = db.session.scalar(select(func.count(Document.id)))
    response = client.get("/letters/employer/letters.zip?period=2025-Q1")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "No thank-you letters were issued to your unit for 2025-Q1" in text(response)
    page = text(client.get("/letters/employer?period=2025-Q1"))
    assert "No thank-you letters for this period yet." in page and "letters.zip" not in page
    assert db.session.scalar(select(func.count(Document.id))) == before
