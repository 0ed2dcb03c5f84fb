"""Pagination and search boxes of list pages, bounded so no query string can hurt the database."""

from flask import abort, current_app, request

from ..extensions import db

MAX_PAGE = 100_000


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
