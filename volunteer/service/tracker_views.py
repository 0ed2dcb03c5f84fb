"""1112 pages: a volunteer's own service trail (服务轨迹), a member's trail for stewards, the tracker and its CSV,
and the community's points rule.
"""

import csv
import io
import math
from dataclasses import dataclass
from datetime import date

from flask import Response, abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import case, func, select

from ..accounts.models import Role, User
from ..core import permissions as perm
from ..core.models import local_today
from ..core.pagination import MAX_PAGE, community_arg, paginate, year_arg
from ..core.phone import mask
from ..extensions import db
from ..ledger.csv_export import BOM, _safe
from ..org.models import Community, MemberReport, Unit
from ..org.queries import community_choices
from . import records, tracker
from .access import assigned_community_id, steward_community_ids, volunteer_community_ids
from .models import TARGET, ServiceRecord
from .policy import save_policy
from .record_forms import PolicyForm
from .views import FORM, attempt, bp, done

EXAMPLE_MINUTES = 90  # the points rule page shows what 1.5 hours earn
POLICY_FIELDS = {
    "bad_per_hour": "points_per_hour",
    "bad_per_service": "points_per_service",
    "no_points": "points_per_service",
}


# --- trails -----------------------------------------------------------------------------------------


def _in_year(year: int):
    return ServiceRecord.served_on.between(date(year, 1, 1), date(year, 12, 31))


def _trail_statement(user_id: int, year: int, community_ids=None):
    stmt = select(ServiceRecord).where(ServiceRecord.volunteer_id == user_id, _in_year(year))
    if community_ids is not None:
        stmt = stmt.where(ServiceRecord.community_id.in_(community_ids))
    return stmt.order_by(ServiceRecord.served_on.desc(), ServiceRecord.id.desc())


def _totals(user_id: int, year: int, community_ids=None) -> dict:
    """Verified services, hours (of which checked and entered) and points of the year."""
    verified = ServiceRecord.status == "verified"
    stmt = select(
        func.sum(case((verified, 1), else_=0)),
        func.sum(case((verified, ServiceRecord.minutes), else_=0)),
        records.checked_minutes_sum(),
        func.sum(case((verified, ServiceRecord.points), else_=0)),
    ).where(ServiceRecord.volunteer_id == user_id, _in_year(year))
    if community_ids is not None:
        stmt = stmt.where(ServiceRecord.community_id.in_(community_ids))
    services, minutes, checked, points = (value or 0 for value in db.session.execute(stmt).one())
    return {
        "services": services,
        "hours": round(minutes / 60, 1),
        "checked_hours": round(checked / 60, 1),
        "entered_hours": round((minutes - checked) / 60, 1),
        "points": points,
    }


def _trail_page(template: str, member: User, year: int, error, community_ids=None, progress=None):
    page = paginate(_trail_statement(member.id, year, community_ids))
    context = {"member": member, "page": page, "year": year, "error": error, "progress": progress}
    context["totals"] = _totals(member.id, year, community_ids)
    return render_template(template, target=TARGET, **context), 400 if error else 200


@bp.route("/trail")
@login_required
def trail():
    year, error = year_arg()
    progress = tracker.progress(current_user, year, local_today())
    return _trail_page("service/trail.html", current_user, year, error, progress=progress)


@bp.route("/members/<int:user_id>/trail")
@login_required
def member_trail(user_id: int):
    ids = steward_community_ids(current_user)
    if not ids:
        abort(403)
    member = db.session.get(User, user_id)
    if member is None:
        abort(404)
    has_records = db.session.scalar(
        select(ServiceRecord.id).where(ServiceRecord.volunteer_id == member.id, ServiceRecord.community_id.in_(ids))
    )
    if has_records is None and not (volunteer_community_ids(member) & ids):
        abort(404)
    year, error = year_arg()
    progress = None
    if assigned_community_id(member, year) in ids:
        progress = tracker.progress(member, year, local_today())
    return _trail_page("service/member_trail.html", member, year, error, community_ids=ids, progress=progress)


# --- the 1112 tracker -------------------------------------------------------------------------------


@dataclass
class ListPage:
    """A page of an already computed list, shaped like Flask-SQLAlchemy's pagination for the pager macro."""

    items: list
    page: int
    pages: int
    total: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def page_of(items: list) -> ListPage:
    size = current_app.config["PAGE_SIZE"]
    number = request.args.get("page", 1, type=int) or 1
    if number > MAX_PAGE:
        abort(404)
    pages = max(1, math.ceil(len(items) / size))
    number = min(max(number, 1), pages)
    return ListPage(items[(number - 1) * size : number * size], number, pages, len(items))


