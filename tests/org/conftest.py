"""Helpers for the organisation page tests: a logged-in English browser, counting rows and audits."""

import pytest
from sqlalchemy import func, select

from volunteer.core.audit import AuditEntry
from volunteer.extensions import db

from ..conftest import english, login


@pytest.fixture
def browse(make_client):
    """A fresh browser in English, logged in as `user`."""

    def _browse(user):
        client = english(make_client())
        login(client, user)
        return client

    return _browse


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def audits(action: str) -> list[AuditEntry]:
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all()


def text(response) -> str:
    return response.get_data(as_text=True)


def get(model, object_id):
    return db.session.get(model, object_id)


def find(model, **by):
    """The one row with these column values, or None."""
    return db.session.scalar(select(model).filter_by(**by))
