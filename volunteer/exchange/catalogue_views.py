"""The steward's catalogue pages: items, an item's form and photo, adding stock, movements, stock-take, settings.

Desk staff (stewards and admins of a community) see only their communities' items: another
community's item or stock-take is a 404. `step` is shared with voucher_views: one service call
per post; a refusal re-renders the page with the service's status, a success flashes and redirects.
"""

from flask import abort, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..accounts.models import Role
from ..core import permissions as perm
from ..core.audit import AuditEntry
from ..core.errors import DomainError
from ..core.pagination import community_arg, paginate
from ..credit import photos
from ..extensions import db
from ..org.models import Community, Unit
from ..service.views import attempt, done
from . import catalogue
from .access import desk_community_ids, shop_community_ids
from .catalogue_forms import ItemForm, NewItemForm, SettingsForm, StockForm, stocktake_form
from .models import Item, StockMovement, Voucher
from .views import FORM, bp
from .vouchers import settings_for


def run(form, action):
    """attempt() that also tells the status to answer with: the service's 403/404/409, else 400."""
    status = [400]

    def call():
        try:
            return action()
        except DomainError as err:
            status[0] = err.status if err.status in (403, 404, 409) else 400
            raise

    return attempt(form, call, getattr(form, "field_of", None)), status[0]


def step(form, call, success, page):
    """A posted form: valid and accepted -> success(result) gives (message, url); otherwise page(status)."""
    status = 400
    if form.validate_on_submit():
        result, status = run(form, call)
        if result is not None:
            return done(*success(result))
    db.session.rollback()
    return page(status)


def desk_scope() -> set[int]:
    """The communities whose catalogue the user runs; 403 for someone who runs none."""
    perm.require_login()
    ids = desk_community_ids(current_user)
    if not ids:
        abort(403)
    return ids


def run_item(item_id: int) -> Item:
    """An item of a community the user runs; else 404."""
    ids = desk_scope()
    item = db.session.get(Item, item_id)
    if item is None or item.community_id not in ids:
        abort(404)
    return item


def run_community(community_id: int) -> Community:
    ids = desk_scope()
    community = db.session.get(Community, community_id)
    if community is None or community.id not in ids:
        abort(404)
    return community


def communities_of(ids) -> list[Community]:
    return db.session.scalars(select(Community).where(Community.id.in_(ids)).order_by(Community.name)).all()


def _page(template: str, status: int = 200, **context):
    return render_template(template, **context), status


# --- items -----------------------------------------------------------------------------------------


@bp.route("/items")
@login_required
def items():
    ids = desk_scope()
    community = community_arg(ids)
    stmt = select(Item).where(Item.community_id.in_({community} if community else ids))
    stmt = stmt.options(selectinload(Item.community))
    page = paginate(stmt.order_by(Item.active.desc(), Item.category, Item.name, Item.id))
    communities = communities_of(ids)
    return render_template(
        "exchange/items.html",
        page=page,
        community=community,
        communities=communities,
        shown=[c for c in communities if community in (None, c.id)],
        admin_ids=perm.community_ids(current_user, Role.ADMIN),
        donors=catalogue.donors_by_item(i.id for i in page.items),
    )


def _item_saved(item):
    return _("%(name)s saved.", name=item.name), url_for("exchange.items", community=item.community_id)


@bp.route("/items/new", methods=FORM)
@login_required
def item_new():
    ids = desk_scope()
    form = NewItemForm()
    form.community.choices = [(c.id, c.name) for c in communities_of(ids)]
    title = _("New item")
    if request.method == "GET":
        form.community.data = request.args.get("community", type=int)
        return _page("exchange/item_form.html", form=form, title=title)
    return step(
        form,
        lambda: catalogue.save_item(current_user, form.community.data, form.fields(), photo=form.photo.data),
        _item_saved,
        lambda status: _page("exchange/item_form.html", status, form=form, title=title),
    )


@bp.route("/items/<int:item_id>/edit", methods=FORM)
@login_required
def item_edit(item_id: int):
    item = run_item(item_id)
    community_id = item.community_id
    # obj= only to fill the page: on a post every field must come from the request.
    form = ItemForm(obj=item) if request.method == "GET" else ItemForm()
    context = {"title": _("Edit %(name)s", name=item.name), "item": item, "community_name": item.community.name}
    if request.method == "GET":
        form.photo.data = None
        return _page("exchange/item_form.html", form=form, **context)
    return step(
        form,
        lambda: catalogue.save_item(current_user, community_id, form.fields(), item_id, photo=form.photo.data),
        _item_saved,
        lambda status: _page("exchange/item_form.html", status, form=form, **context),
    )


@bp.route("/items/<int:item_id>/photo")
@login_required
def item_photo(item_id: int):
    """An item's photo, for whoever may shop in or runs its community."""
    item = db.session.get(Item, item_id)
    allowed = shop_community_ids(current_user) | desk_community_ids(current_user)
    if item is None or not item.photo or item.community_id not in allowed:
        abort(404)
    try:
        response = send_file(photos.path_of(item.photo), mimetype="image/jpeg", max_age=0)
    except FileNotFoundError:
        abort(404)
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- stock -----------------------------------------------------------------------------------------


