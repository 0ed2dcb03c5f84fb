"""Activity pages: list and detail, publishing, sign-up, the steward's check-in screen and the roster."""

import time

from flask import abort, flash, jsonify, render_template, request, url_for
from flask_babel import format_datetime, format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..core import permissions as perm
from ..core import qr
from ..core.errors import DomainError
from ..core.models import aware, to_local, utcnow
from ..core.pagination import community_arg, paginate
from ..extensions import db
from ..org.models import Community
from . import activities as service
from . import cards
from . import checkin_codes as codes
from .access import (
    is_steward_of,
    is_volunteer_of,
    member_community_ids,
    steward_community_ids,
)
from .activity_forms import (
    ActionForm,
    ActivityForm,
    CancelActivityForm,
    CardForm,
    ModeForm,
)
from .models import Activity, Signup
from .views import CATEGORY_LABELS, FORM, attempt, bp, done, get_readable, get_stewarded

FIELD_OF = {
    "bad_title": "title",
    "bad_place": "place",
    "bad_category": "category",
    "bad_times": "end",
    "bad_places": "places",
    "bad_description": "description",
    "bad_reason": "reason",
}
METHOD_LABELS = {
    "qr": _l("Scanned the QR code"),
    "code": _l("Typed the code"),
    "card": _l("Member card scanned"),
    "steward": _l("By the steward"),
}
MODE_LABELS = {"in": _l("Check-in"), "out": _l("Check-out")}


# --- shared helpers ------------------------------------------------------------------------------


def span(activity) -> str:
    """When an activity runs, in local time: "2026-03-07 Sat 09:00–11:30"."""
    starts, ends = to_local(activity.starts_at), to_local(activity.ends_at)
    first = format_datetime(starts, "yyyy-MM-dd EEE HH:mm")
    last = format_time(ends, "HH:mm") if ends.date() == starts.date() else format_datetime(ends, "yyyy-MM-dd HH:mm")
    return f"{first}–{last}"


def clock(moment) -> str:
    return format_time(to_local(moment), "HH:mm") if moment else ""


def page(template: str, status: int = 200, **context):
    helpers = {"span": span, "clock": clock, "methods": METHOD_LABELS, "modes": MODE_LABELS}
    return render_template(template, **helpers, **context), status


def _try(action):
    """Run a service call; a refusal is flashed and returned so the caller re-renders with its status."""
    try:
        return action(), None
    except DomainError as err:
        db.session.rollback()
        flash(str(err.message), "error")
        return None, err


def _is_on(activity, now=None) -> bool:
    """Check-in and check-out are open: from 30 minutes before the start to 30 minutes after the end."""
    now = now or utcnow()
    starts, ends = aware(activity.starts_at), aware(activity.ends_at)
    return activity.state == "open" and starts - service.EARLY <= now <= ends + service.LATE


def _signup_of(activity_id: int, user_id: int) -> Signup | None:
    stmt = select(Signup).where(Signup.activity_id == activity_id, Signup.volunteer_id == user_id)
    return db.session.scalar(stmt)


def _hours(signup) -> str:
    return f"{signup.record.hours:.1f}" if signup.record else ""


# --- the list and the detail ---------------------------------------------------------------------


@bp.route("/activities")
@login_required
def activities():
    ids = member_community_ids(current_user)
    if not ids:
        abort(403)
    community_id = community_arg(ids)
    when = "past" if request.args.get("when") == "past" else "upcoming"
    now = utcnow()
    stmt = select(Activity).where(Activity.community_id.in_([community_id] if community_id else ids))
    if when == "past":
        stmt = stmt.where(Activity.ends_at < now).order_by(Activity.starts_at.desc(), Activity.id.desc())
    else:
        stmt = stmt.where(Activity.ends_at >= now).order_by(Activity.starts_at, Activity.id)
    found = paginate(stmt)
    mine = {}
    if found.items:
        rows = select(Signup).where(
            Signup.volunteer_id == current_user.id, Signup.activity_id.in_([a.id for a in found.items])
        )
        mine = {s.activity_id: s for s in db.session.scalars(rows)}
    communities = db.session.scalars(select(Community).where(Community.id.in_(ids)).order_by(Community.name)).all()
    return page(
        "service/activities.html",
        page=found,
        mine=mine,
        when=when,
        community_id=community_id,
        communities=communities,
        can_publish=bool(steward_community_ids(current_user)),
    )


def _waiting(activity) -> list[Signup]:
    waiting = [s for s in activity.signups if s.state == "waiting"]
    return sorted(waiting, key=lambda s: (aware(s.queued_at), s.id))


