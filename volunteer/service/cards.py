"""Member cards: a signed token naming the member, shown as a QR code; a steward scans it to find them.

The token never expires: a printed card must keep working for years. It is signed for this one
purpose, so it cannot be forged or turned into another kind of token, and it carries only the
user's id. A deactivated account's card stops working.
"""

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select

from ..accounts.models import User
from ..core import signing
from ..core.models import utcnow
from ..extensions import db
from .models import Activity, Signup

PURPOSE = "member-card"
CARD_PATH = "/service/card/"
NEAR = timedelta(minutes=30)  # a card scan finds activities starting or ended this close to now


def card_token(user) -> str:
    return signing.sign(PURPOSE, user.id)


def _bare(value: str) -> str:
    """The token itself, from either the token or the whole URL a phone camera reads off the card."""
    if "/" not in value:
        return value
    path = urlsplit(value).path
    if CARD_PATH not in path:
        return ""
    return path.rsplit(CARD_PATH, 1)[1].strip("/")


def card_user(value) -> User | None:
    """The member a scanned or typed card names, or None (unknown, forged, edited or deactivated)."""
    if not isinstance(value, str) or not value.strip() or len(value) > 1000:
        return None
    payload = signing.unsign(PURPOSE, _bare(value.strip()))
    if not isinstance(payload, int) or isinstance(payload, bool):
        return None
    user = db.session.get(User, payload)
    return user if user is not None and user.is_active else None


def current_signups(member, community_ids: set[int], now: datetime | None = None) -> list[Signup]:
    """The member's confirmed sign-ups on activities of these communities happening about now."""
    now = now or utcnow()
    stmt = (
        select(Signup)
        .join(Activity, Activity.id == Signup.activity_id)
        .where(
            Signup.volunteer_id == member.id,
            Signup.state == "confirmed",
            Activity.community_id.in_(community_ids),
            Activity.state == "open",
            Activity.starts_at <= now + NEAR,
            Activity.ends_at >= now - NEAR,
        )
        .order_by(Activity.starts_at, Activity.id)
    )
    return list(db.session.scalars(stmt))