def _units() -> list[Unit]:
    return db.session.scalars(select(Unit).order_by(Unit.name)).all()


@bp.route("/items/<int:item_id>/stock", methods=FORM)
@login_required
def item_stock(item_id: int):
    item = run_item(item_id)
    form = StockForm(units=_units())
    context = {"item": item, "donors": catalogue.donors_of(item.id)}
    if request.method == "GET":
        return _page("exchange/item_stock.html", form=form, **context)

    def added(movement):
        message = _("%(n)d units of %(name)s added.", n=movement.stock_delta, name=item.name)
        return message, url_for("exchange.items", community=item.community_id)

    return step(
        form,
        lambda: catalogue.add_stock(
            current_user,
            item_id,
            form.quantity.data,
            kind=form.kind.data,
            unit_id=form.unit.data or None,
            note=form.note.data or "",
        ),
        added,
        lambda status: _page("exchange/item_stock.html", status, form=form, **context),
    )


@bp.route("/items/<int:item_id>/movements")
@login_required
def movements(item_id: int):
    item = run_item(item_id)
    stmt = (
        select(StockMovement)
        .where(StockMovement.item_id == item.id)
        .options(selectinload(StockMovement.unit), selectinload(StockMovement.actor))
        .order_by(StockMovement.at.desc(), StockMovement.id.desc())
    )
    page = paginate(stmt)
    voucher_ids = {m.voucher_id for m in page.items if m.voucher_id}
    codes = dict(db.session.execute(select(Voucher.id, Voucher.code).where(Voucher.id.in_(voucher_ids))).all())
    return render_template("exchange/movements.html", item=item, page=page, codes=codes)


# --- stock-take ------------------------------------------------------------------------------------


def _last_stocktake(community_id: int):
    """The community's latest stock-take (its audit entry) and its items, to show what was recorded."""
    entry = db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.community_id == community_id, AuditEntry.action == "exchange.stocktake")
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(1)
    )
    if entry is None:
        return None, {}
    ids = [int(i) for i in (entry.after or {}).get("differences", {})]
    names = dict(db.session.execute(select(Item.id, Item.name).where(Item.id.in_(ids))).all()) if ids else {}
    return entry, names


def _counted_items(community_id: int) -> list[Item]:
    return db.session.scalars(
        select(Item).where(Item.community_id == community_id, Item.active.is_(True)).order_by(Item.category, Item.name)
    ).all()


@bp.route("/communities/<int:community_id>/stocktake", methods=FORM)
@login_required
def stocktake(community_id: int):
    community = run_community(community_id)
    counted = _counted_items(community.id)
    form = stocktake_form(counted)

    def page(status=200):
        # The hidden expected counts are always today's: after a refusal the steward sees the
        # current figures, and a count made against them is the one checked next time.
        for item in counted:
            form[f"seen_{item.id}"].data = item.stock + item.reserved
        rows = [(i, form[f"count_{i.id}"], form[f"seen_{i.id}"]) for i in counted]
        last, names = _last_stocktake(community.id)
        context = {"community": community, "form": form, "rows": rows, "last": last, "names": names}
        return _page("exchange/stocktake.html", status, **context)

    if request.method == "GET":
        return page()

    def recorded(differences):
        back = url_for("exchange.stocktake", community_id=community_id)
        if not differences:
            return _("Stock-take recorded: every count matched."), back
        return ngettext(
            "Stock-take recorded: %(num)d difference.", "Stock-take recorded: %(num)d differences.", len(differences)
        ), back

    return step(
        form,
        lambda: catalogue.stocktake(
            current_user,
            community_id,
            {i.id: form[f"count_{i.id}"].data for i in counted},
            form.reason.data,
            seen={i.id: form[f"seen_{i.id}"].data for i in counted if form[f"seen_{i.id}"].data is not None},
        ),
        recorded,
        page,
    )


# --- settings --------------------------------------------------------------------------------------


@bp.route("/communities/<int:community_id>/settings", methods=FORM)
@login_required
def settings(community_id: int):
    community = run_community(community_id)
    if not perm.has_role(current_user, community.id, Role.ADMIN):
        abort(403)  # a steward of the community sees it exists, but its rules are the admin's
    form = SettingsForm()
    if request.method == "GET":
        form.voucher_days.data = settings_for(community.id).voucher_days
        return _page("exchange/settings.html", form=form, community=community)
    return step(
        form,
        lambda: catalogue.save_settings(current_user, community_id, form.voucher_days.data),
        lambda row: (
            _("Vouchers now stay valid for %(n)d days.", n=row.voucher_days),
            url_for("exchange.items", community=community_id),
        ),
        lambda status: _page("exchange/settings.html", status, form=form, community=community),
    )
