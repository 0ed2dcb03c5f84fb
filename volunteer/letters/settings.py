"""How a community signs its letters: signature, contact and closing lines, and its seal image (re-encoded as PNG)."""

import io

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..accounts.models import Role
from ..core import audit, images
from ..core import permissions as perm
from ..core.database import begin_write
from ..core.errors import DomainError, NotAllowed
from ..extensions import db
from .models import LetterSettings

SEAL_MAX_BYTES = 2 * 1024 * 1024
SEAL_MAX_SIDE = 600  # printed 40 mm wide: 600 px is ~380 dpi, plenty
SEAL_FORMATS = {"PNG", "JPEG", "WEBP", "GIF"}
LIMITS = {"signature": 120, "contact": 200, "closing": 600}


def for_community(community_id: int) -> LetterSettings:
    """The community's settings, or blank ones (not added to the session) if it has none yet."""
    row = db.session.scalar(select(LetterSettings).where(LetterSettings.community_id == community_id))
    return row or LetterSettings(community_id=community_id, signature="", contact="", closing="")


def read_seal(stream) -> bytes:
    """The upload's bytes, refused once they pass the limit."""
    data = stream.read(SEAL_MAX_BYTES + 1)
    if len(data) > SEAL_MAX_BYTES:
        raise DomainError("seal_too_large", _l("The seal image may be at most 2 MB."))
    if not data:
        raise DomainError("seal_empty", _l("The seal image file is empty."))
    return data


def seal_png(data: bytes) -> bytes:
    """Decode the picture for real (whatever its name says), keep its transparency, shrink it, store it as PNG."""
    bad = DomainError("seal_invalid", _l("The seal must be a PNG, JPEG, WebP or GIF picture."))
    image = images.decode(data, SEAL_FORMATS, bad, too_big_code="seal_invalid")
    image = image.convert("RGBA")  # a seal is usually red ink on a transparent background
    image.thumbnail((SEAL_MAX_SIDE, SEAL_MAX_SIDE))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)  # no metadata is carried over
    return out.getvalue()


def _clean(values: dict) -> dict:
    cleaned = {}
    for name, limit in LIMITS.items():
        text = (values.get(name) or "").strip()
        if len(text) > limit:
            raise DomainError(f"bad_{name}", _l("At most %(max)d characters.", max=limit))
        cleaned[name] = text
    return cleaned


def _locked_row(community_id: int) -> LetterSettings:
    """The community's row, locked; created if missing (two first saves at once: one inserts, one waits)."""
    stmt = select(LetterSettings).where(LetterSettings.community_id == community_id).with_for_update()
    row = db.session.scalar(stmt.execution_options(populate_existing=True))
    if row is not None:
        return row
    try:
        with db.session.begin_nested():
            row = LetterSettings(community_id=community_id, signature="", contact="", closing="")
            db.session.add(row)
        return row
    except IntegrityError:
        return db.session.scalar(stmt.execution_options(populate_existing=True))


def save(actor, community_id: int, values: dict, *, seal: bytes | None = None, remove_seal: bool = False):
    """The admin saves the community's letter settings (audited); `seal` is the uploaded file's bytes."""
    if not perm.has_role(actor, community_id, Role.ADMIN):
        raise NotAllowed()
    cleaned = _clean(values)
    png = seal_png(seal) if seal is not None else None
    begin_write()
    row = _locked_row(community_id)
    before = {**audit.snapshot(row, *LIMITS), "seal": row.seal_png is not None}
    after = {**cleaned, "seal": png is not None or (row.seal_png is not None and not remove_seal)}
    if before == after and png is None:
        db.session.rollback()  # nothing changed: no write, no audit entry
        return for_community(community_id)
    for name, text in cleaned.items():
        setattr(row, name, text)
    if png is not None:
        row.seal_png = png
        after["seal_bytes"] = len(png)
    elif remove_seal:
        row.seal_png = None
    row.updated_by_id = actor.id
    audit.record(actor, "letter.settings", row, community_id=community_id, before=before, after=after)
    db.session.commit()
    return row
