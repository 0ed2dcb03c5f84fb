"""Helpers for the credit tests: row counts and the credit entries of a declaration."""

from sqlalchemy import func, select

from volunteer.extensions import db
from volunteer.ledger.models import LedgerEntry


def credit_entries(declaration_id: int) -> list[LedgerEntry]:
    stmt = select(LedgerEntry).where(LedgerEntry.kind == "earn_credit", LedgerEntry.source_id == declaration_id)
    return db.session.scalars(stmt).all()


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))
