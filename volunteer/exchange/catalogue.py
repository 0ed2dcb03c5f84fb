"""The steward's side of the catalogue: items and their photos, restocks and donations, stock-takes, settings.

Every change of stock goes through exchange.stock.move() with a movement row and an audit entry;
a stock-take compares what was counted on the shelf (stock + reserved: reserved units still sit at
the desk) with what the movements say, and records each difference as a "count" movement.
"""

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..accounts.models import Role
from ..core import permissions as perm
from ..core.audit import record as audit
from ..core.audit import snapshot
from ..core.database import begin_write
from ..core.errors import DomainError, NotAllowed
from ..credit import photos
from ..extensions import db
from ..org.models import Community, Unit
from . import stock
from .access import desk_community_ids
from .models import CATEGORIES, LIMIT_PERIODS, ExchangeSettings, Item, StockMovement

ITEM_FIELDS = (
    "name",
    "category",
    "description",
    "price",
    "per_person_limit",
    "limit_period",
    "available_from",
    "available_until",
    "active",
    "photo",
)
MAX_PRICE = 100_000
MAX_LIMIT = 1_000
MAX_QUANTITY = 10_000
MAX_COUNT = 1_000_000
NOTE_MAX = 300


@dataclass
class Difference:
    """One item whose counted shelf stock differed from its movements."""

    item_id: int
    name: str
    expected: int  # stock + reserved before the count
    counted: int

    @property
    def difference(self) -> int:
        return self.counted - self.expected


def _runs(user, community_id: int) -> None:
    if community_id not in desk_community_ids(user):
        raise NotAllowed()


def _whole(value, low: int, high: int, code: str, message) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise DomainError(code, message)
    return value


def _text(value, limit: int, code: str, message, required: bool = False) -> str:
    value = (value or "").strip()
    if (required and not value) or len(value) > limit:
        raise DomainError(code, message)
    return value


# --- items -----------------------------------------------------------------------------------------


def _item_values(fields: dict) -> dict:
    if fields.get("category") not in CATEGORIES:
        raise DomainError("bad_category", _l("Choose a category."))
    limit = fields.get("per_person_limit") or None
    if limit is not None:
        _whole(limit, 1, MAX_LIMIT, "bad_limit", _l("Enter a whole number from 1 to 1000, or leave it empty."))
    period = fields.get("limit_period") or "none"
    if period not in LIMIT_PERIODS:
        raise DomainError("bad_period", _l("Choose a period for the limit."))
    starts, ends = fields.get("available_from"), fields.get("available_until")
    if any(d is not None and not isinstance(d, date) for d in (starts, ends)) or (starts and ends and ends < starts):
        raise DomainError("bad_window", _l("The last day must be on or after the first day."))
    return {
        "name": _text(fields.get("name"), 80, "bad_name", _l("Enter a name (up to 80 characters)."), True),
        "category": fields["category"],
        "description": _text(fields.get("description"), 500, "bad_description", _l("Up to 500 characters.")),
        "price": _whole(fields.get("price"), 1, MAX_PRICE, "bad_price", _l("Enter a whole number from 1 to 100000.")),
        "per_person_limit": limit,
        "limit_period": period if limit is not None else "none",
        "available_from": starts,
        "available_until": ends,
        "active": bool(fields.get("active", True)),
    }


def _name_taken(community_id: int, name: str, item_id: int | None) -> bool:
    stmt = select(Item.id).where(Item.community_id == community_id, Item.name == name)
    if item_id is not None:
        stmt = stmt.where(Item.id != item_id)
    return db.session.scalar(stmt.limit(1)) is not None


def _stored_photo(upload) -> str | None:
    """Check the upload for real (a picture, not too large), re-encode it and store it; its file name."""
    if upload is None:
        return None
    data = photos.read_limited(upload.stream if hasattr(upload, "stream") else upload)
    return photos.save(photos.process(data))


def save_item(steward, community_id: int, fields: dict, item_id: int | None = None, photo=None) -> Item:
    """Add an item to the community's catalogue or edit one (audited); `photo` is an upload or None.

    fields["remove_photo"] drops the current photo. Counters are never set here: stock comes
    from add_stock() and stocktake(), reservations from vouchers.
    """
    _runs(steward, community_id)
    values = _item_values(fields)
    new_photo = _stored_photo(photo)
    try:
        item, old_photo = _write_item(steward, community_id, values, item_id, new_photo, fields.get("remove_photo"))
    except Exception:
        db.session.rollback()
        photos.remove([new_photo] if new_photo else [])
        raise
    if old_photo and old_photo != item.photo:
        photos.remove([old_photo])  # only once the item no longer names it
    return item


def _write_item(steward, community_id, values, item_id, new_photo, remove_photo):
    begin_write()
    if _name_taken(community_id, values["name"], item_id):
        raise DomainError("bad_name", _l("The catalogue has an item with this name already."))
    if item_id is None:
        item, before = Item(community_id=community_id, stock=0, reserved=0, issued=0, photo=None), None
        db.session.add(item)
    else:
        item = db.session.get(Item, item_id, with_for_update=True, populate_existing=True)
        if item is None or item.community_id != community_id:
            raise DomainError("not_found", _l("This item does not exist."), status=404)
        before = snapshot(item, *ITEM_FIELDS)
    old_photo = item.photo
    for key, value in values.items():
        setattr(item, key, value)
    if new_photo:
        item.photo = new_photo
    elif remove_photo:
        item.photo = None
    try:
        db.session.flush()
    except IntegrityError:  # the same name saved by someone else a moment ago
        db.session.rollback()
        raise DomainError("bad_name", _l("The catalogue has an item with this name already.")) from None
    after = snapshot(item, *ITEM_FIELDS)
    if before != after:
        audit(steward, "exchange.item_save", item, before=before, after=after)
    db.session.commit()
    return item, old_photo


