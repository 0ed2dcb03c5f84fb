"""The only writer of an item's counters: each change is a movement row plus one conditional UPDATE.

The UPDATE refuses to take any counter below zero (stock, reserved, issued), so two requests
racing for the last unit cannot both get it; the caller's transaction holds both or neither.
Both statements are built once, with bound parameters: the desk's hand-over runs them on every
scan, and building and cache-keying a statement costs more than executing it on SQLite.
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, insert, update

from ..core.errors import DomainError
from ..extensions import db
from .models import Item, StockMovement

_items = Item.__table__
_MOVE = (
    update(_items)
    .where(
        _items.c.id == bindparam("item"),
        _items.c.stock + bindparam("d_stock") >= 0,
        _items.c.reserved + bindparam("d_reserved") >= 0,
        _items.c.issued + bindparam("d_issued") >= 0,
    )
    .values(
        stock=_items.c.stock + bindparam("d_stock"),
        reserved=_items.c.reserved + bindparam("d_reserved"),
        issued=_items.c.issued + bindparam("d_issued"),
    )
)
_RECORD = insert(StockMovement.__table__)  # `at` from the column's default, like an ORM insert


class OutOfStock(DomainError):
    status = 409

    def __init__(self):
        super().__init__("out_of_stock", _l("Sorry, this item is out of stock."))


def move(
    item_id: int,
    kind: str,
    *,
    stock=0,
    reserved=0,
    issued=0,
    voucher_id=None,
    unit_id=None,
    actor=None,
    actor_id=None,
    reason="",
) -> int:
    """Apply one movement in the caller's transaction and return its id; OutOfStock if a counter would go below zero."""
    deltas = {"item": item_id, "d_stock": stock, "d_reserved": reserved, "d_issued": issued}
    if db.session.execute(_MOVE, deltas).rowcount != 1:
        raise OutOfStock()
    row = {
        "item_id": item_id,
        "kind": kind,
        "stock_delta": stock,
        "reserved_delta": reserved,
        "issued_delta": issued,
        "voucher_id": voucher_id,
        "unit_id": unit_id,
        "actor_id": actor_id if actor_id is not None else getattr(actor, "id", None),
        "reason": (reason or "")[:300],
    }
    return db.session.execute(_RECORD, row).inserted_primary_key[0]
