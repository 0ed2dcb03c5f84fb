"""Read helpers for the ledger pages: whose accounts, filtered entries, totals and source labels."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import contains_eager

from ..accounts.models import RoleGrant, User
from ..core.models import local_zone
from ..core.pagination import like
from ..extensions import db
from ..org.models import Building, Community, Compound
from .models import KINDS, LedgerEntry, PointsAccount

KIND_LABELS = {
    "earn_service": _l("Earned by service"),
    "earn_credit": _l("Earned by credit declaration"),
    "hold": _l("Held for a reward"),
    "release": _l("Hold released"),
    "spend": _l("Spent"),
    "expire": _l("Expired"),
    "adjust": _l("Adjustment"),
    "reversal": _l("Reversal"),
}
assert set(KIND_LABELS) == set(KINDS)

# source_type -> (label with %(id)d, endpoint of its page, the endpoint's argument name).
SOURCES = {
    "Declaration": (_l("credit declaration #%(id)d"), "credit.declaration", "declaration_id"),
    "ServiceRecord": (_l("service record #%(id)d"), None, None),
    "Voucher": (_l("reward voucher #%(id)d"), None, None),
    "Reservation": (_l("reward reservation #%(id)d"), None, None),
    "LedgerEntry": (_l("entry #%(id)d"), None, None),
}


def source_text(source_type: str, source_id: int | None, labels: dict | None = None) -> str:
    """The source as text, such as "credit declaration #12"; `labels`: SOURCES already translated."""
    if not source_type:
        return ""
    label = (labels or {}).get(source_type) or SOURCES.get(source_type, (None,))[0]
    if label is None or source_id is None:
        return f"{source_type} #{source_id}" if source_id else source_type
    return str(label) % {"id": source_id}


def source_label(entry: LedgerEntry) -> str:
    return source_text(entry.source_type, entry.source_id)


def source_link(entry: LedgerEntry) -> str | None:
    """The source's page, if the app has one (its view checks who may see it)."""
    _label, endpoint, arg = SOURCES.get(entry.source_type, (None, None, None))
    if endpoint is None or entry.source_id is None or endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, **{arg: entry.source_id})


# --- whose accounts ------------------------------------------------------------------------------


def member_community_ids(user) -> set[int]:
    """Communities a user belongs to: a role there, a home there, or a points account there."""
    ids = {g.community_id for g in user.roles if g.community_id}
    if user.building is not None:
        ids.add(user.building.community_id)
    ids |= set(db.session.scalars(select(PointsAccount.community_id).where(PointsAccount.user_id == user.id)))
    return ids


def belongs_to(user: User, community_id: int) -> bool:
    """A resident or role holder of the community (who may be given points there)."""
    if any(g.community_id == community_id for g in user.roles):
        return True
    return user.building is not None and user.building.community_id == community_id


def members_of(community_id: int):
    """select(User) of the people who hold a role in, or live in, the community."""
    holds_role = exists().where(RoleGrant.user_id == User.id, RoleGrant.community_id == community_id)
    lives_here = exists().where(
        Building.id == User.building_id, Building.compound_id == Compound.id, Compound.community_id == community_id
    )
    return select(User).where(or_(holds_role, lives_here))


def communities(ids) -> list[Community]:
    if not ids:
        return []
    return list(db.session.scalars(select(Community).where(Community.id.in_(ids)).order_by(Community.name)))


# --- the community ledger's filters ----------------------------------------------------------------

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)


@dataclass
class LedgerFilter:
    kind: str = ""
    start: date | None = None
    end: date | None = None
    q: str = ""
    errors: list[str] = field(default_factory=list)

    def args(self) -> dict:
        """The filter as query arguments (for the CSV link and the pager)."""
        out = {"kind": self.kind, "from": self.start.isoformat() if self.start else "", "q": self.q}
        out["to"] = self.end.isoformat() if self.end else ""
        return {k: v for k, v in out.items() if v}


