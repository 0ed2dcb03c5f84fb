"""The employer's staff report as a service: what counts, the 1112 standing, the letters, the CSV, XLSX and ZIP."""

import csv
import io
import zipfile
from datetime import date, timedelta

import openpyxl
import pypdf

from volunteer.accounts.models import Role
from volunteer.core.models import local_today
from volunteer.extensions import db
from volunteer.letters import documents, facts, periods, staff_report
from volunteer.service import records

from .. import factories
from .factories import generate, letter_for, served, this_quarter

LABELS = {"done": "Done", "on_pace": "On pace", "behind": "Behind", "none": "None"}


def _rows(units, period=None):
    period = period or this_quarter()
    return staff_report.rows(staff_report.all_reports(units, period.year), period, local_today())


def _previous_quarter_day() -> date:
    return this_quarter().start - timedelta(days=1)


def test_services_count_verified_ones_in_the_reported_community_within_the_period(district):
    d = district
    served(d.member_a, d.a, 3, minutes=90)
    factories.grant(d.member_a, Role.VOLUNTEER, community_=d.b)
    served(d.member_a, d.b, 2)  # another community: not in the letter, not in the report
    served(d.member_a, d.a, 1, on=_previous_quarter_day())  # before the period
    steward = factories.staff(Role.STEWARD, d.a)
    records.enter_for(steward, d.member_a, d.a.id, day=local_today(), minutes=60, kind="other", description="待核")
    [row] = _rows({d.unit_a.id})
    assert (row.report.user_id, row.services, row.minutes, row.hours) == (d.member_a.id, 3, 270, 4.5)
    expected = facts.service_totals(d.member_a.id, this_quarter().start, this_quarter().end, d.a.id)
    assert (row.services, row.minutes) == (expected["services"], expected["minutes"])


def test_standing_is_the_one_the_letters_print(district):
    d = district
    served(d.member_a, d.a, 4)
    served(d.member_a, d.a, 1, on=_previous_quarter_day())
    quiet = factories.resident(d.building_a, name="钱党员", party_member=True)
    factories.report(quiet, d.a, d.unit_a)
    today = local_today()
    for period in (this_quarter(), periods.whole_year(today.year)):
        for row in _rows({d.unit_a.id}, period):
            assert row.tracker == facts.status_1112(row.report.user_id, period.year, today)
    by_user = {row.report.user_id: row for row in _rows({d.unit_a.id})}
    assert by_user[d.member_a.id].tracker["count"] == 5 and by_user[quiet.id].services == 0


def test_a_past_year_is_judged_at_its_end():
    assert facts.standing(12, 2020, date(2020, 12, 31))["status"] == "done"
    assert facts.standing(11, 2020, date(2020, 12, 31))["status"] == "behind"
    assert facts.standing(0, 2020, date(2020, 1, 5))["status"] == "on_pace"


def test_only_the_units_staff_and_letters(district):
    d = district
    served(d.member_a, d.a, 2)
    served(d.member_b, d.b, 2)
    generate(d.a, d.admin_a)
    generate(d.b, d.admin_b)
    found = _rows({d.unit_a.id})
    assert [row.report.user_id for row in found] == [d.member_a.id]
    assert [letter.user_id for letter in found[0].letters] == [d.member_a.id]
    letters = staff_report.period_letters({d.unit_a.id}, this_quarter())
    assert {letter.unit_id for letter in letters} == {d.unit_a.id}


def test_a_year_holds_its_quarters_letters_and_live_only_drops_revoked(district):
    d = district
    served(d.member_a, d.a, 2)
    letter = letter_for(d.member_a, d.a, d.admin_a)
    year = periods.whole_year(this_quarter().year)
    assert staff_report.period_letters({d.unit_a.id}, year) == [letter]
    other_quarter = periods.last_quarter(this_quarter().start)
    assert staff_report.period_letters({d.unit_a.id}, other_quarter) == []
    documents.revoke(letter, d.admin_a, "数字有误")
    assert staff_report.period_letters({d.unit_a.id}, year, live_only=True) == []
    assert staff_report.count_live_letters({d.unit_a.id}, year) == 0
    [row] = _rows({d.unit_a.id})
    assert row.letters == [letter] and row.live_letters == []


def test_csv_has_a_bom_and_never_starts_a_formula(district):
    d = district
    d.member_a.name = "=HYPERLINK(1)"
    db.session.commit()
    served(d.member_a, d.a, 2)
    data = staff_report.csv_bytes(*staff_report.table(_rows({d.unit_a.id}), LABELS))
    assert data.startswith("\ufeff".encode())
    header, row = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(header) == len(row) == 9 and row[0] == "'=HYPERLINK(1)"
    assert row[3:6] == ["2", "4.0", "Behind"]
    assert d.member_a.phone not in data.decode("utf-8-sig")


def test_xlsx_stores_names_as_text(district):
    d = district
    d.member_a.name = "=1+1"
    db.session.commit()
    served(d.member_a, d.a, 2)
    letter = letter_for(d.member_a, d.a, d.admin_a)
    data = staff_report.xlsx_bytes(*staff_report.table(_rows({d.unit_a.id}), LABELS), title="2026-Q4")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[1][:5] == ["=1+1", "东城供电局", "东一社区", 2, 4]
    assert sheet["A2"].data_type == "s" and values[1][-1] == letter.number
    assert sheet.title == "2026-Q4" and sheet.freeze_panes == "A2"


def test_zip_holds_each_letter_as_pdf(district):
    d = district
    served(d.member_a, d.a, 3)
    letter = letter_for(d.member_a, d.a, d.admin_a)
    archive = zipfile.ZipFile(io.BytesIO(staff_report.letters_zip([letter])))
    [name] = archive.namelist()
    assert name == f"感谢函-王党员-{letter.number}.pdf"
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(archive.read(name))).pages)
    assert "王党员" in text and "3次" in text
