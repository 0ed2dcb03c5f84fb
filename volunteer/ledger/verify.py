"""Recompute every account from its entries and report any balance that disagrees."""

from dataclasses import dataclass

from sqlalchemy import func, select

from ..extensions import db
from .models import LedgerEntry, PointsAccount


@dataclass
class Mismatch:
    account_id: int
    user_id: int
    community_id: int
    balance: int
    entries_balance: int
    held: int
    entries_held: int


def mismatches() -> list[Mismatch]:
    sums = (
        select(
            LedgerEntry.account_id,
            func.coalesce(func.sum(LedgerEntry.amount), 0).label("amount"),
            func.coalesce(func.sum(LedgerEntry.held_delta), 0).label("held"),
        )
        .group_by(LedgerEntry.account_id)
        .subquery()
    )
    rows = db.session.execute(
        select(PointsAccount, func.coalesce(sums.c.amount, 0), func.coalesce(sums.c.held, 0))
        .outerjoin(sums, sums.c.account_id == PointsAccount.id)
        .order_by(PointsAccount.id)
    )
    return [
        Mismatch(a.id, a.user_id, a.community_id, a.balance, int(amount), a.held, int(held))
        for a, amount, held in rows
        if a.balance != amount or a.held != held
    ]
