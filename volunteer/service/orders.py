"""群众点单、社区下单、义工接单: needs, orders, taking, done, the resident's confirmation.

need: open -> ordered | declined | withdrawn.
order: open -> taken (every place filled) -> done -> confirmed | disputed; disputed -> confirmed | closed;
open/taken -> cancelled. Each transition locks the order row, so two volunteers racing for the
last place, or a resident confirming while the auto-confirm job runs, are serialised.
Confirmation gives each volunteer who took the order one pending service record (source 'order').
"""

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..core.audit import record as audit
from ..core.database import begin_write
from ..core.errors import DomainError, NotAllowed
from ..core.models import local_today, to_local, utcnow
from ..extensions import db
from . import records
from .access import is_steward_of, is_volunteer_of, resident_community_id
from .models import CATEGORIES, Need, Order, OrderTake

AUTO_CONFIRM_AFTER = timedelta(days=7)
OPEN_NEEDS_MAX = 5  # a resident's needs waiting for the community at once


def _text(value, limit: int, code: str, message, required: bool = True) -> str:
    value = (value or "").strip()
    if (required and not value) or len(value) > limit:
        raise DomainError(code, message)
    return value


def _category(value) -> str:
    if value not in CATEGORIES:
        raise DomainError("bad_category", _l("Choose a category."))
    return value


def _lock_need(need_id: int) -> Need:
    need = db.session.get(Need, need_id, with_for_update=True, populate_existing=True)
    if need is None:
        raise DomainError("not_found", _l("This need does not exist."), status=404)
    return need


def _lock_order(order_id: int) -> Order:
    order = db.session.get(Order, order_id, with_for_update=True, populate_existing=True)
    if order is None:
        raise DomainError("not_found", _l("This order does not exist."), status=404)
    return order


# --- needs (residents) ---------------------------------------------------------------------------


def post_need(resident, *, category, description, preferred_time="") -> Need:
    community_id = resident_community_id(resident)
    if community_id is None:
        raise DomainError("not_resident", _l("Only residents of a community can post needs."), status=403)
    waiting = db.session.scalar(
        select(db.func.count(Need.id)).where(Need.resident_id == resident.id, Need.state == "open")
    )
    if waiting >= OPEN_NEEDS_MAX:
        raise DomainError("too_many", _l("You have %(n)d needs waiting already.", n=waiting))
    need = Need(
        community_id=community_id,
        resident_id=resident.id,
        category=_category(category),
        description=_text(description, 1000, "bad_description", _l("Describe the need (up to 1000 characters).")),
        preferred_time=_text(preferred_time, 60, "bad_time", _l("Up to 60 characters."), required=False),
    )
    db.session.add(need)
    db.session.commit()
    return need


def withdraw_need(resident, need_id: int) -> Need:
    begin_write()
    need = _lock_need(need_id)
    if need.resident_id != resident.id:
        raise NotAllowed()
    if need.state != "open":
        raise DomainError("not_open", _l("Only a need still waiting can be withdrawn."))
    need.state = "withdrawn"
    db.session.commit()
    return need


def decline_need(steward, need_id: int, reason: str) -> Need:
    reason = _text(reason, 300, "bad_reason", _l("Give a reason (up to 300 characters)."))
    begin_write()
    need = _lock_need(need_id)
    if not is_steward_of(steward, need.community_id):
        raise NotAllowed()
    if need.state != "open":
        raise DomainError("not_open", _l("This need was already dealt with."))
    need.state, need.decline_reason = "declined", reason
    need.decided_by_id, need.decided_at = steward.id, utcnow()
    audit(steward, "service.need_decline", need, after={"reason": reason})
    db.session.commit()
    return need


def _order_fields(fields: dict) -> dict:
    places = fields.get("places")
    if not isinstance(places, int) or isinstance(places, bool) or not 1 <= places <= 10:
        raise DomainError("bad_places", _l("Volunteers needed: a whole number from 1 to 10."))
    return {
        "category": _category(fields.get("category")),
        "title": _text(fields.get("title"), 80, "bad_title", _l("Enter a title (up to 80 characters).")),
        "description": _text(
            fields.get("description"), 1000, "bad_description", _l("Up to 1000 characters."), required=False
        ),
        "scheduled": _text(fields.get("scheduled"), 60, "bad_time", _l("Up to 60 characters."), required=False),
        "places": places,
    }


def make_order(steward, need_id: int, fields: dict) -> Order:
    """社区下单: the steward turns a resident's need into an order volunteers can take."""
    values = _order_fields(fields)
    begin_write()
    need = _lock_need(need_id)
    if not is_steward_of(steward, need.community_id):
        raise NotAllowed()
    if need.state != "open":
        raise DomainError("not_open", _l("This need was already dealt with."))
    order = Order(community_id=need.community_id, need_id=need.id, created_by_id=steward.id, **values)
    db.session.add(order)
    need.state, need.decided_by_id, need.decided_at = "ordered", steward.id, utcnow()
    db.session.flush()
    audit(steward, "service.order_create", order, after={"need_id": need.id, "places": order.places})
    db.session.commit()
    return order


def create_order(steward, community_id: int, fields: dict) -> Order:
    """An order the community raises itself, with no resident's need behind it."""
    if not is_steward_of(steward, community_id):
        raise NotAllowed()
    order = Order(community_id=community_id, created_by_id=steward.id, **_order_fields(fields))
    db.session.add(order)
    db.session.flush()
    audit(steward, "service.order_create", order, after={"places": order.places})
    db.session.commit()
    return order


