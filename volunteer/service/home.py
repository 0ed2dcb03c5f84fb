"""The volunteer's part of the home page: 1112 progress, recent services, activities, orders."""

from flask import url_for
from sqlalchemy import select

from ..core.models import local_today, utcnow
from ..extensions import db
from . import tracker
from .access import volunteer_community_ids
from .models import Activity, Order, OrderTake, ServiceRecord, Signup

SHOWN = 5
KEYS = (
    "service_progress",
    "service_recent",
    "service_upcoming",
    "service_open_activities",
    "service_taken",
    "service_orders",
    "service_links",
)


def service_home(user) -> dict:
    """Everything the home page shows a volunteer; empty lists and no progress for anyone else."""
    today = local_today()
    ids = volunteer_community_ids(user)
    if not ids:
        return dict.fromkeys(KEYS)
    return {
        "service_progress": tracker.progress(user, today.year, today),
        "service_recent": _recent(user),
        "service_upcoming": _upcoming(user),
        "service_open_activities": _open_activities(user, ids),
        "service_taken": _taken_orders(user),
        "service_orders": _open_orders(ids),
        "service_links": {
            "trail": url_for("service.trail"),
            "card": url_for("service.my_card"),
            "orders": url_for("service.orders"),
            "activities": url_for("service.activities"),
        },
    }


def _recent(user) -> list[ServiceRecord]:
    stmt = (
        select(ServiceRecord)
        .where(ServiceRecord.volunteer_id == user.id)
        .order_by(ServiceRecord.served_on.desc(), ServiceRecord.id.desc())
        .limit(SHOWN)
    )
    return list(db.session.scalars(stmt))


def _upcoming(user) -> list[Signup]:
    stmt = (
        select(Signup)
        .join(Activity, Activity.id == Signup.activity_id)
        .where(
            Signup.volunteer_id == user.id,
            Signup.state != "cancelled",
            Signup.checked_out_at.is_(None),  # done with it, even if the activity is still on
            Activity.state != "cancelled",
            Activity.ends_at > utcnow(),
        )
        .order_by(Activity.starts_at, Activity.id)
        .limit(SHOWN)
    )
    return list(db.session.scalars(stmt))


def _open_activities(user, community_ids) -> list[Activity]:
    """The community's next activities with a free place that the volunteer has not signed up for."""
    mine = select(Signup.activity_id).where(Signup.volunteer_id == user.id)
    stmt = (
        select(Activity)
        .where(
            Activity.community_id.in_(community_ids),
            Activity.state == "open",
            Activity.starts_at > utcnow(),
            Activity.taken < Activity.places,
            Activity.id.not_in(mine),
        )
        .order_by(Activity.starts_at, Activity.id)
        .limit(SHOWN)
    )
    return list(db.session.scalars(stmt))


def _taken_orders(user) -> list[Order]:
    """Orders the volunteer took that are not finished: to do, or done and waiting for the resident."""
    stmt = (
        select(Order)
        .join(OrderTake, OrderTake.order_id == Order.id)
        .where(OrderTake.volunteer_id == user.id, Order.state.in_(("open", "taken", "done", "disputed")))
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(SHOWN)
    )
    return list(db.session.scalars(stmt))


def _open_orders(community_ids) -> list[Order]:
    stmt = (
        select(Order)
        .where(Order.community_id.in_(community_ids), Order.state == "open")
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(SHOWN)
    )
    return list(db.session.scalars(stmt))
