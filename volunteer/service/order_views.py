"""群众点单、社区下单、义工接单: needs and orders, their lists, and each step on a need's or an order's page.

Who sees an order: volunteers and stewards of its community, the resident whose need it was, and
whoever took it. Everyone else gets a 404, so another community's orders do not show they exist.
"""

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..core import permissions as perm
from ..core.pagination import community_arg, paginate
from ..extensions import db
from ..org.models import Community
from . import orders
from .access import (
    is_steward_of,
    is_volunteer_of,
    resident_community_id,
    steward_community_ids,
    volunteer_community_ids,
)
from .list_forms import ActionForm, DeclineForm, NeedForm
from .list_views import communities_of, step, steward_scope
from .models import ORDER_STATES, Need, Order, OrderTake
from .order_forms import CancelForm, ConfirmForm, DisputeForm, DoneForm, NewOrderForm, OrderForm, ResolveForm
from .views import FORM, bp, get_stewarded

SHOWS = ("open", "mine", "all")
NEED_FILTERS = ("open", "ordered", "declined", "withdrawn", "all")


# --- needs ---------------------------------------------------------------------------------------


@bp.route("/needs")
@login_required
def needs():
    stewarded = steward_community_ids(current_user)
    home = resident_community_id(current_user)
    if stewarded and request.args.get("show") != "mine":
        return _community_needs(stewarded, can_post=home is not None)
    if home is None and not stewarded:
        abort(403)
    stmt = select(Need).where(Need.resident_id == current_user.id).options(selectinload(Need.order))
    page = paginate(stmt.order_by(Need.id.desc()))
    return render_template("service/needs.html", page=page, mine=True, can_post=home is not None, stewarding=stewarded)


def _community_needs(stewarded: set[int], can_post: bool):
    community = community_arg(stewarded)
    state = request.args.get("state", "open")
    state = state if state in NEED_FILTERS else "open"
    stmt = select(Need).where(Need.community_id.in_({community} if community else stewarded))
    if state != "all":
        stmt = stmt.where(Need.state == state)
    # Open needs are a queue (oldest first); the rest read newest first.
    order = (Need.id,) if state == "open" else (Need.id.desc(),)
    page = paginate(stmt.options(selectinload(Need.resident), selectinload(Need.order)).order_by(*order))
    return render_template(
        "service/needs.html",
        page=page,
        mine=False,
        can_post=can_post,
        state=state,
        states=NEED_FILTERS,
        community=community,
        communities=communities_of(stewarded),
    )


@bp.route("/needs/new", methods=FORM)
@login_required
def need_new():
    community_id = resident_community_id(current_user)
    if community_id is None:
        abort(403)
    form = NeedForm()

    def page(status=200):
        community = db.session.get(Community, community_id)
        return render_template("service/need_form.html", form=form, community=community), status

    if request.method == "GET":
        return page()
    return step(
        form,
        lambda: orders.post_need(
            current_user,
            category=form.category.data,
            description=form.description.data,
            preferred_time=form.preferred_time.data or "",
        ),
        lambda need: (_("Your need was sent to the community."), url_for("service.need", need_id=need.id)),
        page,
    )


def get_need(need_id: int) -> Need:
    """The resident who posted it, or a steward of its community; anyone else a 404."""
    perm.require_login()
    need = db.session.get(Need, need_id)
    if need is None or not (need.resident_id == current_user.id or is_steward_of(current_user, need.community_id)):
        abort(404)
    return need


def _order_prefill(need: Need) -> dict:
    first_line = need.description.strip().splitlines()[0] if need.description.strip() else ""
    return {
        "title": first_line[:30],
        "category": need.category,
        "description": need.description,
        "scheduled": need.preferred_time,
        "places": 1,
    }


def need_page(need_id: int, status: int = 200, **posted):
    need = get_need(need_id)
    steward = is_steward_of(current_user, need.community_id)
    forms = {}
    if need.state == "open" and steward:
        forms["order"] = OrderForm(formdata=None, **_order_prefill(need))
        forms["decline"] = DeclineForm(formdata=None)
    if need.state == "open" and need.resident_id == current_user.id:
        forms["withdraw"] = ActionForm(formdata=None)
    forms.update(posted)
    return render_template("service/need.html", need=need, forms=forms, steward=steward), status


