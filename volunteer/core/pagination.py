"""Pagination, search boxes and other query-string filters, bounded so no query string can hurt."""

from flask import abort, current_app, request
from flask_babel import gettext as _

from ..extensions import db
from .models import local_today

MAX_PAGE = 100_000
FIRST_YEAR, LAST_YEAR = 2000, 2100


def paginate(stmt):
    """Paginate a select() by ?page=; a bad number is page 1, an absurd one a missing page."""
    page = request.args.get("page", 1, type=int) or 1
    if page > MAX_PAGE:
        abort(404)
    return db.paginate(
        stmt,
        page=max(page, 1),
        per_page=current_app.config["PAGE_SIZE"],
        max_per_page=100,
        error_out=False,
    )


def search_term(max_len: int = 50) -> str:
    """The ?q= box, trimmed, bounded, without control characters (PostgreSQL refuses NUL)."""
    raw = (request.args.get("q") or "").strip()[:max_len]
    return "".join(ch for ch in raw if ch.isprintable())


def like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def year_arg() -> tuple[int, str | None]:
    """?year=, defaulting to this year; a bad value falls back with a message to show."""
    this_year = local_today().year
    raw = (request.args.get("year") or "").strip()
    if not raw:
        return this_year, None
    if raw.isascii() and raw.isdigit() and FIRST_YEAR <= int(raw) <= LAST_YEAR:
        return int(raw), None
    return this_year, _("Choose a year between 2000 and 2100.")


def community_arg(ids: set[int]) -> int | None:
    """?community=: one of the user's communities, or None for all; another community is a 404."""
    raw = (request.args.get("community") or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) not in ids:
        abort(404)
    return int(raw)