def detail_page(activity, status: int = 200, **posted):
    now = utcnow()
    signup = _signup_of(activity.id, current_user.id)
    active = signup is not None and signup.state != "cancelled"
    waiting = _waiting(activity)
    is_open = activity.state == "open" and aware(activity.ends_at) > now
    steward = is_steward_of(current_user, activity.community_id)
    forms = {"cancel": CancelActivityForm(formdata=None)} if steward and activity.state == "open" else {}
    forms.update(posted)  # a refused form is shown again with its message, even if the state moved on
    return page(
        "service/activity.html",
        status,
        a=activity,
        signup=signup if active else None,
        position=waiting.index(signup) + 1 if active and signup.state == "waiting" else None,
        waiting=len(waiting),
        can_sign_up=is_open and not active and is_volunteer_of(current_user, activity.community_id),
        can_withdraw=active and signup.checked_in_at is None and aware(activity.starts_at) > now,
        can_check=active and signup.state == "confirmed" and signup.checked_out_at is None and _is_on(activity, now),
        steward=steward,
        forms=forms,
        hours=_hours(signup) if active else "",
    )


@bp.route("/activities/<int:activity_id>")
@login_required
def activity(activity_id: int):
    return detail_page(get_readable(Activity, activity_id))


# --- publishing ----------------------------------------------------------------------------------


def _steward_choices():
    ids = steward_community_ids(current_user)
    if not ids:
        abort(403)
    rows = db.session.scalars(select(Community).where(Community.id.in_(ids)).order_by(Community.name))
    return [(c.id, c.name) for c in rows]


@bp.route("/activities/new", methods=FORM)
@login_required
def activity_new():
    choices = _steward_choices()
    form = ActivityForm(communities=choices, categories=CATEGORY_LABELS)
    if request.method == "GET" and request.args.get("community", type=int) in dict(choices):
        form.community.data = request.args.get("community", type=int)
    if form.validate_on_submit():
        created = attempt(form, lambda: service.create(current_user, form.community.data, form.fields()), FIELD_OF)
        if created:
            return done(_("The activity is published."), url_for("service.activity", activity_id=created.id))
    status = 400 if request.method == "POST" else 200
    return page("service/activity_form.html", status, form=form, a=None)


@bp.route("/activities/<int:activity_id>/edit", methods=FORM)
@login_required
def activity_edit(activity_id: int):
    activity = get_stewarded(Activity, activity_id)
    starts, ends = to_local(activity.starts_at), to_local(activity.ends_at)
    form = ActivityForm(
        obj=activity, day=starts.date(), start=starts.time(), end=ends.time(), categories=CATEGORY_LABELS
    )
    del form.community  # an activity stays in its community
    if form.validate_on_submit():
        saved = attempt(form, lambda: service.update(current_user, activity_id, form.fields()), FIELD_OF)
        if saved:
            return done(_("The activity is saved."), url_for("service.activity", activity_id=activity_id))
        activity = get_stewarded(Activity, activity_id)
    status = 400 if request.method == "POST" else 200
    return page("service/activity_form.html", status, form=form, a=activity)


@bp.route("/activities/<int:activity_id>/cancel", methods=["POST"])
@login_required
def activity_cancel(activity_id: int):
    get_stewarded(Activity, activity_id)
    form = CancelActivityForm()
    if form.validate_on_submit() and attempt(
        form, lambda: service.cancel(current_user, activity_id, form.reason.data), FIELD_OF
    ):
        return done(_("The activity is cancelled."), url_for("service.activity", activity_id=activity_id))
    return detail_page(get_stewarded(Activity, activity_id), 400, cancel=form)


# --- sign-up -------------------------------------------------------------------------------------


@bp.route("/activities/<int:activity_id>/signup", methods=["POST"])
@login_required
def signup(activity_id: int):
    get_readable(Activity, activity_id)
    ActionForm().validate_on_submit()  # the CSRF token is checked before the view runs
    made, err = _try(lambda: service.sign_up(current_user, activity_id))
    if err:
        return detail_page(get_readable(Activity, activity_id), err.status)
    if made.state == "confirmed":
        message = _("You have a place. Check in on the day with the code on the steward's screen.")
    else:
        message = _("The activity is full: you are on the waiting list and move up if a place frees.")
    return done(message, url_for("service.activity", activity_id=activity_id))


def _signup_for(signup_id: int, *, steward_only: bool = False) -> Signup:
    """The sign-up, if it is the user's own (unless steward_only) or in a community they run; else 404."""
    perm.require_login()
    found = db.session.get(Signup, signup_id)
    if found is None:
        abort(404)
    own = found.volunteer_id == current_user.id and not steward_only
    if not own and not is_steward_of(current_user, found.activity.community_id):
        abort(404)
    return found


@bp.route("/signups/<int:signup_id>/cancel", methods=["POST"])
@login_required
def signup_cancel(signup_id: int):
    found = _signup_for(signup_id)
    activity_id, own = found.activity_id, found.volunteer_id == current_user.id
    ActionForm().validate_on_submit()
    _result, err = _try(lambda: service.cancel_signup(current_user, signup_id))
    if err:
        activity = db.session.get(Activity, activity_id)
        return detail_page(activity, err.status) if own else roster_page(activity, err.status)
    if own:
        return done(_("Your sign-up is cancelled."), url_for("service.activity", activity_id=activity_id))
    return done(_("The sign-up is cancelled."), url_for("service.roster", activity_id=activity_id))


