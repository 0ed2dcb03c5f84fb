"""Home page per role, language switch, audit log page, health check."""

from flask import Blueprint, abort, redirect, render_template, request, session
from flask_login import current_user, login_required
from sqlalchemy import func, select

from ..accounts.models import Role, RoleGrant, User
from ..exchange.home import exchange_home
from ..extensions import db
from ..org.models import Community, MemberReport
from ..service.home import service_home
from . import permissions as perm
from .audit import AuditEntry
from .models import local_today
from .pagination import paginate
from .redirects import safe_next

bp = Blueprint("core", __name__)


@bp.route("/")
def home():
    if not current_user.is_authenticated:
        return render_template("core/welcome.html")
    return render_template("core/home.html", **home_context(current_user))


def home_context(user) -> dict:
    """What each of the user's roles should do next, gathered for one page."""
    year = local_today().year
    report = db.session.scalar(select(MemberReport).where(MemberReport.user_id == user.id, MemberReport.year == year))
    admin_ids = perm.community_ids(user, Role.ADMIN)
    desk_ids = perm.community_ids(user, Role.STEWARD, Role.ADMIN)
    stats = {}
    for cid in sorted(admin_ids | desk_ids):
        community = db.session.get(Community, cid)
        stats[cid] = {
            "community": community,
            "residents": _count_role(cid, Role.RESIDENT),
            "volunteers": _count_role(cid, Role.VOLUNTEER),
            "reports": db.session.scalar(
                select(func.count(MemberReport.id)).where(MemberReport.community_id == cid, MemberReport.year == year)
            ),
        }
    return {
        "year": year,
        "report": report,
        "grants": user.roles,
        "admin_stats": [stats[c] for c in sorted(admin_ids)],
        "desk_stats": [stats[c] for c in sorted(desk_ids - admin_ids)],
        "collector_grants": [g for g in user.roles if g.role in Role.COMPOUND_SCOPED],
        "unit_ids": perm.unit_ids(user),
        "is_organiser": perm.is_organiser(user),
        **service_home(user),
        **exchange_home(user),
    }


def _count_role(community_id: int, role: str) -> int:
    return db.session.scalar(
        select(func.count(func.distinct(RoleGrant.user_id))).where(
            RoleGrant.community_id == community_id, RoleGrant.role == role
        )
    )


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code: str):
    if code not in ("zh_CN", "en"):
        abort(404)
    session["lang"] = code
    if current_user.is_authenticated:
        current_user.locale = code
        db.session.commit()
    return redirect(safe_next(request.form.get("next"), "/"), code=303)


@bp.route("/audit")
@login_required
def audit():
    ids = perm.require_any_role(Role.ADMIN)
    stmt = select(AuditEntry).where(AuditEntry.community_id.in_(ids))
    action = "".join(ch for ch in (request.args.get("action") or "")[:60] if ch.isprintable()).strip()
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    community = request.args.get("community", type=int)
    if community in ids:
        stmt = stmt.where(AuditEntry.community_id == community)
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.community_id.in_(ids)).distinct().order_by(AuditEntry.action)
    ).all()
    communities = db.session.scalars(select(Community).where(Community.id.in_(ids)).order_by(Community.name))
    page = paginate(stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()))
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(_object_users(page.items))))}
    return render_template(
        "core/audit.html",
        page=page,
        actions=actions,
        action=action,
        communities=list(communities),
        community=community,
        users=users,
    )


def _object_users(entries) -> set[int]:
    return {e.object_id for e in entries if e.object_type == "User" and e.object_id}


@bp.route("/healthz")
def healthz():
    db.session.execute(select(1))
    return {"status": "ok"}
