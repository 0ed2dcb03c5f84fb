"""Points pages: a member's own points, the community ledger with CSV, adjustments, reversals,
star ratings (ranking, one member's rating) and the community's points policy."""

import math
import uuid
from dataclasses import dataclass

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..accounts.models import Role, User
from ..accounts.services import find_by_phone
from ..core import permissions as perm
from ..core.errors import DomainError
from ..core.models import local_today
from ..core.pagination import MAX_PAGE, community_arg, paginate, search_term, year_arg
from ..extensions import db
from ..org.models import Community
from . import csv_export, queries, services, stars
from .expiry import expiring_soon, policy_for
from .forms import EXPIRY_LABELS, AdjustForm, PolicyForm, ReverseForm
from .models import KINDS, LedgerEntry
from .policies import save_policy

bp = Blueprint("ledger", __name__)
FORM = ("GET", "POST")
RESIDENT_TOP = 20


# --- helpers --------------------------------------------------------------------------------------


def _admin_community(community_id: int) -> Community:
    """A community the user administers (or organises): 403 for non-admins, 404 for others'."""
    perm.require_login()
    ids = perm.community_ids(current_user, Role.ADMIN)
    if not ids:
        abort(403)
    community = db.session.get(Community, community_id)
    if community is None or community.id not in ids:
        abort(404)
    return community


def _form_page(template: str, **context):
    status = 400 if request.method == "POST" else 200
    return render_template(template, **context), status


@dataclass
class ListPage:
    """The pager macro's view of a list already in memory."""

    items: list
    page: int
    pages: int
    total: int

    @property
    def has_prev(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages

    @property
    def prev_num(self):
        return self.page - 1

    @property
    def next_num(self):
        return self.page + 1


def _list_page(items: list, per_page: int) -> ListPage:
    page = request.args.get("page", 1, type=int) or 1
    if page > MAX_PAGE:
        abort(404)
    page = max(page, 1)
    start = (page - 1) * per_page
    return ListPage(items[start : start + per_page], page, max(1, math.ceil(len(items) / per_page)), len(items))


@bp.app_template_global()
def points_summary(user) -> list[dict]:
    """Available points and this year's stars per community, for the home page card."""
    if not user or not user.is_authenticated:
        return []
    year = local_today().year
    out = []
    for community in queries.communities(queries.member_community_ids(user)):
        account = services.find_account(user.id, community.id)
        out.append(
            {
                "community": community,
                "available": account.available if account else 0,
                "rating": stars.rating(user.id, community.id, year),
            }
        )
    return out


# --- a member's own points ------------------------------------------------------------------------


@bp.route("/points")
@login_required
def my_points():
    mine = queries.communities(queries.member_community_ids(current_user))
    chosen = community_arg({c.id for c in mine})
    community = next((c for c in mine if c.id == chosen), mine[0] if mine else None)
    if community is None:
        return render_template("ledger/points.html", community=None, communities=[])
    account = services.find_account(current_user.id, community.id)
    today = local_today()
    history = None
    if account is not None:
        stmt = select(LedgerEntry).where(LedgerEntry.account_id == account.id)
        history = paginate(stmt.order_by(LedgerEntry.at.desc(), LedgerEntry.id.desc()))
    return render_template(
        "ledger/points.html",
        community=community,
        communities=mine,
        account=account,
        history=history,
        expiring=expiring_soon(account, today) if account else [],
        rating=stars.rating(current_user.id, community.id, today.year),
        year=today.year,
        kinds=queries.KIND_LABELS,
        source_label=queries.source_label,
        source_link=queries.source_link,
    )


# --- the community ledger -------------------------------------------------------------------------


@bp.route("/ledger")
@login_required
def index():
    ids = perm.community_ids(current_user, Role.ADMIN)
    if not ids:
        abort(403)
    page = paginate(select(Community).where(Community.id.in_(ids)).order_by(Community.name, Community.id))
    return render_template("ledger/index.html", page=page)


@bp.route("/communities/<int:community_id>/ledger")
@login_required
def community_ledger(community_id: int):
    community = _admin_community(community_id)
    f = queries.parse_filter(request.args, search_term())
    if f.errors:
        page, totals, reversed_ids = None, queries.Totals(), set()
    else:
        page = paginate(queries.newest_first(queries.entries_in(community.id, f)))
        totals = queries.totals(community.id, f)
        reversed_ids = queries.reversed_ids([e.id for e in page.items])
    page_html = render_template(
        "ledger/community.html",
        community=community,
        f=f,
        page=page,
        totals=totals,
        held_now=queries.held_in(community.id),
        reversed_ids=reversed_ids,
        kinds=queries.KIND_LABELS,
        kind_order=KINDS,
        source_label=queries.source_label,
        source_link=queries.source_link,
    )
    return page_html, 400 if f.errors else 200


@bp.route("/communities/<int:community_id>/ledger.csv")
@login_required
def ledger_csv(community_id: int):
    community = _admin_community(community_id)
    f = queries.parse_filter(request.args, search_term())
    if f.errors:
        raise DomainError("bad_filter", " ".join(f.errors))
    filename = f"ledger-{community.id}-{local_today().isoformat()}.csv"
    return Response(
        csv_export.stream(community.id, f),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@bp.route("/communities/<int:community_id>/adjust", methods=FORM)
@login_required
def adjust(community_id: int):
    community = _admin_community(community_id)
    form = AdjustForm()
    if request.method == "GET":
        form.token.data = str(uuid.uuid4())
    elif form.validate_on_submit():
        done = _submit_adjustment(form, community)
        if done is not None:
            return done
    return _form_page("ledger/adjust.html", form=form, community=community)


def _submit_adjustment(form: AdjustForm, community: Community):
    """Call the service; a refusal becomes a message on the form (None), success a redirect."""
    user = find_by_phone(form.phone.data)
    if user is None or not queries.belongs_to(user, community.id):
        form.phone.errors.append(_("Nobody with this number lives in or holds a role in this community."))
        return None
    key = f"adjust:{form.token.data}"
    back = redirect(url_for("ledger.community_ledger", community_id=community.id), code=303)
    if db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.idempotency_key == key)):
        flash(_("This adjustment was already recorded; it was not applied twice."), "info")
        return back
    try:
        services.adjust_points(user, community.id, form.points.data, form.reason.data, current_user, key)
    except DomainError as err:
        db.session.rollback()
        form.form_errors.append(str(err.message))
        return None
    account = services.find_account(user.id, community.id)
    flash(
        _(
            "%(points)+d points for %(name)s recorded. Available now: %(available)d.",
            points=form.points.data,
            name=user.name,
            available=account.available,
        ),
        "success",
    )
    return back


