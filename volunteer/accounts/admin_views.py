"""Community admin's user pages (search, roles, password reset) and the steward's desk registration."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import exists, or_, select

from ..core import permissions as perm
from ..core.errors import DomainError
from ..core.pagination import like, paginate, search_term
from ..core.roles_display import role_label
from ..extensions import db, limiter
from ..org.models import Building, Compound
from ..org.queries import community_choices, compound_choices
from . import services
from .forms import DeskRegisterForm, GrantRoleForm, ResetPasswordForm
from .models import Role, RoleGrant, User
from .views import fill_building_choices, submit_registration

bp = Blueprint("users", __name__, url_prefix="/admin/users")


def users_in(community_ids: set[int]):
    """Users who hold a role in, or live in, any of these communities."""
    holds_role = exists().where(RoleGrant.user_id == User.id, RoleGrant.community_id.in_(community_ids))
    lives_here = exists().where(
        Building.id == User.building_id,
        Building.compound_id == Compound.id,
        Compound.community_id.in_(community_ids),
    )
    return select(User).where(or_(holds_role, lives_here))


def _admin_communities() -> set[int]:
    return perm.require_any_role(Role.ADMIN)


def _user_in_scope(user_id: int) -> tuple[User, set[int]]:
    """The user, if the admin covers a community the user belongs to; 404 otherwise."""
    ids = _admin_communities()
    user = db.session.scalar(users_in(ids).where(User.id == user_id))
    if user is None:
        abort(404)
    return user, ids


# Roles with power over others: an account holding one outside the admin's communities is not theirs to take over.
STAFF_ROLES = {Role.COLLECTOR, Role.COUNCIL, Role.STEWARD, Role.ADMIN, Role.EMPLOYER, Role.ORGANISER}


def _require_power_over(user: User, ids: set[int]) -> None:
    """403 unless every staff role of `user` lies in the admin's communities.

    Without this an admin of one community could reset the password of (and so log in as)
    an admin of another community, or an organiser, who happens to live in theirs.
    """
    if perm.is_district_organiser(current_user):
        return
    if any(g.role in STAFF_ROLES and g.community_id not in ids for g in user.roles):
        abort(403)


def _shared_community(user: User, ids: set[int]) -> int:
    """The admin's community that this user belongs to, for the audit entry."""
    mine = {g.community_id for g in user.roles if g.community_id in ids}
    if user.building and user.building.community_id in ids:
        mine.add(user.building.community_id)
    return min(mine)


@bp.route("/")
@login_required
def index():
    ids = _admin_communities()
    q = search_term()
    stmt = users_in(ids)
    role = request.args.get("role", "")
    if q:
        stmt = stmt.where(or_(User.name.like(like(q), escape="\\"), User.phone.like(like(q), escape="\\")))
    if role in Role.ALL:
        stmt = stmt.where(
            exists().where(RoleGrant.user_id == User.id, RoleGrant.role == role, RoleGrant.community_id.in_(ids))
        )
    page = paginate(stmt.order_by(User.name, User.id))
    roles = [(r, role_label(r)) for r in Role.COMMUNITY]
    return render_template("accounts/users.html", page=page, q=q, role=role, roles=roles, ids=ids)


@bp.route("/<int:user_id>")
@login_required
def detail(user_id: int):
    user, ids = _user_in_scope(user_id)
    grant_form = _grant_form(ids)
    return render_template(
        "accounts/user.html",
        user=user,
        grants=user.roles,
        ids=ids,
        grant_form=grant_form,
        reset_form=ResetPasswordForm(),
    )


def _grant_form(ids: set[int]) -> GrantRoleForm:
    form = GrantRoleForm()
    form.role.choices = [(r, role_label(r)) for r in Role.COMMUNITY]
    form.community.choices = community_choices(ids)
    form.compound.choices = [(0, _("Whole community"))] + compound_choices(ids)
    return form


@bp.route("/<int:user_id>/roles", methods=["POST"])
@login_required
def grant(user_id: int):
    user, ids = _user_in_scope(user_id)
    form = _grant_form(ids)
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
        return redirect(url_for("users.detail", user_id=user.id), code=303)
    perm.require_role(form.community.data, Role.ADMIN)
    services.grant_role(
        user,
        form.role.data,
        current_user,
        community_id=form.community.data,
        compound_id=form.compound.data or None,
    )
    flash(_("Role granted."), "success")
    return redirect(url_for("users.detail", user_id=user.id), code=303)


@bp.route("/<int:user_id>/roles/<int:grant_id>/revoke", methods=["POST"])
@login_required
def revoke(user_id: int, grant_id: int):
    user, ids = _user_in_scope(user_id)
    grant = db.session.get(RoleGrant, grant_id)
    if grant is None or grant.user_id != user.id or grant.community_id not in ids:
        abort(404)
    services.revoke_role(grant, current_user)
    flash(_("Role removed."), "success")
    return redirect(url_for("users.detail", user_id=user.id), code=303)


@bp.route("/<int:user_id>/password", methods=["POST"])
@login_required
def reset_password(user_id: int):
    user, ids = _user_in_scope(user_id)
    _require_power_over(user, ids)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(user, form.password.data, current_user, _shared_community(user, ids))
        except DomainError as err:
            flash(str(err.message), "error")
        else:
            flash(_("Password reset. Tell %(name)s the new password in person.", name=user.name), "success")
    else:
        for message in form.password.errors:
            flash(str(message), "error")
    return redirect(url_for("users.detail", user_id=user.id), code=303)


@bp.route("/<int:user_id>/active", methods=["POST"])
@login_required
def set_active(user_id: int):
    user, ids = _user_in_scope(user_id)
    _require_power_over(user, ids)
    choice = request.form.get("active")
    if choice not in ("0", "1"):
        flash(_("Choose whether to enable or disable the account."), "error")
        return redirect(url_for("users.detail", user_id=user.id), code=303)
    services.set_active(user, choice == "1", current_user, _shared_community(user, ids))
    flash(_("Account updated."), "success")
    return redirect(url_for("users.detail", user_id=user.id), code=303)


@bp.route("/desk/register", methods=["GET", "POST"])
@login_required
@limiter.limit("60 per minute", methods=["POST"], key_func=lambda: str(current_user.get_id()))
def desk_register():
    """A steward registers a resident who has no smartphone or needs help."""
    ids = perm.require_any_role(Role.STEWARD, Role.ADMIN)
    form = DeskRegisterForm()
    fill_building_choices(form, ids)
    if form.validate_on_submit():
        user = submit_registration(form, actor=current_user)
        if user:
            flash(
                _("%(name)s is registered and can log in with %(phone)s.", name=user.name, phone=user.masked_phone),
                "success",
            )
            return redirect(url_for("users.desk_register"), code=303)
    return render_template("accounts/desk_register.html", form=form), 400 if form.errors else 200
