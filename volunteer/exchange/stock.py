"""The only writer of an item's counters: each change is a movement row plus one conditional UPDATE.

The UPDATE refuses to take any counter below zero (stock, reserved, issued), so two requests
racing for the last unit cannot both get it; the caller's transaction holds both or neither.
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from ..core.errors import DomainError
from ..extensions import db
from .models import Item, StockMovement


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
) -> StockMovement:
    """Apply one movement in the caller's transaction; OutOfStock if a counter would go below zero."""
    changed = db.session.execute(
        update(Item)
        .where(
            Item.id == item_id,
            Item.stock + stock >= 0,
            Item.reserved + reserved >= 0,
            Item.issued + issued >= 0,
        )
        .values(stock=Item.stock + stock, reserved=Item.reserved + reserved, issued=Item.issued + issued)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise OutOfStock()
    movement = StockMovement(
        item_id=item_id,
        kind=kind,
        stock_delta=stock,
        reserved_delta=reserved,
        issued_delta=issued,
        voucher_id=voucher_id,
        unit_id=unit_id,
        actor_id=actor_id if actor_id is not None else getattr(actor, "id", None),
        reason=(reason or "")[:300],
    )
    db.session.add(movement)
    return movement
