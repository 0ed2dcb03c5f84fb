"""The employer contact's pages: its staff's service report for a period, the letters, a ZIP, CSV and XLSX.

Everything is limited to the units the contact holds (perm.unit_ids); a unit or letter of another
employer is a 404, and a user who is no unit's contact is refused (403).
"""

import io

from flask import Response, abort, render_template, request, send_file
from flask_login import current_user, login_required

from ..core import permissions as perm
from ..core.errors import DomainError
from ..core.models import local_today
from ..core.pagination import paginate
from ..extensions import db
from . import pdf, periods, staff_report
from .models import Document
from .views import TRACKER_LABELS, bp


def _units() -> set[int]:
    units = perm.unit_ids(current_user)
    if not units:
        abort(403)
    return units


def _filters(*, strict: bool) -> dict:
    """The contact's units, the chosen unit (404 if not theirs) and period; a bad period raises when strict."""
    units = _units()
    choices = staff_report.unit_names(units)
    raw_unit = (request.args.get("unit") or "").strip()
    unit = None
    if raw_unit:
        if not (raw_unit.isascii() and raw_unit.isdigit()) or int(raw_unit) not in units:
            abort(404)
        unit = int(raw_unit)
    today, error = local_today(), None
    raw_period = (request.args.get("period") or "").strip()
    try:
        period = periods.parse(raw_period) if raw_period else periods.last_quarter(today)
    except DomainError as err:
        if strict:
            raise
        period, error = periods.last_quarter(today), str(err.message)
    shown = {unit} if unit else units
    args = {"period": period.key, **({"unit": unit} if unit else {})}
    return {"units": choices, "unit": unit, "shown": shown, "period": period, "error": error, "args": args}


def _period_choices(period: periods.Period) -> list[periods.Period]:
    found = periods.recent(local_today())
    return found if period in found else [period, *found]


def _status_labels() -> dict[str, str]:
    return {status: str(label) for status, (label, _kind) in TRACKER_LABELS.items()}


def _export_name(f: dict, extension: str) -> str:
    return f"staff-{f['period'].key}-{local_today().isoformat()}.{extension}"


def download(data: bytes, mimetype: str, name: str) -> Response:
    """An attachment that no shared cache keeps (it names people); send_file encodes a Chinese name."""
    response = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/employer", endpoint="employer")
@login_required
def employer_page():
    f = _filters(strict=False)
    page = paginate(staff_report.statement(f["shown"], f["period"].year))
    found = staff_report.rows(list(page.items), f["period"], local_today())
    live = staff_report.count_live_letters(f["shown"], f["period"])
    context = {"f": f, "page": page, "rows": found, "letters": live, "choices": _period_choices(f["period"])}
    return render_template("letters/employer/index.html", **context), 400 if f["error"] else 200


def _table(f: dict):
    reports = staff_report.all_reports(f["shown"], f["period"].year)
    return staff_report.table(staff_report.rows(reports, f["period"], local_today()), _status_labels())


@bp.route("/employer/report.csv", endpoint="employer_csv")
@login_required
def employer_csv():
    f = _filters(strict=True)
    data = staff_report.csv_bytes(*_table(f))
    return download(data, "text/csv", _export_name(f, "csv"))


@bp.route("/employer/report.xlsx", endpoint="employer_xlsx")
@login_required
def employer_xlsx():
    f = _filters(strict=True)
    data = staff_report.xlsx_bytes(*_table(f), title=f["period"].key)
    mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return download(data, mimetype, _export_name(f, "xlsx"))


@bp.route("/employer/letters.zip", endpoint="employer_zip")
@login_required
def employer_zip():
    f = _filters(strict=True)
    letters = staff_report.period_letters(f["shown"], f["period"], live_only=True)
    if not letters:
        return render_template("letters/employer/no_letters.html", f=f)
    name = f"letters-{f['period'].key}.zip"
    return download(staff_report.letters_zip(letters), "application/zip", name)


@bp.route("/employer/letters/<int:document_id>.pdf", endpoint="employer_letter")
@login_required
def employer_letter(document_id: int):
    units = _units()
    letter = db.session.get(Document, document_id)
    if letter is None or letter.kind != "letter" or letter.unit_id not in units or letter.revoked:
        abort(404)
    return download(pdf.render(letter), "application/pdf", pdf.filename(letter))