def _day(raw: str, label, errors: list) -> date | None:
    raw = (raw or "").strip()[:20]
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        errors.append(str(_l("%(field)s: enter a date such as 2026-03-01.", field=label)))
        return None
    if not FIRST_DAY <= day <= LAST_DAY:
        errors.append(str(_l("%(field)s: choose a date between 2000 and 2100.", field=label)))
        return None
    return day


def parse_filter(args, q: str) -> LedgerFilter:
    f = LedgerFilter(q=q)
    kind = (args.get("kind") or "").strip()[:30]
    if kind and kind not in KINDS:
        f.errors.append(str(_l("Choose a kind of entry from the list.")))
    else:
        f.kind = kind
    f.start = _day(args.get("from"), _l("From"), f.errors)
    f.end = _day(args.get("to"), _l("To"), f.errors)
    if f.start and f.end and f.end < f.start:
        f.errors.append(str(_l("The end date cannot be before the start date.")))
    return f


def _local_midnight(day: date) -> datetime:
    """The start of a local calendar day (the community's time zone), for comparing with UTC times."""
    local = datetime.combine(day, time(0), tzinfo=local_zone())
    return local.astimezone(UTC)  # SQLite compares the text: both sides in UTC


def entries_in(community_id: int, f: LedgerFilter):
    """select(LedgerEntry) of the community's entries that match the filter, with account and user loaded."""
    stmt = filtered(select(LedgerEntry), community_id, f)
    return stmt.options(contains_eager(LedgerEntry.account).contains_eager(PointsAccount.user))


def filtered(stmt, community_id: int, f: LedgerFilter):
    """`stmt` (selecting from ledger entries) joined to accounts and users and narrowed by the filter."""
    stmt = (
        stmt.join(PointsAccount, PointsAccount.id == LedgerEntry.account_id)
        .join(User, User.id == PointsAccount.user_id)
        .where(PointsAccount.community_id == community_id)
    )
    if f.kind:
        stmt = stmt.where(LedgerEntry.kind == f.kind)
    if f.start:
        stmt = stmt.where(LedgerEntry.at >= _local_midnight(f.start))
    if f.end:
        stmt = stmt.where(LedgerEntry.at < _local_midnight(f.end + timedelta(days=1)))
    if f.q:
        pattern = like(f.q)
        stmt = stmt.where(or_(User.name.like(pattern, escape="\\"), User.phone.like(pattern, escape="\\")))
    return stmt


def newest_first(stmt):
    return stmt.order_by(LedgerEntry.at.desc(), LedgerEntry.id.desc())


@dataclass
class Totals:
    issued: int = 0  # earned by service and credit
    adjusted: int = 0  # net manual adjustments
    spent: int = 0
    expired: int = 0
    reversed: int = 0  # net change made by reversals
    held: int = 0  # net change in held points
    count: int = 0


def totals(community_id: int, f: LedgerFilter) -> Totals:
    """Sums over the filtered entries (the same set the page and the CSV show)."""
    columns = (LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.held_delta)
    sub = filtered(select(*columns), community_id, f).subquery()
    rows = db.session.execute(
        select(sub.c.kind, func.sum(sub.c.amount), func.sum(sub.c.held_delta), func.count()).group_by(sub.c.kind)
    )
    t = Totals()
    for kind, amount, held, n in rows:
        amount, held = int(amount or 0), int(held or 0)
        t.count += n
        t.held += held
        if kind in ("earn_service", "earn_credit"):
            t.issued += amount
        elif kind == "adjust":
            t.adjusted += amount
        elif kind == "spend":
            t.spent -= amount
        elif kind == "expire":
            t.expired -= amount
        elif kind == "reversal":
            t.reversed += amount
    return t


def reversed_ids(entry_ids) -> set[int]:
    """Which of these entries already have a reversal."""
    if not entry_ids:
        return set()
    stmt = select(LedgerEntry.reverses_id).where(LedgerEntry.reverses_id.in_(entry_ids))
    return set(db.session.scalars(stmt))


def held_in(community_id: int) -> int:
    """Points held right now across the community's accounts (reserved rewards not yet handed over)."""
    stmt = select(func.coalesce(func.sum(PointsAccount.held), 0)).where(PointsAccount.community_id == community_id)
    return int(db.session.scalar(stmt) or 0)