def _unit_choices(ids: set[int], year: int) -> list[tuple[int, str]]:
    stmt = (
        select(Unit.id, Unit.name)
        .join(MemberReport, MemberReport.unit_id == Unit.id)
        .where(MemberReport.community_id.in_(ids), MemberReport.year == year)
        .distinct()
        .order_by(Unit.name, Unit.id)
    )
    return [(uid, name) for uid, name in db.session.execute(stmt)]


def _tracker_filters() -> dict:
    """The viewer's communities and the filters of the query string; 403 for non-staff, 404 for others' places."""
    ids = steward_community_ids(current_user)
    if not ids:
        abort(403)
    year, error = year_arg()
    community = community_arg(ids)
    units = _unit_choices(ids, year)
    unit = request.args.get("unit", type=int)
    if request.args.get("unit") and unit not in {uid for uid, _name in units}:
        abort(404)
    return {
        "ids": ids,
        "year": year,
        "error": error,
        "community": community,
        "unit": unit,
        "units": units,
        "behind": request.args.get("behind") == "1",
        "by_unit": request.args.get("by") == "unit",
    }


def _tracker_rows(f: dict) -> tuple[list, list]:
    """(all rows matching community and unit, the rows to list after the 'behind' filter)."""
    found = tracker.rows(
        f["year"],
        local_today(),
        community_ids={f["community"]} if f["community"] else f["ids"],
        unit_ids=[f["unit"]] if f["unit"] else None,
    )
    return found, [r for r in found if not r.on_pace] if f["behind"] else found


def _by_unit(found: list) -> list[dict]:
    groups: dict[int, dict] = {}
    for row in found:
        group = groups.setdefault(row.unit.id, {"unit": row.unit, "members": 0, "behind": []})
        group["members"] += 1
        if not row.on_pace:
            group["behind"].append(row)
    return sorted(groups.values(), key=lambda g: (-len(g["behind"]), g["unit"].name))


@bp.route("/tracker", endpoint="tracker")
@login_required
def tracker_page():
    f = _tracker_filters()
    found, shown = _tracker_rows(f)
    args = {k: v for k, v in request.args.items() if k in ("year", "community", "unit", "behind", "by") and v}
    context = {
        "f": f,
        "summary": tracker.summary(found),
        "page": page_of(shown),
        "groups": _by_unit(found) if f["by_unit"] else None,
        "communities": community_choices(f["ids"]),
        "args": args,
        "target": TARGET,
        "expected": tracker.expected_by(f["year"], local_today()),
    }
    return render_template("service/tracker.html", **context), 400 if f["error"] else 200


def _status_text(row) -> str:
    if row.done:
        return _("Done")
    return _("On pace") if row.on_pace else _("Behind")


@bp.route("/tracker.csv")
@login_required
def tracker_csv():
    f = _tracker_filters()
    _found, shown = _tracker_rows(f)
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer)
    writer.writerow(
        [_("Name"), _("Phone"), _("Unit"), _("Community"), _("Verified"), _("Target"), _("Pending")]
        + [_("Hours"), _("Checked hours"), _("Entered hours"), _("Status")]
    )
    for row in shown:
        writer.writerow(
            [_safe(row.user.name), mask(row.user.phone), _safe(row.unit.name), _safe(row.community.name)]
            + [row.verified, TARGET, row.pending, row.hours, row.checked_hours, row.entered_hours, _status_text(row)]
        )
    filename = f"tracker-{f['year']}-{local_today().isoformat()}.csv"
    return Response(
        buffer.getvalue().encode("utf-8"),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


# --- the points rule --------------------------------------------------------------------------------


@bp.route("/communities/<int:community_id>/policy", methods=FORM)
@login_required
def policy(community_id: int):
    ids = perm.require_any_role(Role.ADMIN)
    community = db.session.get(Community, community_id)
    if community is None or community.id not in ids:
        abort(404)
    current = records.policy_for(community.id)
    form = PolicyForm(obj=current)
    if form.validate_on_submit():
        saved = attempt(
            form,
            lambda: save_policy(current_user, community.id, form.points_per_hour.data, form.points_per_service.data),
            POLICY_FIELDS,
        )
        if saved:
            message = _("The points rule is saved. It applies to services verified from now on.")
            return done(message, url_for("service.policy", community_id=community.id))
    example = records.points_for(records.policy_for(community.id), EXAMPLE_MINUTES)
    page = render_template("service/policy.html", form=form, community=community, example=example)
    return page, 400 if request.method == "POST" else 200
