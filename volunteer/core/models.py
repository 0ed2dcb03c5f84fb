"""Base model mixins and time helpers."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import DateTime
from sqlalchemy.orm import Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def local_zone() -> ZoneInfo:
    """The district's time zone: years, days and expiry dates are local, not UTC."""
    name = current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai") if has_app_context() else "Asia/Shanghai"
    return ZoneInfo(name)


def to_local(moment: datetime) -> datetime:
    """A stored time in the local zone (SQLite hands back naive UTC values)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(local_zone())


def local_year_bounds(year: int) -> tuple[datetime, datetime]:
    """Start of 1 January of `year` and of the next year, local time, as aware datetimes."""
    zone = local_zone()
    return datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)


def local_today():
    return datetime.now(local_zone()).date()


def aware(moment: datetime | None) -> datetime | None:
    """A stored time as an aware UTC datetime (SQLite hands back naive UTC values)."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def one_of(column: str, values) -> str:
    """A CHECK constraint's text: `column` holds one of `values` (strings)."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"
