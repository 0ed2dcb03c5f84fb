"""The 1112 tracker: each reporting party member's verified services this year in their assigned community.

"On pace" means at least as many services as a steady 12 a year would have given by the date
(the expected count is rounded down, so in January nobody is behind yet). Verified hours are
split into checked and entered ones by the rule of records.checked_minutes_sum.
"""

import calendar
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, func, select

from ..accounts.models import User
from ..extensions import db
from ..org.models import Community, MemberReport, Unit
from .models import TARGET, ServiceRecord
from .records import checked_minutes_sum


def expected_by(year: int, today: date) -> int:
    """Services a member should have done in `year` by `today` to be on pace for 12."""
    if today.year > year:
        return TARGET
    if today.year < year:
        return 0
    days = 366 if calendar.isleap(year) else 365
    return TARGET * today.timetuple().tm_yday // days


@dataclass
class Row:
    user: User
    community: Community
    unit: Unit
    verified: int
    pending: int
    minutes: int
    expected: int
    checked_minutes: int = 0  # of `minutes`: measured by the system and not corrected

    @property
    def done(self) -> bool:
        return self.verified >= TARGET

    @property
    def on_pace(self) -> bool:
        return self.verified >= self.expected

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)

    @property
    def checked_hours(self) -> float:
        return round(self.checked_minutes / 60, 1)

    @property
    def entered_hours(self) -> float:
        return round((self.minutes - self.checked_minutes) / 60, 1)


def _counts(year: int):
    """Per (volunteer, community): verified and pending services, verified and checked minutes in `year`."""
    verified = ServiceRecord.status == "verified"
    return (
        select(
            ServiceRecord.volunteer_id,
            ServiceRecord.community_id,
            func.sum(case((verified, 1), else_=0)).label("verified"),
            func.sum(case((ServiceRecord.status == "pending", 1), else_=0)).label("pending"),
            func.sum(case((verified, ServiceRecord.minutes), else_=0)).label("minutes"),
            checked_minutes_sum().label("checked"),
        )
        .where(ServiceRecord.served_on >= date(year, 1, 1), ServiceRecord.served_on <= date(year, 12, 31))
        .group_by(ServiceRecord.volunteer_id, ServiceRecord.community_id)
        .subquery()
    )


def rows(year: int, today: date, *, community_ids=None, unit_ids=None, user_id=None) -> list[Row]:
    """One row per 双报到 report of `year`, limited to the given communities, units or member."""
    counts = _counts(year)
    stmt = (
        select(MemberReport, counts.c.verified, counts.c.pending, counts.c.minutes, counts.c.checked)
        .join(User, User.id == MemberReport.user_id)
        .outerjoin(
            counts,
            and_(counts.c.volunteer_id == MemberReport.user_id, counts.c.community_id == MemberReport.community_id),
        )
        .where(MemberReport.year == year)
        .order_by(func.coalesce(counts.c.verified, 0), User.name, User.id)
    )
    if community_ids is not None:
        stmt = stmt.where(MemberReport.community_id.in_(community_ids))
    if unit_ids is not None:
        stmt = stmt.where(MemberReport.unit_id.in_(unit_ids))
    if user_id is not None:
        stmt = stmt.where(MemberReport.user_id == user_id)
    expected = expected_by(year, today)
    return [
        Row(
            report.user,
            report.community,
            report.unit,
            verified or 0,
            pending or 0,
            minutes or 0,
            expected,
            checked or 0,
        )
        for report, verified, pending, minutes, checked in db.session.execute(stmt)
    ]


def progress(user, year: int, today: date) -> Row | None:
    """The member's own 1112 row for `year`, or None if they did not report to a community."""
    found = rows(year, today, user_id=user.id)
    return found[0] if found else None


def summary(found: list[Row]) -> dict:
    return {
        "members": len(found),
        "done": sum(r.done for r in found),
        "on_pace": sum(r.on_pace for r in found),
        "behind": sum(not r.on_pace for r in found),
    }