# --- the steward's check-in screen ---------------------------------------------------------------


def _mode_arg() -> str:
    return "out" if request.args.get("mode") == "out" else "in"


def _checked_in(activity_id: int) -> int:
    stmt = select(func.count(Signup.id)).where(Signup.activity_id == activity_id, Signup.checked_in_at.is_not(None))
    return db.session.scalar(stmt)


def code_state(activity, mode: str) -> dict:
    """What the screen shows now: the QR of the signed token, the short code, and its countdown."""
    now = time.time()
    window = codes.window_at(now)
    link = url_for("service.checkin", t=codes.token(activity, mode, window), _external=True)
    label = _("Check-in code") if mode == "in" else _("Check-out code")
    return {
        "svg": qr.svg(link, label),
        "code": codes.short_code(activity, mode, window),
        "seconds_left": codes.seconds_left(now),
        "mode": mode,
        "checked_in": _checked_in(activity.id),
    }


@bp.route("/activities/<int:activity_id>/screen")
@login_required
def activity_screen(activity_id: int):
    activity = get_stewarded(Activity, activity_id)
    state = code_state(activity, _mode_arg())
    return page("service/activity_screen.html", a=activity, s=state, is_on=_is_on(activity))


@bp.route("/activities/<int:activity_id>/code")
@login_required
def activity_code(activity_id: int):
    activity = get_stewarded(Activity, activity_id)
    state = code_state(activity, _mode_arg())
    response = jsonify({**state, "svg": str(state["svg"])})
    response.headers["Cache-Control"] = "no-store"
    return response


# --- the roster ----------------------------------------------------------------------------------


def roster_page(activity, status: int = 200, card_form=None):
    stmt = (
        select(Signup)
        .where(Signup.activity_id == activity.id, Signup.state != "cancelled")
        .options(selectinload(Signup.volunteer), selectinload(Signup.record))
        .order_by(Signup.state, Signup.queued_at, Signup.id)  # "confirmed" sorts before "waiting"
    )
    found = paginate(stmt)
    record_links = {s.id: url_for("service.record", record_id=s.record.id) for s in found.items if s.record}
    return page(
        "service/roster.html",
        status,
        a=activity,
        page=found,
        card_form=card_form or CardForm(formdata=None),
        record_links=record_links,
        is_on=_is_on(activity),
    )


@bp.route("/activities/<int:activity_id>/roster")
@login_required
def roster(activity_id: int):
    return roster_page(get_stewarded(Activity, activity_id))


def _checked_message(found: Signup, mode: str) -> str:
    name = found.volunteer.name
    if mode == "in":
        return _("%(name)s checked in at %(time)s.", name=name, time=clock(found.checked_in_at))
    return _("%(name)s checked out: %(hours)s hours recorded.", name=name, hours=_hours(found))


@bp.route("/signups/<int:signup_id>/check", methods=["POST"])
@login_required
def roster_check(signup_id: int):
    found = _signup_for(signup_id, steward_only=True)
    activity_id = found.activity_id
    form = ModeForm()
    from .checkin_views import _shared_communities, card_page  # noqa: PLC0415 - that module imports this one

    # Sent from a member card's page: go back there, if the card is this volunteer's.
    member = cards.card_user(form.card.data) if form.card.data else None
    if member is not None and (member.id != found.volunteer_id or not _shared_communities(member)):
        member = None
    checked, err = None, None
    method = "card" if member is not None else "steward"  # the card was scanned: the member is here
    if form.validate_on_submit():
        checked, err = _try(lambda: service.check_by_steward(current_user, signup_id, form.mode.data, method))
    else:
        flash(_("Choose check-in or check-out."), "error")
    if checked:
        back = url_for("service.card", token=cards.card_token(member)) if member else None
        back = back or url_for("service.roster", activity_id=activity_id)
        return done(_checked_message(checked, form.mode.data), back)
    status = err.status if err else 400
    if member is not None:
        return card_page(member, status)
    return roster_page(db.session.get(Activity, activity_id), status)


@bp.route("/activities/<int:activity_id>/card", methods=["POST"])
@login_required
def roster_card(activity_id: int):
    get_stewarded(Activity, activity_id)
    form = CardForm()
    if form.validate_on_submit():
        member = cards.card_user(form.card.data)
        found = _signup_of(activity_id, member.id) if member else None
        if member is None:
            form.card.errors.append(_("This is not a valid member card."))
        elif found is None or found.state == "cancelled":
            form.card.errors.append(_("%(name)s is not signed up for this activity.", name=member.name))
        elif found.state != "confirmed":
            form.card.errors.append(_("%(name)s is on the waiting list, not confirmed.", name=member.name))
        else:
            mode, signup_id = form.mode.data, found.id
            checked = attempt(form, lambda: service.check_by_steward(current_user, signup_id, mode, method="card"))
            if checked:
                return done(_checked_message(checked, mode), url_for("service.roster", activity_id=activity_id))
    return roster_page(get_stewarded(Activity, activity_id), 400, card_form=form)
