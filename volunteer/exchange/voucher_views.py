"""The resident's pages: the shop, an item with its Reserve button, my vouchers, a voucher's QR code.

A resident sees only their own communities' items on sale today and only their own vouchers:
anything else is a 404. Reserving carries a one-time request key made when the page rendered,
so a double click or a retried POST leads to the same voucher.
"""

from flask import Response, abort, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from ..core import permissions as perm
from ..core import qr
from ..core.models import local_today
from ..core.pagination import community_arg, paginate
from ..extensions import db
from ..ledger.models import PointsAccount
from . import catalogue, vouchers
from .access import shop_community_ids
from .catalogue_views import communities_of, step
from .models import CATEGORIES, Item, Voucher
from .views import bp
from .voucher_forms import ActionForm, ReserveForm

NO_STORE = {"Cache-Control": "private, no-store"}  # a live voucher's code is as good as the voucher


def shop_scope() -> set[int]:
    perm.require_login()
    ids = shop_community_ids(current_user)
    if not ids:
        abort(403)
    return ids


def _on_sale_now():
    today = local_today()
    return (
        Item.active.is_(True),
        or_(Item.available_from.is_(None), Item.available_from <= today),
        or_(Item.available_until.is_(None), Item.available_until >= today),
    )


def shop_item_or_404(item_id: int) -> Item:
    """An item on sale today in one of the user's shops; anything else is a missing page."""
    ids = shop_scope()
    item = db.session.get(Item, item_id)
    if item is None or item.community_id not in ids or not item.on_sale(local_today()):
        abort(404)
    return item


def available_points(community_ids) -> dict[int, int]:
    rows = db.session.scalars(
        select(PointsAccount).where(
            PointsAccount.user_id == current_user.id, PointsAccount.community_id.in_(community_ids)
        )
    )
    found = {a.community_id: a.available for a in rows}
    return {cid: found.get(cid, 0) for cid in community_ids}


# --- the shop --------------------------------------------------------------------------------------


@bp.route("/shop")
@login_required
def shop():
    ids = shop_scope()
    community = community_arg(ids)
    category = request.args.get("category", "")
    category = category if category in CATEGORIES else ""  # an unknown filter shows everything
    stmt = select(Item).where(Item.community_id.in_({community} if community else ids), *_on_sale_now())
    if category:
        stmt = stmt.where(Item.category == category)
    page = paginate(stmt.order_by(Item.category, Item.price, Item.name, Item.id))
    communities = communities_of(ids)
    return render_template(
        "exchange/shop.html",
        page=page,
        community=community,
        category=category,
        communities=communities,
        names={c.id: c.name for c in communities},
        points=available_points([c.id for c in communities if community in (None, c.id)]),
        donors=catalogue.donors_by_item(i.id for i in page.items),
    )


def item_page(item: Item, form: ReserveForm | None = None, status: int = 200):
    form = form or ReserveForm.fresh()
    if status != 200:
        form.request_key.data = ReserveForm.fresh().request_key.data  # a refused key is not reused
    return render_template(
        "exchange/shop_item.html",
        item=item,
        form=form,
        points=available_points([item.community_id])[item.community_id],
        donors=catalogue.donors_of(item.id),
    ), status


@bp.route("/shop/<int:item_id>")
@login_required
def shop_item(item_id: int):
    return item_page(shop_item_or_404(item_id))


@bp.route("/shop/<int:item_id>/reserve", methods=["POST"])
@login_required
def reserve(item_id: int):
    item = shop_item_or_404(item_id)
    form = ReserveForm()

    def reserved(voucher):
        message = _("Reserved: show this code at the desk before %(day)s.", day=expiry_day(voucher))
        return message, url_for("exchange.voucher", voucher_id=voucher.id)

    return step(
        form,
        lambda: vouchers.reserve(current_user, item_id, request_key=form.request_key.data),
        reserved,
        lambda status: item_page(item, form, status),
    )


def expiry_day(voucher: Voucher) -> str:
    return format_datetime(voucher.expires_at, "yyyy-MM-dd HH:mm")


# --- my vouchers -----------------------------------------------------------------------------------


def own_voucher(voucher_id: int) -> Voucher:
    """The user's own voucher; anyone else's (a steward's too) is a missing page here."""
    perm.require_login()
    voucher = db.session.get(Voucher, voucher_id)
    if voucher is None or voucher.user_id != current_user.id:
        abort(404)
    return voucher


def shown_state(voucher: Voucher) -> str:
    """Its state as the resident should read it: a reserved voucher past its expiry is expired already."""
    return "expired" if vouchers.is_expired(voucher) else voucher.state


@bp.route("/vouchers")
@login_required
def my_vouchers():
    stmt = (
        select(Voucher)
        .where(Voucher.user_id == current_user.id)
        .options(selectinload(Voucher.item))
        .order_by(Voucher.created_at.desc(), Voucher.id.desc())
    )
    page = paginate(stmt)
    return render_template("exchange/vouchers.html", page=page, shown_state=shown_state)


def voucher_page(voucher: Voucher, status: int = 200, form: ActionForm | None = None):
    state = shown_state(voucher)
    live = state == "reserved"
    token = vouchers.qr_token(voucher) if live else None
    html = render_template(
        "exchange/voucher.html",
        voucher=voucher,
        state=state,
        svg=qr.svg(token, _("Voucher QR code")) if live else None,
        code=(voucher.code[:4], voucher.code[4:]),
        cancel_form=form or (ActionForm(formdata=None) if voucher.state == "reserved" else None),
    )
    return html, status, NO_STORE


@bp.route("/vouchers/<int:voucher_id>")
@login_required
def voucher(voucher_id: int):
    return voucher_page(own_voucher(voucher_id))


@bp.route("/vouchers/<int:voucher_id>.png")
@login_required
def voucher_png(voucher_id: int):
    voucher = own_voucher(voucher_id)
    response = Response(qr.png(vouchers.qr_token(voucher)), mimetype="image/png", headers=NO_STORE)
    response.headers["Content-Disposition"] = f'attachment; filename="voucher-{voucher.code}.png"'
    return response


@bp.route("/vouchers/<int:voucher_id>/cancel", methods=["POST"])
@login_required
def voucher_cancel(voucher_id: int):
    voucher = own_voucher(voucher_id)
    form = ActionForm()

    def cancelled(row):
        message = _("Voucher cancelled: %(n)d points are available again.", n=row.price)
        return message, url_for("exchange.voucher", voucher_id=row.id)

    return step(
        form,
        lambda: vouchers.cancel(current_user, voucher_id),
        cancelled,
        lambda status: voucher_page(voucher, status, form),
    )
