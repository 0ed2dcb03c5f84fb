"""Factories for 1112 service rows: activities at any time, needs, orders and records in any state."""

import secrets
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from volunteer.accounts.models import Role
from volunteer.core.errors import DomainError
from volunteer.core.models import local_today, utcnow
from volunteer.extensions import db
from volunteer.ledger.models import LedgerEntry, PointsAccount
from volunteer.service import checkin_codes
from volunteer.service.models import Activity, Need, Order, Project, ServicePolicy, ServiceRecord, Signup

from .. import factories


def activity(community, *, starts_in=timedelta(hours=1), length=timedelta(hours=2), **kw) -> Activity:
    """An activity starting `starts_in` from now (negative: already started)."""
    starts = utcnow() + starts_in
    kw.setdefault("title", f"活动{factories.n()}")
    kw.setdefault("category", "environment")
    kw.setdefault("place", "社区广场")
    kw.setdefault("places", 5)
    return factories._commit(
        Activity(
            community_id=community.id, starts_at=starts, ends_at=starts + length, secret=secrets.token_hex(16), **kw
        )
    )


def signup(activity_, volunteer, state="confirmed", **kw) -> Signup:
    row = factories._commit(Signup(activity_id=activity_.id, volunteer_id=volunteer.id, state=state, **kw))
    if state == "confirmed":
        activity_.taken += 1
        factories._commit(activity_)
    return row


def need(resident, community, **kw) -> Need:
    kw.setdefault("category", "elderly")
    kw.setdefault("description", f"需求{factories.n()}")
    return factories._commit(Need(community_id=community.id, resident_id=resident.id, **kw))


def order(community, need_=None, **kw) -> Order:
    kw.setdefault("category", "elderly")
    kw.setdefault("title", f"订单{factories.n()}")
    return factories._commit(Order(community_id=community.id, need_id=need_.id if need_ else None, **kw))


def project(community, **kw) -> Project:
    kw.setdefault("kind", "project")
    kw.setdefault("title", f"项目{factories.n()}")
    kw.setdefault("capacity", 3)
    kw.setdefault("starts_on", local_today() - timedelta(days=30))
    return factories._commit(Project(community_id=community.id, claimed=0, **kw))


def record(volunteer, community, **kw) -> ServiceRecord:
    """A pending record (verify it through the service to earn points)."""
    kw.setdefault("served_on", local_today())
    kw.setdefault("minutes", 90)
    kw.setdefault("kind", "other")
    kw.setdefault("source", "self")
    kw.setdefault("description", f"服务{factories.n()}")
    return factories._commit(ServiceRecord(community_id=community.id, volunteer_id=volunteer.id, **kw))


# --- added for the service-layer suite --------------------------------------------------------


def volunteer(community, **kw):
    """A user holding the volunteer role in `community` (not a party member)."""
    return factories.staff(Role.VOLUNTEER, community, **kw)


def steward(community, **kw):
    return factories.staff(Role.STEWARD, community, **kw)


def policy(community, *, per_hour=10, per_service=5) -> ServicePolicy:
    return factories._commit(
        ServicePolicy(community_id=community.id, points_per_hour=per_hour, points_per_service=per_service)
    )


def fresh(model, object_id):
    """The row as the database has it now (ends the test's read snapshot first)."""
    db.session.commit()
    db.session.expire_all()
    return db.session.get(model, object_id)


def count(model, *where) -> int:
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def earn_entries(record_id: int) -> list[LedgerEntry]:
    """The earn_service entries written for a service record, oldest first."""
    db.session.commit()
    stmt = select(LedgerEntry).where(
        LedgerEntry.kind == "earn_service",
        LedgerEntry.source_type == "ServiceRecord",
        LedgerEntry.source_id == record_id,
    )
    return list(db.session.scalars(stmt.order_by(LedgerEntry.id)))


def balance(user, community) -> int:
    db.session.commit()
    value = db.session.scalar(
        select(PointsAccount.balance).where(
            PointsAccount.user_id == user.id, PointsAccount.community_id == community.id
        )
    )
    return value or 0


def refused(code: str, call, *args, **kw):
    """Call a service that must refuse with `code`; roll its transaction back as a request would."""
    with pytest.raises(DomainError) as err:
        call(*args, **kw)
    db.session.rollback()
    assert err.value.code == code, (err.value.code, str(err.value))
    return err.value


def freeze_codes(monkeypatch, moment: float) -> None:
    """The check-in codes' clock (time.time) stands still at `moment`; datetimes are untouched."""
    monkeypatch.setattr(checkin_codes, "time", SimpleNamespace(time=lambda: moment))
