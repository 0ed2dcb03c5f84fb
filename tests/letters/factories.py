"""Letters test data: verified service records, letters issued through the service, the queue drained."""

from datetime import date

from sqlalchemy import select

from volunteer.accounts.models import Role, RoleGrant, User
from volunteer.core.models import local_today
from volunteer.extensions import db
from volunteer.letters import batches, documents, periods, queue
from volunteer.service import records

from .. import factories


def served(member, community, count: int = 3, *, on: date | None = None, minutes: int = 120, kind: str = "activity"):
    """`count` services on one day, each verified by a steward through the service (points and all)."""
    steward = db.session.scalar(
        select(User)
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .where(RoleGrant.role == Role.STEWARD, RoleGrant.community_id == community.id)
    ) or factories.staff(Role.STEWARD, community)
    for i in range(count):
        row = records.enter_for(
            steward,
            member,
            community.id,
            day=on or local_today(),
            minutes=minutes,
            kind=kind,
            description=f"为老服务{i + 1}",
        )
        records.verify(steward, row.id)


def this_quarter() -> periods.Period:
    today = local_today()
    return periods.quarter(today.year, (today.month - 1) // 3 + 1)


def generate(community, admin, period=None):
    """Start and run a batch in-process, as the worker would; returns the finished batch."""
    batch = batches.start(community.id, period or this_quarter(), admin)
    return batches.run(batch.id, on_emails=queue.get().send_later)


def letter_for(member, community, admin, period=None):
    generate(community, admin, period)
    return documents.live_letter(community.id, member.id, period or this_quarter())
