"""Helpers for the credit tests: logged-in English browsers and row counts."""

import pytest
from sqlalchemy import func, select

from volunteer.extensions import db
from volunteer.ledger.models import LedgerEntry

from ..conftest import english, login


@pytest.fixture
def browse(make_client):
    def _browse(user):
        client = english(make_client())
        login(client, user)
        return client

    return _browse


def text(response) -> str:
    return response.get_data(as_text=True)


def credit_entries(declaration_id: int) -> list[LedgerEntry]:
    stmt = select(LedgerEntry).where(LedgerEntry.kind == "earn_credit", LedgerEntry.source_id == declaration_id)
    return db.session.scalars(stmt).all()


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))
