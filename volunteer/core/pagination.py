"""Pagination of list pages with the page size from config."""

from flask import current_app, request

from ..extensions import db


def paginate(stmt):
    """Paginate a select() by ?page=; bad page numbers fall back to the first page."""
    page = request.args.get("page", 1, type=int) or 1
    return db.paginate(
        stmt,
        page=max(page, 1),
        per_page=current_app.config["PAGE_SIZE"],
        max_per_page=100,
        error_out=False,
    )


def search_term(max_len: int = 50) -> str:
    """The ?q= search box, trimmed and bounded so a pasted essay cannot hurt."""
    return (request.args.get("q") or "").strip()[:max_len]


def like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
