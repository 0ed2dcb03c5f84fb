"""The supermarket's part of the home page: vouchers ready to show at the desk."""

from flask_babel import format_date
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..core.models import to_local, utcnow
from ..extensions import db
from .access import shop_community_ids
from .models import Voucher

SHOWN = 3


def exchange_home(user) -> dict:
    """Open (reserved, unexpired) vouchers, oldest expiry first; None for someone who cannot shop."""
    if not shop_community_ids(user):
        return {"exchange_vouchers": None}
    stmt = (
        select(Voucher)
        .where(Voucher.user_id == user.id, Voucher.state == "reserved", Voucher.expires_at > utcnow())
        .options(joinedload(Voucher.item))
        .order_by(Voucher.expires_at, Voucher.id)
        .limit(SHOWN)
    )
    found = db.session.scalars(stmt)
    return {"exchange_vouchers": [(v, format_date(to_local(v.expires_at).date())) for v in found]}
