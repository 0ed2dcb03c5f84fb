"""Login, logout, self-registration on the phone, and password change."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..core.errors import DomainError
from ..core.redirects import safe_next
from ..extensions import db, limiter
from ..org.models import Building
from ..org.queries import building_choices
from . import services
from .forms import LoginForm, PasswordChangeForm, RegisterForm

bp = Blueprint("accounts", __name__)


def _login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


def _register_limit():
    return current_app.config["REGISTER_RATE_LIMIT"]


def _safe_next(target: str | None) -> str:
    return safe_next(target, url_for("core.home"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.phone.data, form.password.data)
        except DomainError as err:
            form.form_errors.append(str(err.message))
        else:
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form), 200 if not form.errors else 400


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("accounts.login"))


def fill_building_choices(form, community_ids=None) -> None:
    form.building.choices = building_choices(community_ids)


def submit_registration(form, actor=None):
    """Shared by self-registration and the steward's desk: returns the user or None."""
    building = db.session.get(Building, form.building.data)
    try:
        return services.register_resident(
            phone=form.phone.data,
            name=form.name.data,
            password=form.password.data,
            building=building,
            party_member=form.party_member.data,
            actor=actor,
        )
    except DomainError as err:
        field = form.phone if err.code == "phone_taken" else form.password
        field.errors = [*field.errors, str(err.message)]
        return None


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_register_limit, methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = RegisterForm()
    fill_building_choices(form)
    if form.validate_on_submit():
        user = submit_registration(form)
        if user:
            login_user(user)
            flash(_("Welcome, %(name)s. Your account is ready.", name=user.name), "success")
            return redirect(url_for("core.home"))
    status = 400 if form.errors else 200
    return render_template("accounts/register.html", form=form), status


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current.data, form.password.data)
        except DomainError as err:
            target = form.current if err.code == "bad_password" else form.password
            target.errors = [*target.errors, str(err.message)]
        else:
            login_user(current_user._get_current_object())  # stay logged in with the new session version
            flash(_("Your password has been changed. Other devices are logged out."), "success")
            return redirect(url_for("core.home"))
    return render_template("accounts/password.html", form=form), 400 if form.errors else 200
