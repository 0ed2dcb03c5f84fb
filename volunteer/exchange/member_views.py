"""Serving a resident without a smartphone: the steward scans their member card, reserves and hands over for them.

The card's QR names the member (service.cards); the resident confirms each reservation by typing
their PIN on the steward's tablet, and sets that PIN there too.
"""

import uuid
from datetime import datetime

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select
from werkzeug.routing import BuildError

from ..core import permissions as perm
from ..core.models import local_today, utcnow
from ..core.pagination import community_arg, paginate
from ..extensions import db
from ..ledger.services import find_account
from ..org.models import Community
from ..service import cards
from ..service.views import attempt, done
from . import pins
from .access import desk_community_ids, shop_community_ids
from .member_forms import PinForm, ReserveForm
from .models import Item, Voucher
from .views import FORM, bp

MAX_OPEN_VOUCHERS = 50  # a member's open vouchers are few: their points and the per-person limits bound them


def _handover_url() -> str:
    """The desk's hand-over action (desk_views); its path is fixed, so the page works before that module lands."""
    try:
        return url_for("exchange.desk_handover")
    except BuildError:
        return f"{bp.url_prefix}/desk/handover"


def _member(token: str):
    """The card's owner and the communities where this steward serves them; 404 for a bad card or a stranger."""
    perm.require_login()
    member = cards.card_user(token)
    if member is None:
        abort(404)
    shared = desk_community_ids(current_user) & shop_community_ids(member)
    if not shared:
        abort(404)
    return member, shared


def _community(shared: set[int], chosen: int | None = None) -> Community:
    """The supermarket the page is about: the refused item's, else ?community= (one of `shared`), else the first."""
    community_id = chosen or community_arg(shared) or min(shared)
    return db.session.get(Community, community_id)


def _on_sale(community_id: int):
    today = local_today()
    return (
        select(Item)
        .where(
            Item.community_id == community_id,
            Item.active.is_(True),
            or_(Item.available_from.is_(None), Item.available_from <= today),
            or_(Item.available_until.is_(None), Item.available_until >= today),
        )
        .order_by(Item.category, Item.name, Item.id)
    )


def _open_vouchers(member, community_id: int, now: datetime) -> list[Voucher]:
    stmt = (
        select(Voucher)
        .where(
            Voucher.user_id == member.id,
            Voucher.community_id == community_id,
            Voucher.state == "reserved",
            Voucher.expires_at > now,
        )
        .order_by(Voucher.expires_at, Voucher.id)
        .limit(MAX_OPEN_VOUCHERS)
    )
    return list(db.session.scalars(stmt))


def _reserve_forms(items, failed: ReserveForm | None) -> dict[int, ReserveForm]:
    """A fresh form (and one-time request key) per item; the refused one keeps its errors and its key."""
    forms = {it.id: ReserveForm(formdata=None, item=it.id, request_key=str(uuid.uuid4())) for it in items}
    if failed is not None and failed.item.data in forms:
        forms[failed.item.data] = failed
    return forms


def _member_page(member, token: str, shared: set[int], status: int = 200, failed=None, chosen=None):
    community = _community(shared, chosen)
    items = paginate(_on_sale(community.id))
    account = find_account(member.id, community.id)
    communities = db.session.scalars(select(Community).where(Community.id.in_(shared)).order_by(Community.name))
    return render_template(
        "exchange/desk_member.html",
        member=member,
        token=token,
        community=community,
        communities=list(communities),
        available=account.available if account else 0,
        has_pin=pins.has_pin(member),
        pin_state=pins.state(member),
        vouchers=_open_vouchers(member, community.id, utcnow()),
        handover_url=_handover_url(),
        items=items,
        forms=_reserve_forms(items.items, failed),
        failed=failed,
    ), status


@bp.route("/desk/members/<token>")
@login_required
def desk_member(token: str):
    member, shared = _member(token)
    return _member_page(member, token, shared)


@bp.route("/desk/members/<token>/reserve", methods=["POST"])
@login_required
def member_reserve(token: str):
    member, shared = _member(token)
    form = ReserveForm()
    if not form.validate_on_submit():
        return _member_page(member, token, shared, 400, failed=form)
    item = db.session.get(Item, form.item.data)
    if item is None or item.community_id not in shared:
        abort(404)
    community_id = item.community_id
    voucher = attempt(
        form,
        lambda: pins.reserve_for_member(
            current_user, member, item.id, form.pin.data, request_key=form.request_key.data
        ),
        form.field_of,
    )
    if voucher is None:
        return _member_page(member, token, shared, 400, failed=form, chosen=community_id)
    message = _(
        "Reserved %(item)s for %(name)s. Voucher code: %(code)s.",
        item=voucher.item.name,
        name=member.name,
        code=voucher.code,
    )
    args = {"community": community_id, "page": request.args.get("page", type=int)}
    return done(message, url_for("exchange.desk_member", token=token, **{k: v for k, v in args.items() if v}))


@bp.route("/desk/members/<token>/pin", methods=FORM)
@login_required
def member_pin(token: str):
    member, shared = _member(token)
    community = _community(shared)
    form = PinForm()
    if form.validate_on_submit():
        changed = attempt(
            form,
            lambda: pins.set_pin(member, form.pin.data, current_user, community_id=community.id),
            form.field_of,
        )
        if changed:
            back = url_for("exchange.desk_member", token=token, community=community.id)
            return done(_("The PIN for %(name)s is set.", name=member.name), back)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "exchange/member_pin.html", member=member, token=token, community=community, form=form
    ), status
