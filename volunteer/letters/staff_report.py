"""An employer's staff report for a period: one row per member, as CSV and XLSX, and the period's letters as a ZIP.

A member's services and hours are their verified services in the community they report to for the
year (双报到), as their letter counts them, so the report and the letters agree. Every query is
limited to the 双报到 reports and letters of the units passed in: the caller passes only the
units the employer contact holds.
"""

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import and_, func, select
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..extensions import db
from ..ledger.csv_export import BOM, _safe
from ..org.models import Community, MemberReport, Unit
from ..service.models import TARGET, ServiceRecord
from . import facts, pdf
from .models import Document
from .periods import Period


@dataclass
class StaffRow:
    """One member of the employer's staff: their period's services and their 1112 standing for the year."""

    report: MemberReport
    services: int = 0
    minutes: int = 0
    tracker: dict = field(default_factory=dict)  # status, count, target, expected: as facts.status_1112
    letters: list[Document] = field(default_factory=list)

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)

    @property
    def live_letters(self) -> list[Document]:
        return [letter for letter in self.letters if not letter.revoked]


def unit_names(unit_ids: set[int]) -> list[tuple[int, str]]:
    stmt = select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids)).order_by(Unit.name)
    return [(unit_id, name) for unit_id, name in db.session.execute(stmt)]


def statement(unit_ids: set[int], year: int):
    """The 双报到 reports of the year from the units, by unit and name: the employer's staff."""
    return (
        select(MemberReport)
        .join(User, User.id == MemberReport.user_id)
        .join(Unit, Unit.id == MemberReport.unit_id)
        .join(Community, Community.id == MemberReport.community_id)
        .where(MemberReport.unit_id.in_(unit_ids), MemberReport.year == year)
        .options(joinedload(MemberReport.user), joinedload(MemberReport.unit), joinedload(MemberReport.community))
        .order_by(Unit.name, User.name, MemberReport.id)
    )


def all_reports(unit_ids: set[int], year: int) -> list[MemberReport]:
    return list(db.session.scalars(statement(unit_ids, year)).unique())


def _verified(report_ids: list[int], start: date, end: date) -> dict[int, tuple[int, int]]:
    """Per report: (count, minutes) of its member's verified services in its community between the dates."""
    if not report_ids or start > end:
        return {}
    stmt = (
        select(MemberReport.id, func.count(ServiceRecord.id), func.coalesce(func.sum(ServiceRecord.minutes), 0))
        .join(
            ServiceRecord,
            and_(
                ServiceRecord.volunteer_id == MemberReport.user_id,
                ServiceRecord.community_id == MemberReport.community_id,
            ),
        )
        .where(
            MemberReport.id.in_(report_ids),
            ServiceRecord.status == "verified",
            ServiceRecord.served_on.between(start, end),
        )
        .group_by(MemberReport.id)
    )
    return {report_id: (count, int(minutes)) for report_id, count, minutes in db.session.execute(stmt)}


def _letters_statement(unit_ids: set[int], period: Period, live_only: bool, user_ids=None):
    stmt = select(Document).where(
        Document.kind == "letter",
        Document.unit_id.in_(unit_ids),
        Document.period_start >= period.start,
        Document.period_end <= period.end,
    )
    if user_ids is not None:
        stmt = stmt.where(Document.user_id.in_(user_ids))
    return stmt.where(Document.revoked_at.is_(None)) if live_only else stmt


def period_letters(unit_ids: set[int], period: Period, *, live_only: bool = False, user_ids=None) -> list[Document]:
    """Letters to the units for periods within `period` (a year holds its quarters' letters too)."""
    stmt = _letters_statement(unit_ids, period, live_only, user_ids).order_by(Document.period_start, Document.id)
    return list(db.session.scalars(stmt))


def count_live_letters(unit_ids: set[int], period: Period) -> int:
    stmt = _letters_statement(unit_ids, period, True).with_only_columns(func.count())
    return db.session.scalar(stmt) or 0


def rows(reports: list[MemberReport], period: Period, today: date) -> list[StaffRow]:
    """The report rows of these members for the period; the 1112 standing as of today (or the year's end)."""
    ids = [report.id for report in reports]
    in_period = _verified(ids, period.start, period.end)
    as_of = min(today, date(period.year, 12, 31))
    in_year = _verified(ids, date(period.year, 1, 1), as_of)
    letters: dict[tuple[int, int], list[Document]] = {}
    units, members = {report.unit_id for report in reports}, {report.user_id for report in reports}
    for letter in period_letters(units, period, user_ids=members):
        letters.setdefault((letter.user_id, letter.unit_id), []).append(letter)
    found = []
    for report in reports:
        services, minutes = in_period.get(report.id, (0, 0))
        found.append(
            StaffRow(
                report,
                services,
                minutes,
                facts.standing(in_year.get(report.id, (0, 0))[0], period.year, as_of),
                letters.get((report.user_id, report.unit_id), []),
            )
        )
    return found


# --- exports --------------------------------------------------------------------------------------


def table(found: list[StaffRow], status_labels: dict[str, str]) -> tuple[list[str], list[list]]:
    """Header and rows for the CSV and XLSX files: names, counts and letter numbers, never phone numbers."""
    header = [_("Name"), _("Unit"), _("Community"), _("Verified services"), _("Hours")]
    header += [_("1112 status"), _("1112 services this year"), _("1112 target"), _("Letters")]
    body = [
        [row.report.user.name, row.report.unit.name, row.report.community.name, row.services, row.hours]
        + [status_labels.get(row.tracker["status"], row.tracker["status"]), row.tracker["count"], TARGET]
        + [" ".join(letter.number for letter in row.live_letters)]
        for row in found
    ]
    return header, body


def csv_bytes(header: list[str], body: list[list]) -> bytes:
    """UTF-8 with a BOM, so Excel reads the Chinese names; text cells cannot start a formula."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer)
    writer.writerow(header)
    for values in body:
        writer.writerow([_safe(v) if isinstance(v, str) else v for v in values])
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(header: list[str], body: list[list], title: str) -> bytes:
    """One sheet, a bold frozen header; every text cell stored as text, so "=..." is never a formula."""
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append(header)
    for values in body:
        sheet.append(values)
    for cells in sheet.iter_rows():
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, name in enumerate(header, start=1):
        widest = max([len(str(name))] + [len(str(values[index - 1])) for values in body])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(widest * 2, 10), 60)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def letters_zip(letters: list[Document]) -> bytes:
    """The letters as PDFs in one ZIP, each named as its download is (title, name, number)."""
    settings: dict[int | None, object] = {}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for letter in letters:
            if letter.community_id not in settings:
                settings[letter.community_id] = pdf.settings_for(letter.community_id)
            archive.writestr(pdf.filename(letter), pdf.render(letter, settings[letter.community_id]))
    return buffer.getvalue()
