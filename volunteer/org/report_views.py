"""双报到 pages: admins' per-community list, recording and cancelling; a member's own report; employers' staff."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from ..accounts.models import User
from ..accounts.services import find_by_phone
from ..core import permissions as perm
from ..core.errors import DomainError
from ..core.models import local_today
from ..core.pagination import community_arg, like, paginate, search_term, year_arg
from ..extensions import db
from . import access, services
from .forms import CancelReportForm, MyReportForm, ReportForm
from .models import Community, MemberReport, Unit
from .queries import community_choices
from .unit_views import unit_choices
from .views import FORM, bp, done, form_page, save


def by_name_or_phone(stmt, q: str, phone=True):
    if not q:
        return stmt
    name = User.name.like(like(q), escape="\\")
    return stmt.where(or_(name, User.phone.like(like(q), escape="\\")) if phone else name)


@bp.route("/reports")
@login_required
def reports():
    ids = access.admin_scope()
    year, error = year_arg()
    community = community_arg(ids)
    q = search_term()
    stmt = (
        select(MemberReport)
        .join(User, MemberReport.user_id == User.id)
        .where(MemberReport.year == year, MemberReport.community_id.in_({community} if community else ids))
    )
    page = paginate(by_name_or_phone(stmt, q).order_by(User.name, MemberReport.id))
    page_html = render_template(
        "org/reports.html",
        page=page,
        q=q,
        year=year,
        community=community,
        communities=community_choices(ids),
        error=error,
    )
    return page_html, 400 if error else 200


def _already_reported_elsewhere(form, user: User, year: int, ids: set[int]) -> None:
    """Say the member already reports, naming the community only if the admin covers it."""
    existing = db.session.scalar(select(MemberReport).where(MemberReport.user_id == user.id, MemberReport.year == year))
    if existing is not None and existing.community_id not in ids:
        form.phone.errors = [_("This member already reports to another community for %(year)d.", year=year)]


@bp.route("/reports/new", methods=FORM)
@login_required
def report_new():
    ids = access.admin_scope()
    form = ReportForm()
    form.community.choices = community_choices(ids)
    form.unit.choices = unit_choices()
    if form.validate_on_submit():
        member = find_by_phone(form.phone.data)
        if member is None:
            form.phone.errors = [_("No one is registered with this mobile number.")]
        else:
            community = db.session.get(Community, form.community.data)
            unit = db.session.get(Unit, form.unit.data)
            report = save(
                form,
                lambda: services.report_member(member, community, unit, form.year.data, current_user),
                {"not_member": "phone", "already_reported": "phone", "bad_year": "year"},
            )
            if report:
                message = _(
                    "%(name)s reports to %(community)s for %(year)d.",
                    name=member.name,
                    community=community.name,
                    year=report.year,
                )
                return done(message, "org.reports", community=community.id, year=report.year)
            _already_reported_elsewhere(form, member, form.year.data, ids)
    fields = ["phone", "community", "unit", "year"]
    return form_page(form, _("Record a member's report"), _("Record report"), url_for("org.reports"), fields)


@bp.route("/reports/<int:report_id>/cancel", methods=FORM)
@login_required
def report_cancel(report_id: int):
    report = access.get_managed(MemberReport, report_id)
    form = CancelReportForm()
    if form.validate_on_submit():
        community_id, year, name = report.community_id, report.year, report.user.name
        try:
            services.cancel_report(report, current_user, form.reason.data)
        except DomainError as err:
            if err.code != "already_cancelled":
                form.reason.errors = [*form.reason.errors, str(err.message)]
            else:  # someone else cancelled it a moment ago: nothing left to show here
                flash(str(err.message), "error")
                return redirect(url_for("org.reports", community=community_id, year=year), code=303)
        else:
            message = _("The report of %(name)s for %(year)d is cancelled.", name=name, year=year)
            return done(message, "org.reports", community=community_id, year=year)
    back = url_for("org.reports", community=report.community_id, year=report.year)
    title = _("Cancel a report")
    return form_page(form, title, _("Cancel report"), back, template="org/report_cancel.html", report=report)


@bp.route("/me/report", methods=FORM)
@login_required
def my_report():
    """A party member reports to a community for this year (once), and sees past years."""
    if not current_user.is_party_member:
        return render_template("org/not_member.html"), 403
    member = current_user._get_current_object()
    year = local_today().year
    form = MyReportForm()
    form.community.choices = community_choices()
    form.unit.choices = unit_choices()
    if not form.is_submitted() and member.building is not None:
        form.community.data = member.building.compound.community_id  # most serve where they live
    if form.validate_on_submit():
        community = db.session.get(Community, form.community.data)
        unit = db.session.get(Unit, form.unit.data)
        report = save(form, lambda: services.report_member(member, community, unit, year, member))
        if report:
            message = _("You report to %(community)s for %(year)d.", community=community.name, year=year)
            return done(message, "org.my_report")
    history = db.session.scalars(
        select(MemberReport).where(MemberReport.user_id == member.id).order_by(MemberReport.year.desc())
    ).all()
    current = next((r for r in history if r.year == year), None)
    page = render_template("org/my_report.html", form=form, year=year, report=current, history=history)
    return page, 400 if form.is_submitted() else 200


@bp.route("/staff")
@login_required
def staff():
    """An employer contact sees which of its staff report to a community, and nothing else."""
    units = perm.unit_ids(current_user)
    if not units:
        abort(403)
    year, error = year_arg()
    q = search_term()
    stmt = (
        select(MemberReport)
        .join(User, MemberReport.user_id == User.id)
        .where(MemberReport.unit_id.in_(units), MemberReport.year == year)
    )
    page = paginate(by_name_or_phone(stmt, q, phone=False).order_by(User.name, MemberReport.id))
    names = db.session.scalars(select(Unit.name).where(Unit.id.in_(units)).order_by(Unit.name)).all()
    page_html = render_template("org/staff.html", page=page, q=q, year=year, units=names, error=error)
    return page_html, 400 if error else 200
