"""The exchange desk: read a scanned or typed voucher, hand it over, undo a hand-over.

hand_over() is the hot path and is kept to a handful of statements, each built once with bound
parameters: one small join reads what the desk shows (item, resident), one conditional UPDATE
flips the voucher from reserved to redeemed (only if unexpired and of the steward's community)
and returns what the rest needs; the held points become spent and the reserved unit issued.
Two stewards scanning one code at once: the second UPDATE finds nothing to change, and the
answer says why (already handed over at 14:02 by 王芳). Every answer carries a reason code.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import format_time
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select, update

from ..accounts.models import User
from ..core.audit import record as audit
from ..core.database import begin_write
from ..core.errors import DomainError, NotAllowed
from ..core.models import aware, to_local, utcnow
from ..core.phone import mask
from ..extensions import db
from ..ledger import services as ledger
from ..ledger.models import LedgerEntry
from ..service.access import steward_community_ids
from . import stock
from .models import CODE_ALPHABET, CODE_LENGTH, Item, Voucher
from .vouchers import is_expired, public_id_of

UNDO_WINDOW = timedelta(minutes=10)
REASONS = ("ok", "already_redeemed", "expired", "cancelled", "other_community", "invalid")

# The hand-over's statements, built once (building and cache-keying one costs more than running it).
_vouchers, _items, _users = Voucher.__table__, Item.__table__, User.__table__
_v = _vouchers.c


def _card_query(column):
    """Item and resident of the voucher whose public id (or code) is :match: one small join."""
    return (
        select(_v.id, _v.code, _v.price, _v.community_id, _v.expires_at, _v.item_id, _items.c.category, _items.c.photo)
        .add_columns(_items.c.name.label("item_name"), _users.c.name.label("resident_name"), _users.c.phone)
        .join_from(_vouchers, _items, _items.c.id == _v.item_id)
        .join(_users, _users.c.id == _v.user_id)
        .where(column == bindparam("match"))
    )


_CARD = {True: _card_query(_v.public_id), False: _card_query(_v.code)}  # by scanned token, by typed code
_NOW = bindparam("now", type_=_v.redeemed_at.type)
_REDEEM = (
    update(_vouchers)
    .where(
        _v.id == bindparam("voucher"),
        _v.state == "reserved",
        _v.expires_at > _NOW,
        _v.community_id == bindparam("community"),
    )
    .values(state="redeemed", redeemed_at=_NOW, redeemed_by_id=bindparam("steward"), handovers=_v.handovers + 1)
    .returning(_v.user_id, _v.community_id, _v.item_id, _v.price, _v.handovers)
)


@dataclass(frozen=True)
class Person:
    """A resident or a steward as a Card shows them."""

    name: str
    phone: str = ""

    @property
    def masked_phone(self) -> str:
        return mask(self.phone)


@dataclass(frozen=True)
class Shelf:
    """An item as a Card shows it."""

    id: int
    name: str
    category: str
    photo: str | None


@dataclass(frozen=True)
class Card:
    """What the desk shows of a voucher it has just handed over, read without the ORM.

    Named like Voucher's attributes (item, user, redeemed_by), so the views and templates show either.
    """

    id: int
    code: str
    state: str
    price: int
    community_id: int
    expires_at: datetime
    redeemed_at: datetime | None
    item: Shelf
    user: Person
    redeemed_by: Person | None


@dataclass
class Answer:
    reason: str  # one of REASONS
    message: object  # a translatable message for the steward
    voucher: Voucher | Card | None = None

    @property
    def ok(self) -> bool:
        return self.reason == "ok"


def parse(value: str) -> tuple[str | None, str | None]:
    """(public_id, code) from what the scanner or the steward typed: a signed token, a URL ending in one, or a code."""
    value = (value or "").strip()
    if not value or len(value) > 500:
        return None, None
    token = value.rsplit("/", 1)[-1].split("?t=")[-1]
    if public_id := public_id_of(token):
        return public_id, None
    code = value.upper().replace(" ", "").replace("-", "")
    if len(code) == CODE_LENGTH and all(ch in CODE_ALPHABET for ch in code):
        return None, code
    return None, None


def _match(public_id, code):
    return Voucher.public_id == public_id if public_id else Voucher.code == code


def _explain(voucher: Voucher | None, communities: set[int]) -> Answer:
    """Why a voucher cannot be handed over (or that it can)."""
    if voucher is None:
        return Answer("invalid", _l("This is not a voucher of ours: the code is unknown or has been altered."))
    if voucher.community_id not in communities:
        return Answer("other_community", _l("This voucher belongs to another community's supermarket."), None)
    if voucher.state == "redeemed":
        at = format_time(to_local(voucher.redeemed_at), "HH:mm")
        who = voucher.redeemed_by.name if voucher.redeemed_by else "?"
        return Answer("already_redeemed", _l("Already handed over at %(at)s by %(who)s.", at=at, who=who), voucher)
    if voucher.state == "cancelled":
        return Answer("cancelled", _l("The resident cancelled this voucher."), voucher)
    if is_expired(voucher):
        return Answer("expired", _l("This voucher has expired; its points and stock were given back."), voucher)
    return Answer("ok", _l("Valid: check the resident and hand the item over."), voucher)


def look_up(steward, value: str) -> Answer:
    """What a scan shows before anything changes."""
    communities = steward_community_ids(steward)
    if not communities:
        raise NotAllowed()
    public_id, code = parse(value)
    if not public_id and not code:
        return _explain(None, communities)
    return _explain(db.session.scalar(select(Voucher).where(_match(public_id, code))), communities)


def hand_over(steward, value: str) -> Answer:
    """Hand the voucher's item over: exactly once, whoever else scans it at the same moment."""
    communities = steward_community_ids(steward)
    if not communities:
        raise NotAllowed()
    shown = _shown(*parse(value))
    if shown is None or shown.community_id not in communities:  # unknown, or another community's: nothing to write
        return _explain(shown and db.session.get(Voucher, shown.id), communities)
    now, steward_id, steward_name = utcnow(), steward.id, steward.name  # read before begin_write's commit expires them
    begin_write()
    guard = {"voucher": shown.id, "community": shown.community_id, "now": now, "steward": steward_id}
    row = db.session.execute(_REDEEM, guard).first()
    if row is None:
        db.session.rollback()
        return _explain(db.session.get(Voucher, shown.id), communities)
    user_id, community_id, item_id, price, number = row
    ledger.spend_held(
        user_id,
        community_id,
        price,
        key=f"voucher:{shown.id}:spend:{number}",
        source_type="Voucher",
        source_id=shown.id,
        actor_id=steward_id,
    )
    stock.move(item_id, "handover", reserved=-1, issued=1, voucher_id=shown.id, actor_id=steward_id)
    db.session.commit()
    return Answer("ok", _l("Handed over."), _card(shown, now, Person(steward_name)))


