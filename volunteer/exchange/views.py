"""The exchange blueprint and what its page modules share.

Pages live in one module per area, imported at the bottom so they register on `bp`:
catalogue_views (items, stock, donations, stock-take), voucher_views (the resident's catalogue,
reservation, vouchers), desk_views (the desk: scanning, hand-over, undo, reports),
member_views (serving a resident without a smartphone by their member card and PIN).
"""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

bp = Blueprint("exchange", __name__, url_prefix="/exchange")
FORM = ("GET", "POST")

CATEGORY_LABELS = {
    "grain_oil": _l("Rice, flour and oil"),
    "daily": _l("Daily goods"),
    "cleaning": _l("Cleaning"),
    "stationery": _l("Stationery"),
    "service": _l("Services"),
    "other": _l("Other"),
}
VOUCHER_STATE_LABELS = {
    "reserved": (_l("Reserved: show it at the desk"), "neutral"),
    "redeemed": (_l("Handed over"), "ok"),
    "cancelled": (_l("Cancelled"), "neutral"),
    "expired": (_l("Expired"), "bad"),
}
MOVEMENT_LABELS = {
    "donation": _l("Donation"),
    "restock": _l("Restock"),
    "reserve": _l("Reserved"),
    "release": _l("Given back"),
    "handover": _l("Handed over"),
    "undo": _l("Hand-over undone"),
    "count": _l("Stock-take correction"),
}
LIMIT_PERIOD_LABELS = {"none": _l("in all"), "month": _l("a month"), "year": _l("a year")}


@bp.app_context_processor
def _labels():
    return {
        "exchange_categories": CATEGORY_LABELS,
        "voucher_states": VOUCHER_STATE_LABELS,
        "movement_kinds": MOVEMENT_LABELS,
        "limit_periods": LIMIT_PERIOD_LABELS,
    }


from . import catalogue_views, desk_views, member_views, voucher_views  # noqa: E402, F401
