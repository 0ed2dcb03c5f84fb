"""Indicator catalogue pages for community admins (and organisers covering the community)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from ..accounts.models import Role
from ..core import permissions as perm
from ..core.pagination import like, paginate, search_term
from ..extensions import db
from ..org.models import Community
from . import services
from .forms import PERIOD_LABELS, ActiveForm, IndicatorForm
from .models import Indicator
from .views import FORM, attempt, bp


def _admin_scope() -> set[int]:
    return perm.require_any_role(Role.ADMIN)


def _fields(form) -> dict:
    return {
        "name": form.name.data,
        "description": form.description.data or "",
        "points": form.points.data,
        "evidence_required": bool(form.evidence_required.data),
        "max_awards": form.max_awards.data,
        "period": form.period.data,
    }


def _form_page(form, title, back, context):
    status = 400 if request.method == "POST" else 200
    return render_template("credit/indicator_form.html", form=form, title=title, back=back, context=context), status


@bp.route("/indicators")
@login_required
def indicators():
    ids = _admin_scope()
    community = request.args.get("community", type=int)
    if community is not None and community not in ids:
        abort(404)
    shown = {community} if community is not None else ids
    q = search_term()
    stmt = select(Indicator).where(Indicator.community_id.in_(shown))
    if q:
        stmt = stmt.where(
            or_(Indicator.name.like(like(q), escape="\\"), Indicator.description.like(like(q), escape="\\"))
        )
    page = paginate(stmt.order_by(Indicator.community_id, Indicator.active.desc(), Indicator.name, Indicator.id))
    communities = db.session.scalars(select(Community).where(Community.id.in_(ids)).order_by(Community.name)).all()
    return render_template(
        "credit/indicators.html", page=page, q=q, communities=communities, periods=PERIOD_LABELS, community=community
    )


@bp.route("/communities/<int:community_id>/indicators/new", methods=FORM)
@login_required
def indicator_new(community_id: int):
    _admin_scope()
    community = perm.get_in_community(Community, community_id, Role.ADMIN)
    form = IndicatorForm()
    if form.validate_on_submit():
        indicator = attempt(form, lambda: services.create_indicator(community.id, current_user, **_fields(form)))
        if indicator:
            flash(_("Indicator %(name)s created.", name=indicator.name), "success")
            return redirect(url_for("credit.indicators", community=community.id), code=303)
    return _form_page(form, _("New indicator"), url_for("credit.indicators"), community.name)


@bp.route("/indicators/<int:indicator_id>/edit", methods=FORM)
@login_required
def indicator_edit(indicator_id: int):
    _admin_scope()
    indicator = perm.get_in_community(Indicator, indicator_id, Role.ADMIN)
    form = IndicatorForm(obj=indicator)
    if form.validate_on_submit() and attempt(
        form, lambda: services.update_indicator(indicator, current_user, **_fields(form))
    ):
        flash(_("Indicator %(name)s saved. Points already awarded stay as they were.", name=indicator.name), "success")
        return redirect(url_for("credit.indicators", community=indicator.community_id), code=303)
    return _form_page(form, _("Edit indicator"), url_for("credit.indicators"), indicator.community.name)


@bp.route("/indicators/<int:indicator_id>/active", methods=["POST"])
@login_required
def indicator_active(indicator_id: int):
    _admin_scope()
    indicator = perm.get_in_community(Indicator, indicator_id, Role.ADMIN)
    form = ActiveForm()
    if not form.validate_on_submit():
        flash(_("Choose whether the indicator is active."), "error")
        return redirect(url_for("credit.indicators", community=indicator.community_id), code=303)
    services.set_indicator_active(indicator, form.active.data == "1", current_user)
    flash(_("Indicator %(name)s updated.", name=indicator.name), "success")
    return redirect(url_for("credit.indicators", community=indicator.community_id), code=303)
