"""Points expiry: with the 'end_of_next_year' rule, points earned in year Y expire after 31 December
of Y+1, oldest first. Spending always uses the oldest points first (FIFO)."""

from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from ..core.database import begin_write
from ..core.models import local_zone, to_local
from ..extensions import db
from . import services
from .models import EARN_KINDS, LedgerEntry, PointsAccount, PointsPolicy

WARN_DAYS = 30


@dataclass
class Lot:
    year: int
    remaining: int

    @property
    def expires_on(self) -> date:
        return date(self.year + 1, 12, 31)


def policy_for(community_id: int) -> PointsPolicy:
    """The community's rules, or the defaults if it never set any."""
    return db.session.get(PointsPolicy, community_id) or PointsPolicy(
        community_id=community_id,
        expiry_mode="end_of_next_year",
        full_score_points=200,
        star_thresholds=[20, 40, 60, 80],
    )


def lots(account_id: int) -> list[Lot]:
    """What is left of each year's earnings once everything taken out has used the oldest first."""
    entries = db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.account_id == account_id).order_by(LedgerEntry.at, LedgerEntry.id)
    ).all()
    by_id = {e.id: e for e in entries}
    earned: OrderedDict[int, int] = OrderedDict()
    taken = 0
    for entry in entries:
        original = by_id.get(entry.reverses_id) if entry.kind == "reversal" else entry
        gives = original is not None and (
            original.kind in EARN_KINDS or (original.kind == "adjust" and original.amount > 0)
        )
        if gives:  # an earning, or the reversal of one, changes the lot of the year it was earned
            year = to_local(original.at).year
            earned[year] = earned.get(year, 0) + entry.amount
        else:  # spends, expiries, negative adjustments, and reversals of those
            taken -= entry.amount
    result = []
    for year in sorted(earned):
        use = min(max(earned[year], 0), max(taken, 0))
        taken -= use
        result.append(Lot(year, max(earned[year], 0) - use))
    return result


def expiring_soon(account: PointsAccount, today: date, days: int = WARN_DAYS) -> list[Lot]:
    if policy_for(account.community_id).expiry_mode == "never":
        return []
    return [lot for lot in lots(account.id) if lot.remaining > 0 and today <= lot.expires_on <= today + timedelta(days)]


def expire_account(account_id: int, today: date) -> int:
    """Write the expiry entries due on one account, in its own write transaction; points expired."""
    begin_write()
    account = db.session.get(PointsAccount, account_id)
    if policy_for(account.community_id).expiry_mode == "never":
        db.session.commit()
        return 0
    total = 0
    for lot in lots(account.id):
        if lot.remaining <= 0 or lot.expires_on >= today:
            continue
        db.session.refresh(account)
        points = min(lot.remaining, account.available)  # held points wait until they are released
        if points <= 0:
            continue
        done = db.session.scalar(
            select(db.func.count(LedgerEntry.id)).where(
                LedgerEntry.account_id == account.id, LedgerEntry.kind == "expire"
            )
        )
        at = datetime.combine(lot.expires_on + timedelta(days=1), time(0), tzinfo=local_zone())
        services.expire(
            account,
            points,
            key=f"expire:{account.id}:{lot.year}:{done}",
            memo=f"points earned in {lot.year}",
            at=min(at, datetime.now(UTC)),
        )
        total += points
    db.session.commit()
    return total


def expire_all(today: date) -> tuple[int, int]:
    """Expire what is due on every account: (accounts touched, points expired). Idempotent."""
    touched = points = 0
    for account_id in db.session.scalars(select(PointsAccount.id).order_by(PointsAccount.id)).all():
        expired = expire_account(account_id, today)
        if expired:
            touched += 1
            points += expired
    return touched, points