def cancel_order(steward, order_id: int, reason: str) -> Order:
    reason = _text(reason, 300, "bad_reason", _l("Give a reason (up to 300 characters)."))
    begin_write()
    order = _lock_order(order_id)
    if not is_steward_of(steward, order.community_id):
        raise NotAllowed()
    if order.state not in ("open", "taken"):
        raise DomainError("not_open", _l("Only an order not yet done can be cancelled."))
    order.state, order.resolution, order.closed_at = "cancelled", reason, utcnow()
    audit(steward, "service.order_cancel", order, after={"reason": reason})
    db.session.commit()
    return order


# --- volunteers take and finish orders -----------------------------------------------------------


def take(volunteer, order_id: int) -> OrderTake:
    """义工接单: one place of the order; a volunteer of another community is refused."""
    begin_write()
    order = _lock_order(order_id)
    if not is_volunteer_of(volunteer, order.community_id):
        raise DomainError("not_volunteer", _l("Only volunteers of this community can take its orders."), status=403)
    if order.need is not None and order.need.resident_id == volunteer.id:
        raise DomainError("own_need", _l("You cannot take the order for your own need."))
    if any(t.volunteer_id == volunteer.id for t in order.takes):
        raise DomainError("already_taken", _l("You have already taken this order."))
    if order.state != "open" or order.taken >= order.places:
        raise DomainError("not_open", _l("This order is no longer open."))
    taken = OrderTake(order_id=order.id, volunteer_id=volunteer.id)
    db.session.add(taken)
    order.taken += 1
    if order.taken == order.places:
        order.state = "taken"
    db.session.commit()
    return taken


def release(volunteer, order_id: int) -> Order:
    """A volunteer who took an order gives their place back before it is done."""
    begin_write()
    order = _lock_order(order_id)
    mine = next((t for t in order.takes if t.volunteer_id == volunteer.id), None)
    if mine is None:
        raise NotAllowed()
    if order.state not in ("open", "taken"):
        raise DomainError("not_open", _l("This order is already done or closed."))
    db.session.delete(mine)
    order.taken -= 1
    order.state = "open"
    db.session.commit()
    return order


def mark_done(volunteer, order_id: int, *, note: str, minutes: int) -> Order:
    begin_write()
    order = _lock_order(order_id)
    if not any(t.volunteer_id == volunteer.id for t in order.takes):
        raise NotAllowed()
    if order.state not in ("open", "taken"):
        raise DomainError("not_open", _l("This order is already done or closed."))
    order.done_note = _text(note, 500, "bad_note", _l("Say what was done (up to 500 characters)."))
    order.done_minutes = records.check_minutes(minutes)
    order.state, order.done_at = "done", utcnow()
    db.session.commit()
    return order


def _close_confirmed(order: Order, *, auto: bool) -> None:
    """Confirmed: each volunteer who took the order gets a pending record of it."""
    order.state, order.closed_at, order.auto_confirmed = "confirmed", utcnow(), auto
    served_on = to_local(order.done_at).date() if order.done_at else local_today()
    for taken in order.takes:
        records.new_record(
            taken.volunteer,
            order.community_id,
            served_on=served_on,
            minutes=order.done_minutes,
            kind="order",
            source="order",
            description=order.title,
            order_id=order.id,
        )


def can_confirm(user, order: Order) -> bool:
    """The resident whose need it was; for an order the community raised itself, its stewards."""
    if order.resident_id is not None:
        return order.resident_id == user.id
    return is_steward_of(user, order.community_id)


def confirm(resident, order_id: int, *, rating: int, feedback: str = "") -> Order:
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise DomainError("bad_rating", _l("Rate the service from 1 to 5."))
    feedback = _text(feedback, 500, "bad_feedback", _l("Up to 500 characters."), required=False)
    begin_write()
    order = _lock_order(order_id)
    if not can_confirm(resident, order):
        raise NotAllowed()
    if order.state != "done":
        raise DomainError("not_done", _l("This order is not waiting for your confirmation."))
    order.rating, order.feedback = rating, feedback
    _close_confirmed(order, auto=False)
    db.session.commit()
    return order


def dispute(resident, order_id: int, reason: str) -> Order:
    reason = _text(reason, 500, "bad_reason", _l("Say what went wrong (up to 500 characters)."))
    begin_write()
    order = _lock_order(order_id)
    if order.resident_id != resident.id:
        raise NotAllowed()
    if order.state != "done":
        raise DomainError("not_done", _l("This order is not waiting for your confirmation."))
    order.state, order.dispute_reason = "disputed", reason
    db.session.commit()
    return order


def resolve(steward, order_id: int, *, upheld: bool, note: str) -> Order:
    """A steward settles a dispute: the service counts after all (confirmed) or not (closed)."""
    note = _text(note, 500, "bad_note", _l("Give a reason (up to 500 characters)."))
    begin_write()
    order = _lock_order(order_id)
    if not is_steward_of(steward, order.community_id):
        raise NotAllowed()
    if order.state != "disputed":
        raise DomainError("not_disputed", _l("This order is not disputed."))
    order.resolution, order.resolved_by_id = note, steward.id
    if upheld:
        _close_confirmed(order, auto=False)
    else:
        order.state, order.closed_at = "closed", utcnow()
    audit(steward, "service.order_resolve", order, after={"upheld": upheld, "note": note})
    db.session.commit()
    return order


def auto_confirm(now=None) -> int:
    """Confirm orders done more than 7 days ago that the resident neither confirmed nor disputed."""
    cutoff = (now or utcnow()) - AUTO_CONFIRM_AFTER
    begin_write()
    stmt = select(Order).where(Order.state == "done", Order.done_at < cutoff).with_for_update()
    count = 0
    for order in db.session.scalars(stmt):
        _close_confirmed(order, auto=True)
        count += 1
    db.session.commit()
    return count