def _shown(public_id: str | None, code: str | None):
    """The row of _CARD for a scanned token or a typed code; None when there is no such voucher."""
    if not public_id and not code:
        return None
    return db.session.execute(_CARD[bool(public_id)], {"match": public_id or code}).first()


def _card(shown, redeemed_at: datetime, steward: Person) -> Card:
    """The handed-over voucher as the desk shows it, from the _CARD row read before the hand-over."""
    return Card(
        id=shown.id,
        code=shown.code,
        state="redeemed",
        price=shown.price,
        community_id=shown.community_id,
        expires_at=shown.expires_at,
        redeemed_at=redeemed_at,
        item=Shelf(shown.item_id, shown.item_name, shown.category, shown.photo),
        user=Person(shown.resident_name, shown.phone),
        redeemed_by=steward,
    )


def undo(steward, voucher_id: int, reason: str) -> Voucher:
    """Take a hand-over back within 10 minutes: the points are held again and the unit reserved again."""
    reason = (reason or "").strip()
    if not reason or len(reason) > 300:
        raise DomainError("bad_reason", _l("Give a reason (up to 300 characters)."))
    begin_write()
    voucher = db.session.get(Voucher, voucher_id, with_for_update=True, populate_existing=True)
    if voucher is None or voucher.community_id not in steward_community_ids(steward):
        raise DomainError("not_found", _l("This voucher does not exist."), status=404)
    if voucher.state != "redeemed":
        raise DomainError("not_redeemed", _l("This voucher has not been handed over."))
    if utcnow() - aware(voucher.redeemed_at) > UNDO_WINDOW:
        raise DomainError("too_late", _l("A hand-over can only be undone within 10 minutes."))
    key = f"voucher:{voucher.id}:spend:{voucher.handovers}"
    spent = db.session.scalar(select(LedgerEntry).where(LedgerEntry.idempotency_key == key))
    ledger.reverse(spent, actor=steward, memo=reason)
    stock.move(voucher.item_id, "undo", reserved=1, issued=-1, voucher_id=voucher.id, actor=steward, reason=reason)
    before = {"redeemed_at": voucher.redeemed_at.isoformat(), "redeemed_by_id": voucher.redeemed_by_id}
    voucher.state, voucher.redeemed_at, voucher.redeemed_by_id = "reserved", None, None
    audit(steward, "exchange.handover_undo", voucher, before=before, after={"reason": reason})
    db.session.commit()
    return voucher


def find_for(steward, value: str) -> Voucher | None:
    """The voucher a steward may act on (their communities), by scanned token or typed code."""
    public_id, code = parse(value)
    if not public_id and not code:
        return None
    return db.session.scalar(
        select(Voucher).where(_match(public_id, code), Voucher.community_id.in_(steward_community_ids(steward)))
    )
