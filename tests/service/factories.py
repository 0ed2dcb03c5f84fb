"""Factories for 1112 service rows: activities at any time, needs, orders and records in any state."""

import secrets
from datetime import timedelta

from volunteer.core.models import local_today, utcnow
from volunteer.service.models import Activity, Need, Order, Project, ServiceRecord, Signup

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