# --- stock -----------------------------------------------------------------------------------------


def add_stock(steward, item_id: int, quantity: int, *, kind: str, unit_id: int | None = None, note: str = ""):
    """New units on the shelf: a restock by the community, or a donation by a unit (its donor recorded)."""
    if kind not in ("restock", "donation"):
        raise DomainError("bad_kind", _l("Choose restock or donation."))
    quantity = _whole(quantity, 1, MAX_QUANTITY, "bad_quantity", _l("Enter a whole number from 1 to 10000."))
    note = _text(note, NOTE_MAX, "bad_note", _l("Up to 300 characters."))
    if kind == "donation":
        if not unit_id or db.session.get(Unit, unit_id) is None:
            raise DomainError("bad_unit", _l("Choose the unit that donated the goods."))
    else:
        unit_id = None  # a restock is the community's own purchase: no donor
    item = db.session.get(Item, item_id)
    if item is None or item.community_id not in desk_community_ids(steward):
        raise DomainError("not_found", _l("This item does not exist."), status=404)
    begin_write()
    movement_id = stock.move(item_id, kind, stock=quantity, unit_id=unit_id, actor=steward, reason=note)
    after = {"kind": kind, "quantity": quantity, "unit_id": unit_id, "note": note, "movement_id": movement_id}
    audit(steward, f"exchange.{kind}", item, after=after)
    db.session.commit()
    return db.session.get(StockMovement, movement_id)


def _counts(counts: dict) -> dict[int, int]:
    clean = {}
    for item_id, counted in counts.items():
        if counted is None:
            continue  # not counted this time
        clean[int(item_id)] = _whole(
            counted, 0, MAX_COUNT, "bad_count", _l("Counts must be whole numbers from 0 to 1000000.")
        )
    return clean


def stocktake(steward, community_id: int, counts: dict, reason: str, seen: dict | None = None) -> list[Difference]:
    """Record a count of the shelf: each item whose count differs gets one "count" movement (audited).

    `seen` (item id -> the expected count shown on the form) refuses an item whose stock moved
    while the steward was counting (a hand-over in between), so no phantom difference is written.
    All or nothing: one refused item changes nothing.
    """
    _runs(steward, community_id)
    reason = _text(reason, NOTE_MAX, "bad_reason", _l("Give a reason for the count (up to 300 characters)."), True)
    counts = _counts(counts)
    if not counts:
        raise DomainError("nothing_counted", _l("Enter the counted number of at least one item."))
    begin_write()
    items = db.session.scalars(
        select(Item)
        .where(Item.id.in_(counts), Item.community_id == community_id)
        .order_by(Item.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    if len(items) != len(counts):
        raise DomainError("bad_item", _l("One of the items is not in this catalogue."), status=404)
    differences = [_count_item(steward, item, counts[item.id], reason, (seen or {}).get(item.id)) for item in items]
    differences = [d for d in differences if d is not None]
    after = {
        "reason": reason,
        "counted": len(counts),
        "differences": {str(d.item_id): {"expected": d.expected, "counted": d.counted} for d in differences},
    }
    audit(
        steward, "exchange.stocktake", db.session.get(Community, community_id), community_id=community_id, after=after
    )
    db.session.commit()
    return differences


def _count_item(steward, item: Item, counted: int, reason: str, seen: int | None) -> Difference | None:
    expected = item.stock + item.reserved
    if seen is not None and seen != expected:
        raise DomainError(
            "count_changed",
            _l(
                "%(name)s: its stock changed while you counted (now %(n)d). Please count it again.",
                name=item.name,
                n=expected,
            ),
            status=409,
        )
    if counted < item.reserved:
        raise DomainError(
            "below_reserved",
            _l(
                "%(name)s: %(n)d units are set aside for vouchers and should be on the shelf; the count cannot be"
                " lower. Check the reserved units, or let their vouchers be cancelled first.",
                name=item.name,
                n=item.reserved,
            ),
        )
    if counted == expected:
        return None
    stock.move(item.id, "count", stock=counted - expected, actor=steward, reason=reason)
    return Difference(item.id, item.name, expected, counted)


def donors_of(item_id: int) -> list[Unit]:
    """The units that donated stock to the item, by name."""
    return donors_by_item([item_id]).get(item_id, [])


def donors_by_item(item_ids) -> dict[int, list[Unit]]:
    """Donor units of many items at once (one query for a whole list page)."""
    ids = list(item_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(StockMovement.item_id, Unit)
        .join(Unit, Unit.id == StockMovement.unit_id)
        .where(StockMovement.item_id.in_(ids), StockMovement.kind == "donation")
        .distinct()
        .order_by(Unit.name)
    )
    out: dict[int, list[Unit]] = {}
    for item_id, unit in rows:
        out.setdefault(item_id, []).append(unit)
    return out


# --- settings --------------------------------------------------------------------------------------


def save_settings(admin, community_id: int, voucher_days: int) -> ExchangeSettings:
    """The community admin sets how many days a voucher stays valid (audited)."""
    if not perm.has_role(admin, community_id, Role.ADMIN):
        raise NotAllowed()
    days = _whole(voucher_days, 1, 90, "bad_days", _l("Enter a whole number of days from 1 to 90."))
    begin_write()
    row = db.session.get(ExchangeSettings, community_id, with_for_update=True, populate_existing=True)
    before = {"voucher_days": row.voucher_days} if row else None
    if row is None:
        row = ExchangeSettings(community_id=community_id)
        db.session.add(row)
    row.voucher_days = days
    if before != {"voucher_days": days}:
        audit(admin, "exchange.settings", row, community_id=community_id, before=before, after={"voucher_days": days})
    db.session.commit()
    return row
