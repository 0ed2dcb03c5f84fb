"""The rotating check-in codes an activity's screen shows: a signed QR token and a 6-digit code.

Both change every WINDOW seconds and are accepted for GRACE windows, so a code read from the
screen works for 60-90 seconds and a photo of an old one does not. The QR token is signed with
the app's key (a forged or edited one fails); the short code is an HMAC of the window under the
activity's own secret, so it cannot be worked out from another activity's codes.
"""

import hashlib
import hmac
import time
from dataclasses import dataclass

from ..core import signing

WINDOW = 30
GRACE = 3  # the current window and the two before it
MODES = ("in", "out")
PURPOSE = "activity-checkin"


def window_at(now: float | None = None) -> int:
    return int(now if now is not None else time.time()) // WINDOW


def short_code(activity, mode: str, window: int) -> str:
    digest = hmac.new(activity.secret.encode(), f"{mode}:{window}".encode(), hashlib.sha256).hexdigest()
    return f"{int(digest[:12], 16) % 1_000_000:06d}"


def token(activity, mode: str, window: int | None = None) -> str:
    return signing.sign(PURPOSE, [activity.id, mode, window if window is not None else window_at()])


def seconds_left(now: float | None = None) -> int:
    now = now if now is not None else time.time()
    return WINDOW - int(now) % WINDOW


@dataclass
class Reading:
    """What a scanned token says, before the activity and the person are checked."""

    activity_id: int | None
    mode: str | None
    fresh: bool  # False: genuine, but older than the grace period
    valid: bool  # False: not made by us (forged, edited, or for something else)


def read_token(value: str, now: float | None = None) -> Reading:
    payload = signing.unsign(PURPOSE, value)
    if (
        not isinstance(payload, list)
        or len(payload) != 3
        or not all(isinstance(x, int) and not isinstance(x, bool) for x in (payload[0], payload[2]))
        or payload[1] not in MODES
    ):
        return Reading(None, None, False, False)
    activity_id, mode, window = payload
    age = window_at(now) - window
    return Reading(activity_id, mode, 0 <= age < GRACE, True)


def match_code(activity, code: str, now: float | None = None) -> str | None:
    """The mode ('in' or 'out') whose current code `code` is, or None."""
    code = (code or "").strip()
    if len(code) != 6 or not code.isdigit():
        return None
    current = window_at(now)
    for window in range(current, current - GRACE, -1):
        for mode in MODES:
            if hmac.compare_digest(short_code(activity, mode, window), code):
                return mode
    return None


def was_code(activity, code: str, now: float | None = None, lookback: int = 240) -> bool:
    """True if `code` was this activity's code in the last two hours (so: expired, not mistyped)."""
    current = window_at(now)
    return any(
        hmac.compare_digest(short_code(activity, mode, window), code)
        for window in range(current - GRACE, current - lookback, -1)
        for mode in MODES
    )