@bp.route("/needs/<int:need_id>")
@login_required
def need(need_id: int):
    return need_page(need_id)


@bp.route("/needs/<int:need_id>/order", methods=["POST"])
@login_required
def need_order(need_id: int):
    get_stewarded(Need, need_id)
    form = OrderForm()
    return step(
        form,
        lambda: orders.make_order(current_user, need_id, form.fields()),
        lambda order: (_("The order is open for volunteers."), url_for("service.order", order_id=order.id)),
        lambda status: need_page(need_id, status, order=form),
    )


@bp.route("/needs/<int:need_id>/decline", methods=["POST"])
@login_required
def need_decline(need_id: int):
    get_stewarded(Need, need_id)
    form = DeclineForm()
    return step(
        form,
        lambda: orders.decline_need(current_user, need_id, form.reason.data),
        lambda need: (_("The need was declined; the resident sees your reason."), url_for("service.needs")),
        lambda status: need_page(need_id, status, decline=form),
    )


@bp.route("/needs/<int:need_id>/withdraw", methods=["POST"])
@login_required
def need_withdraw(need_id: int):
    if get_need(need_id).resident_id != current_user.id:
        abort(404)
    form = ActionForm()
    return step(
        form,
        lambda: orders.withdraw_need(current_user, need_id),
        lambda need: (_("Your need was withdrawn."), url_for("service.needs")),
        lambda status: need_page(need_id, status, withdraw=form),
    )


# --- orders -----------------------------------------------------------------------------------


@bp.route("/orders", endpoint="orders")  # named apart from the `orders` service module
@login_required
def orders_list():
    stewarded = steward_community_ids(current_user)
    volunteering = volunteer_community_ids(current_user)
    if not stewarded and not volunteering:
        if resident_community_id(current_user) is not None:
            return redirect(url_for("service.needs"))
        abort(403)
    show = request.args.get("show") or ("open" if volunteering else "all")
    if show not in SHOWS:
        show = "open"
    if show == "all" and not stewarded:
        abort(403)
    ids = stewarded if show == "all" else volunteering | stewarded
    community = community_arg(ids)
    state = request.args.get("state", "") if show == "all" else ""
    state = state if state in ORDER_STATES else ""
    page = paginate(_orders_stmt(show, {community} if community else ids, state))
    communities = communities_of(ids)
    mine = set(db.session.scalars(select(OrderTake.order_id).where(OrderTake.volunteer_id == current_user.id)))
    return render_template(
        "service/orders.html",
        page=page,
        show=show,
        state=state,
        states=ORDER_STATES,
        community=community,
        communities=communities,
        names={c.id: c.name for c in communities},
        stewarding=bool(stewarded),
        volunteering=bool(volunteering),
        mine=mine,
    )


def _orders_stmt(show: str, ids, state: str):
    stmt = select(Order)
    if show == "mine":
        taken = select(OrderTake.order_id).where(OrderTake.volunteer_id == current_user.id)
        return stmt.where(Order.id.in_(taken)).order_by(Order.id.desc())
    stmt = stmt.where(Order.community_id.in_(ids))
    if show == "open":
        return stmt.where(Order.state == "open").order_by(Order.id)  # a queue: oldest first
    if state:
        stmt = stmt.where(Order.state == state)
    return stmt.order_by(Order.id.desc())


@bp.route("/orders/new", methods=FORM)
@login_required
def order_new():
    stewarded = steward_scope()
    form = NewOrderForm()
    form.community.choices = [(c.id, c.name) for c in communities_of(stewarded)]

    def page(status=200):
        return render_template("service/order_form.html", form=form), status

    if request.method == "GET":
        form.community.data = request.args.get("community", type=int)
        return page()
    return step(
        form,
        lambda: orders.create_order(current_user, form.community.data, form.fields()),
        lambda order: (_("The order is open for volunteers."), url_for("service.order", order_id=order.id)),
        page,
    )


# --- one order and its steps ---------------------------------------------------------------------


def took(user, order: Order) -> bool:
    return any(t.volunteer_id == user.id for t in order.takes)


def can_see(user, order: Order) -> bool:
    community_id = order.community_id
    return (
        is_steward_of(user, community_id)
        or is_volunteer_of(user, community_id)
        or order.resident_id == user.id
        or took(user, order)
    )


