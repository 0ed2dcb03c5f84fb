"""Letter periods: a quarter ("2026-Q3") or a whole year ("2026"), with their dates and Chinese names."""

import re
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l

from ..core.errors import DomainError

QUARTER_NAMES = ("一", "二", "三", "四")
_PATTERN = re.compile(r"^\s*(\d{4})(?:\s*-?\s*[Qq]([1-4]))?\s*$")


@dataclass(frozen=True)
class Period:
    key: str  # "2026-Q3" or "2026"
    start: date
    end: date

    @property
    def year(self) -> int:
        return self.start.year

    @property
    def quarter(self) -> int | None:
        return int(self.key[-1]) if "-Q" in self.key else None

    @property
    def chinese(self) -> str:
        """As the letter prints it: 2026年第三季度, or 2026年度."""
        if self.quarter:
            return f"{self.year}年第{QUARTER_NAMES[self.quarter - 1]}季度"
        return f"{self.year}年度"


def quarter(year: int, number: int) -> Period:
    start = date(year, 3 * number - 2, 1)
    end = date(year + (number == 4), 1 if number == 4 else 3 * number + 1, 1) - timedelta(days=1)
    return Period(f"{year}-Q{number}", start, end)


def whole_year(year: int) -> Period:
    return Period(str(year), date(year, 1, 1), date(year, 12, 31))


def parse(text: str | None) -> Period:
    """A period from its key; a DomainError with a translated message for anything else."""
    found = _PATTERN.match(text or "")
    year = int(found.group(1)) if found else 0
    if not found or not 2000 <= year <= 2100:
        raise DomainError("invalid_period", _l("Choose a quarter such as 2026-Q3 or a year such as 2026."))
    return quarter(year, int(found.group(2))) if found.group(2) else whole_year(year)


def last_quarter(today: date) -> Period:
    """The quarter before the one holding `today`: the usual period for a round of letters."""
    number = (today.month - 1) // 3 + 1
    return quarter(today.year - 1, 4) if number == 1 else quarter(today.year, number - 1)


def recent(today: date, count: int = 8) -> list[Period]:
    """The last `count` quarters, newest first, then this year and last year, for a picker."""
    found, period = [], quarter(today.year, (today.month - 1) // 3 + 1)
    for _ in range(count):
        found.append(period)
        period = last_quarter(period.start)
    return found + [whole_year(today.year), whole_year(today.year - 1)]