@bp.route("/ledger/entries/<int:entry_id>/reverse", methods=FORM)
@login_required
def reverse(entry_id: int):
    perm.require_login()
    entry = db.session.get(LedgerEntry, entry_id)
    if entry is None:
        abort(404)
    community = _admin_community(entry.account.community_id)
    form = ReverseForm()
    refusal = None
    if entry.kind == "reversal":
        refusal = _("A reversal cannot itself be reversed.")
    elif entry.id in queries.reversed_ids([entry.id]):
        refusal = _("This entry has already been reversed.")
    if request.method == "POST" and refusal:
        form.form_errors.append(refusal)
    elif form.validate_on_submit():
        try:
            services.reverse_entry(entry, current_user, form.reason.data)
        except DomainError as err:
            db.session.rollback()
            form.form_errors.append(str(err.message))
        else:
            flash(_("Entry #%(id)d reversed.", id=entry.id), "success")
            return redirect(url_for("ledger.community_ledger", community_id=community.id), code=303)
    return _form_page(
        "ledger/reverse.html",
        form=form,
        entry=entry,
        community=community,
        refusal=refusal,
        kinds=queries.KIND_LABELS,
        source_label=queries.source_label,
    )


# --- star ratings ---------------------------------------------------------------------------------


@bp.route("/communities/<int:community_id>/ranking")
@login_required
def ranking(community_id: int):
    """Admins and organisers see everyone, paginated; members of the community the top 20."""
    perm.require_login()
    community = db.session.get(Community, community_id)
    if community is None:
        abort(404)
    is_admin = perm.has_role(current_user, community.id, Role.ADMIN)
    if not is_admin and community.id not in queries.member_community_ids(current_user):
        abort(404)
    year, error = year_arg()
    ratings = stars.ranking(community.id, year)
    if not is_admin:
        ratings = ratings[:RESIDENT_TOP]
    page = _list_page(ratings, 50 if is_admin else RESIDENT_TOP)
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_([r.user_id for r in page.items])))}
    first = (page.page - 1) * (50 if is_admin else RESIDENT_TOP)
    return render_template(
        "ledger/ranking.html",
        community=community,
        page=page,
        first=first,
        users=users,
        year=year,
        error=error,
        is_admin=is_admin,
        policy=policy_for(community.id),
    ), (400 if error else 200)


@bp.route("/communities/<int:community_id>/members/<int:user_id>")
@login_required
def member(community_id: int, user_id: int):
    """One member's points and star rating in the admin's community."""
    community = _admin_community(community_id)
    user = db.session.scalar(queries.members_of(community.id).where(User.id == user_id))
    if user is None and services.find_account(user_id, community.id) is not None:
        user = db.session.get(User, user_id)  # moved away, but still has points here
    if user is None:
        abort(404)
    year, error = year_arg()
    account = services.find_account(user.id, community.id)
    recent = []
    if account is not None:
        stmt = select(LedgerEntry).where(LedgerEntry.account_id == account.id)
        recent = db.session.scalars(stmt.order_by(LedgerEntry.at.desc(), LedgerEntry.id.desc()).limit(20)).all()
    return render_template(
        "ledger/member.html",
        community=community,
        member=user,
        account=account,
        rating=stars.rating(user.id, community.id, year),
        year=year,
        error=error,
        recent=recent,
        kinds=queries.KIND_LABELS,
        source_label=queries.source_label,
    ), (400 if error else 200)


@bp.route("/communities/<int:community_id>/points-policy", methods=FORM)
@login_required
def policy(community_id: int):
    community = _admin_community(community_id)
    current = policy_for(community.id)
    form = PolicyForm()
    if request.method == "GET":
        form.expiry_mode.data = current.expiry_mode
        form.full_score_points.data = current.full_score_points
        for name, value in zip(PolicyForm.STARS, sorted(current.star_thresholds)[:4], strict=False):
            form[name].data = value
    elif form.validate_on_submit():
        try:
            save_policy(
                community.id,
                current_user,
                expiry_mode=form.expiry_mode.data,
                full_score_points=form.full_score_points.data,
                thresholds=form.thresholds,
            )
        except DomainError as err:
            db.session.rollback()
            form.form_errors.append(str(err.message))
        else:
            flash(_("Points policy of %(name)s saved.", name=community.name), "success")
            return redirect(url_for("ledger.ranking", community_id=community.id), code=303)
    return _form_page("ledger/policy.html", form=form, community=community, expiry_labels=EXPIRY_LABELS)