def get_order(order_id: int) -> Order:
    perm.require_login()
    order = db.session.get(Order, order_id, options=[selectinload(Order.takes).selectinload(OrderTake.volunteer)])
    if order is None or not can_see(current_user, order):
        abort(404)
    return order


def _forms_for(order: Order) -> dict:
    """The steps the viewer may take now, each an empty form."""
    user, state = current_user, order.state
    steward, mine = is_steward_of(user, order.community_id), took(user, order)
    active = state in ("open", "taken")
    wanted = {
        "take": state == "open"
        and not mine
        and order.resident_id != user.id
        and is_volunteer_of(user, order.community_id),
        "release": active and mine,
        "done": active and mine,
        "confirm": state == "done" and orders.can_confirm(user, order),
        "dispute": state == "done" and order.resident_id == user.id,
        "resolve": state == "disputed" and steward,
        "cancel": active and steward,
    }
    return {key: STEPS[key][0](formdata=None) for key, show in wanted.items() if show}


def order_page(order_id: int, status: int = 200, **posted):
    order = get_order(order_id)
    forms = {**_forms_for(order), **posted}
    return render_template(
        "service/order.html",
        order=order,
        forms=forms,
        steward=is_steward_of(current_user, order.community_id),
        mine=took(current_user, order),
        community=db.session.get(Community, order.community_id),
    ), status


@bp.route("/orders/<int:order_id>")
@login_required
def order(order_id: int):
    return order_page(order_id)


def _step(order_id: int, key: str, call):
    """One step on the order page: call(form) runs the service; a refusal shows on that step's form."""
    get_order(order_id)
    form_cls, message = STEPS[key]
    form = form_cls()
    return step(
        form,
        lambda: call(form),
        lambda _result: (str(message), url_for("service.order", order_id=order_id)),
        lambda status: order_page(order_id, status, **{key: form}),
    )


# key -> (form, success message)
STEPS = {
    "take": (ActionForm, _l("You took this order. Thank you!")),
    "release": (ActionForm, _l("You gave your place back.")),
    "done": (DoneForm, _l("Marked as done. The resident is asked to confirm.")),
    "confirm": (ConfirmForm, _l("Thank you for confirming. The volunteers' service is recorded.")),
    "dispute": (DisputeForm, _l("Your objection was sent to the community.")),
    "resolve": (ResolveForm, _l("The dispute is settled.")),
    "cancel": (CancelForm, _l("The order was cancelled.")),
}


@bp.route("/orders/<int:order_id>/take", methods=["POST"])
@login_required
def order_take(order_id: int):
    return _step(order_id, "take", lambda f: orders.take(current_user, order_id))


@bp.route("/orders/<int:order_id>/release", methods=["POST"])
@login_required
def order_release(order_id: int):
    return _step(order_id, "release", lambda f: orders.release(current_user, order_id))


@bp.route("/orders/<int:order_id>/done", methods=["POST"])
@login_required
def order_done(order_id: int):
    return _step(
        order_id, "done", lambda f: orders.mark_done(current_user, order_id, note=f.note.data, minutes=f.minutes)
    )


@bp.route("/orders/<int:order_id>/confirm", methods=["POST"])
@login_required
def order_confirm(order_id: int):
    def call(f):
        return orders.confirm(current_user, order_id, rating=int(f.rating.data), feedback=f.feedback.data or "")

    return _step(order_id, "confirm", call)


@bp.route("/orders/<int:order_id>/dispute", methods=["POST"])
@login_required
def order_dispute(order_id: int):
    return _step(order_id, "dispute", lambda f: orders.dispute(current_user, order_id, f.reason.data))


@bp.route("/orders/<int:order_id>/resolve", methods=["POST"])
@login_required
def order_resolve(order_id: int):
    def call(f):
        return orders.resolve(current_user, order_id, upheld=f.upheld.data == "yes", note=f.note.data)

    return _step(order_id, "resolve", call)


@bp.route("/orders/<int:order_id>/cancel", methods=["POST"])
@login_required
def order_cancel(order_id: int):
    return _step(order_id, "cancel", lambda f: orders.cancel_order(current_user, order_id, f.reason.data))
