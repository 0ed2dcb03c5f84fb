"""The volunteer's check-in page (scanned QR or typed code) and member cards: their own and the one a steward scans."""

from flask import Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ..core import qr
from ..core.models import local_today
from ..extensions import db, limiter
from . import activities as service
from . import cards, tracker
from . import checkin_codes as codes
from .access import (
    is_volunteer_of,
    resident_community_id,
    steward_community_ids,
    volunteer_community_ids,
)
from .activity_forms import (
    CodeForm,
    ModeForm,
    TokenForm,
)
from .activity_views import _hours, _try, clock, page
from .models import Activity, Signup
from .views import FORM, attempt, bp, done

# --- the volunteer checks in ---------------------------------------------------------------------


def _checked_in_message(found: Signup, mode: str) -> str:
    if mode == "in":
        return _("Checked in at %(time)s.", time=clock(found.checked_in_at))
    return _("Checked out: %(hours)s hours recorded, waiting for verification.", hours=_hours(found))


def _after_check(result):
    found, mode = result
    return done(_checked_in_message(found, mode), url_for("service.activity", activity_id=found.activity_id))


def _token_refusal(token: str):
    """Why a scanned token cannot be used (without changing anything), or None if it may be."""
    reading = codes.read_token(token)
    if not reading.valid or db.session.get(Activity, reading.activity_id) is None:
        return _l("This is not a valid check-in code.")
    if not reading.fresh:
        return _l("This code has expired. Scan the code on the screen now.")
    return None


@bp.route("/checkin", methods=FORM)
@login_required
@limiter.limit("30 per minute", methods=["POST"], key_func=lambda: str(current_user.get_id()))
def checkin():
    form = CodeForm()
    token = request.form.get("t") if request.method == "POST" else request.args.get("t")
    if token is not None:
        return _checkin_token(token)
    if form.validate_on_submit():
        result = attempt(form, lambda: service.check_by_code(current_user, form.code.data), {"invalid_code": "code"})
        if result:
            return _after_check(result)
    status = 400 if request.method == "POST" else 200
    return page("service/checkin.html", status, form=form)


def _checkin_token(token: str):
    """The phone camera opened the screen's QR: confirm (GET), then check in or out (POST)."""
    refusal = _token_refusal(token)
    if refusal is not None:
        flash(str(refusal), "error")
        return page("service/checkin.html", 400, form=CodeForm(formdata=None))
    if request.method == "GET":
        reading = codes.read_token(token)
        activity = db.session.get(Activity, reading.activity_id)
        if activity is None or not is_volunteer_of(current_user, activity.community_id):
            # Say nothing about another community's activity, even to someone holding its code.
            flash(_("This code is not for an activity of your community."), "error")
            return page("service/checkin.html", 400, form=CodeForm(formdata=None))
        return page("service/checkin_confirm.html", a=activity, mode=reading.mode, form=TokenForm(t=token))
    form = TokenForm()
    if form.validate_on_submit():
        result, _err = _try(lambda: service.check_by_token(current_user, form.t.data))
        if result:
            return _after_check(result)
    return page("service/checkin.html", 400, form=CodeForm(formdata=None))


# --- member cards --------------------------------------------------------------------------------


def _card_link(user) -> str:
    return url_for("service.card", token=cards.card_token(user), _external=True)


@bp.route("/card")
@login_required
def my_card():
    link = _card_link(current_user)
    return page(
        "service/my_card.html",
        svg=qr.svg(link, _("My member card")),
        token=cards.card_token(current_user),
    )


@bp.route("/card.png")
@login_required
def my_card_png():
    response = Response(qr.png(_card_link(current_user)), mimetype="image/png")
    response.headers["Content-Disposition"] = 'attachment; filename="member-card.png"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _shared_communities(member) -> set[int]:
    """Communities the viewer runs where the member serves or lives."""
    theirs = volunteer_community_ids(member) | ({resident_community_id(member)} - {None})
    return steward_community_ids(current_user) & theirs


def card_page(member, status: int = 200):
    ids = steward_community_ids(current_user)
    today = local_today()
    progress = tracker.progress(member, today.year, today)
    if progress is not None and progress.community.id not in ids:
        progress = None  # their 1112 count belongs to a community this steward does not run
    return page(
        "service/card.html",
        status,
        member=member,
        progress=progress,
        signups=cards.current_signups(member, ids),
        token=cards.card_token(member),
        form=ModeForm(formdata=None),
    )


@bp.route("/card/<token>")
@login_required
def card(token: str):
    member = cards.card_user(token)
    if member is None:
        abort(404)
    if member.id == current_user.id:
        return redirect(url_for("service.my_card"))
    if not _shared_communities(member):
        abort(404)
    return card_page(member)
