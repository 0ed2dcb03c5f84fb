"""The community ledger as CSV, streamed row by row; UTF-8 with a BOM so Excel reads Chinese.

The rows are read on a connection of the generator's own, after the view has returned: the
streamed body needs no request or app context, only what the view translated for it.
"""

import csv
import io
from datetime import UTC

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import aliased

from ..accounts.models import User
from ..core.models import local_zone
from ..core.phone import mask
from ..extensions import db
from .models import LedgerEntry
from .queries import KIND_LABELS, SOURCES, LedgerFilter, filtered, newest_first, source_text

BOM = "\ufeff"
BATCH = 500
FLUSH_AT = 16_384


def _safe(value) -> str:
    """Text a spreadsheet will not run as a formula (=, +, -, @ at the start of a cell)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def header() -> list[str]:
    return [_("Time"), _("Name"), _("Phone"), _("Kind"), _("Points"), _("Held change"), _("Memo")] + [
        _("Source"),
        _("Actor"),
    ]


def statement(community_id: int, f: LedgerFilter):
    actor = aliased(User)
    columns = select(
        LedgerEntry.at,
        User.name,
        User.phone,
        LedgerEntry.kind,
        LedgerEntry.amount,
        LedgerEntry.held_delta,
        LedgerEntry.memo,
        LedgerEntry.source_type,
        LedgerEntry.source_id,
        actor.name,
    ).select_from(LedgerEntry)
    stmt = filtered(columns, community_id, f).outerjoin(actor, actor.id == LedgerEntry.actor_id)
    return newest_first(stmt)


def stream(community_id: int, f: LedgerFilter):
    """A generator of encoded chunks: BOM and header, then the entries newest first."""
    engine = db.engine
    stmt = statement(community_id, f)
    tz = local_zone()  # captured here: the generator runs outside the app context
    kinds = {k: str(v) for k, v in KIND_LABELS.items()}
    sources = {k: str(v[0]) for k, v in SOURCES.items()}
    head = header()

    def generate():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write(BOM)
        writer.writerow(head)
        with engine.connect() as conn:
            result = conn.execution_options(yield_per=BATCH).execute(stmt)
            for at, name, phone, kind, amount, held, memo, source_type, source_id, actor_name in result:
                at = at if at.tzinfo else at.replace(tzinfo=UTC)
                writer.writerow(
                    [
                        at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                        _safe(name),
                        mask(phone),
                        kinds.get(kind, kind),
                        amount,
                        held,
                        _safe(memo),
                        source_text(source_type, source_id, sources),
                        _safe(actor_name or ""),
                    ]
                )
                if buffer.tell() > FLUSH_AT:
                    yield buffer.getvalue().encode("utf-8")
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue().encode("utf-8")

    return generate()
