"""The 1112 service blueprint and what its page modules share: loaders that check access, labels.

Pages live in one module per area, imported at the bottom so they register on `bp`:
list_views (needs, resources, projects), order_views (orders), activity_views (activities,
check-in, member cards), record_views (service records, trail, points rule), tracker_views (1112).
"""

from flask import Blueprint, abort, flash, redirect
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..core import permissions as perm
from ..core.errors import DomainError
from ..extensions import db
from .access import member_community_ids, steward_community_ids

bp = Blueprint("service", __name__, url_prefix="/service")
FORM = ("GET", "POST")

CATEGORY_LABELS = {
    "elderly": _l("Elderly care"),
    "children": _l("Children"),
    "environment": _l("Environment"),
    "safety": _l("Safety patrol"),
    "culture": _l("Culture and sport"),
    "health": _l("Health"),
    "repair": _l("Repairs"),
    "other": _l("Other"),
}
RECORD_KIND_LABELS = {
    "activity": _l("Activity"),
    "order": _l("Order"),
    "project": _l("Project or post"),
    "other": _l("Other service"),
}
RECORD_SOURCE_LABELS = {
    "qr": _l("Checked in by QR"),
    "order": _l("Taken order"),
    "self": _l("Self-reported"),
    "steward": _l("Entered by a steward"),
}
RECORD_STATUS_LABELS = {
    "pending": (_l("Waiting for verification"), "neutral"),
    "verified": (_l("Verified"), "ok"),
    "rejected": (_l("Rejected"), "bad"),
}
NEED_STATE_LABELS = {
    "open": (_l("Waiting for the community"), "neutral"),
    "ordered": (_l("Made an order"), "ok"),
    "declined": (_l("Declined"), "bad"),
    "withdrawn": (_l("Withdrawn"), "neutral"),
}
ORDER_STATE_LABELS = {
    "open": (_l("Open to take"), "neutral"),
    "taken": (_l("Taken"), "neutral"),
    "done": (_l("Done, waiting for confirmation"), "warn"),
    "confirmed": (_l("Confirmed"), "ok"),
    "disputed": (_l("Disputed"), "bad"),
    "cancelled": (_l("Cancelled"), "neutral"),
    "closed": (_l("Closed without service"), "bad"),
}
SIGNUP_STATE_LABELS = {
    "confirmed": (_l("Confirmed"), "ok"),
    "waiting": (_l("Waiting list"), "warn"),
    "cancelled": (_l("Cancelled"), "neutral"),
}
RESOURCE_KIND_LABELS = {"venue": _l("Venue"), "goods": _l("Goods"), "skill": _l("Skill")}
PROJECT_KIND_LABELS = {"project": _l("Service project"), "post": _l("Public-welfare post")}


@bp.app_context_processor
def _labels():
    return {
        "service_categories": CATEGORY_LABELS,
        "record_kinds": RECORD_KIND_LABELS,
        "record_sources": RECORD_SOURCE_LABELS,
        "record_states": RECORD_STATUS_LABELS,
        "need_states": NEED_STATE_LABELS,
        "order_states": ORDER_STATE_LABELS,
        "signup_states": SIGNUP_STATE_LABELS,
        "resource_kinds": RESOURCE_KIND_LABELS,
        "project_kinds": PROJECT_KIND_LABELS,
    }


def attempt(form, action, field_of: dict | None = None):
    """Run a service call; a DomainError becomes an error on its field (or the form). None if refused."""
    try:
        return action()
    except DomainError as err:
        db.session.rollback()
        name = (field_of or {}).get(err.code)
        if form is not None and name and name in form:
            form[name].errors = [*form[name].errors, str(err.message)]
        elif form is not None:
            form.form_errors.append(str(err.message))
        else:
            flash(str(err.message), "error")
        return None


def done(message, endpoint_url: str):
    flash(message, "success")
    return redirect(endpoint_url, code=303)


def get_readable(model, object_id: int):
    """An object of a community whose lists the user may read (member, volunteer or steward); else 404."""
    perm.require_login()
    obj = db.session.get(model, object_id)
    if obj is None or obj.community_id not in member_community_ids(current_user):
        abort(404)
    return obj


def get_stewarded(model, object_id: int):
    """An object of a community the user runs as steward or admin; else 404."""
    perm.require_login()
    obj = db.session.get(model, object_id)
    if obj is None or obj.community_id not in steward_community_ids(current_user):
        abort(404)
    return obj


from . import activity_views, checkin_views, list_views, order_views, record_views, tracker_views  # noqa: E402, F401
