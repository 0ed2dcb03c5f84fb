"""`flask ledger verify` catches a corrupted balance; `flask points expire` is oldest-first and idempotent."""

from datetime import UTC, date, datetime

from sqlalchemy import func, select, text

from volunteer.core.database import begin_write
from volunteer.extensions import db
from volunteer.ledger import services
from volunteer.ledger.expiry import expiring_soon, lots
from volunteer.ledger.models import LedgerEntry, PointsAccount, PointsPolicy


def run(app, *args):
    db.session.commit()
    result = app.test_cli_runner().invoke(args=list(args))
    db.session.commit()  # a fresh read of what the command wrote
    return result


def on(year: int, month: int = 3, day: int = 1) -> datetime:
    return datetime(year, month, day, 9, tzinfo=UTC)


def account_with(user, community, *earnings) -> PointsAccount:
    """An account with (points, year) earnings dated in those years."""
    begin_write()
    account = services.account_for(user.id, community.id)
    for i, (points, year) in enumerate(earnings):
        services.earn(account, points, kind="earn_service", key=f"earn:{user.id}:{i}", at=on(year))
    db.session.commit()
    return account


def state(account_id: int) -> tuple[int, int, int]:
    """(balance, held, entries) read fresh."""
    db.session.commit()
    account = db.session.get(PointsAccount, account_id)
    count = db.session.scalar(select(func.count(LedgerEntry.id)).where(LedgerEntry.account_id == account_id))
    return account.balance, account.held, count


# --- flask ledger verify ------------------------------------------------------------------------


def test_verify_passes_on_a_healthy_ledger(app, district):
    account = account_with(district.resident_a, district.a, (30, 2025))
    begin_write()
    services.spend(account, 10, key="s", from_hold=False)
    db.session.commit()
    result = run(app, "ledger", "verify")
    assert result.exit_code == 0, result.output
    assert "ledger ok" in result.output


def test_verify_names_an_account_whose_balance_was_changed_by_hand(app, district):
    healthy = account_with(district.resident_b, district.b, (10, 2025))
    account = account_with(district.resident_a, district.a, (30, 2025))
    db.session.execute(text("UPDATE points_accounts SET balance = balance + 5 WHERE id = :id"), {"id": account.id})
    db.session.commit()
    result = run(app, "ledger", "verify")
    assert result.exit_code == 1
    assert f"account {account.id} " in result.output
    assert "balance 35 but entries say 30" in result.output
    assert f"account {healthy.id} " not in result.output


def test_verify_catches_corrupted_held_points(app, district):
    account = account_with(district.resident_a, district.a, (30, 2025))
    db.session.execute(text("UPDATE points_accounts SET held = 4 WHERE id = :id"), {"id": account.id})
    db.session.commit()
    result = run(app, "ledger", "verify")
    assert result.exit_code == 1
    assert f"account {account.id} " in result.output and "held 4 but entries say 0" in result.output


# --- flask points expire ------------------------------------------------------------------------


def test_points_earned_in_2024_expire_after_2025_oldest_first(app, district):
    account = account_with(district.resident_a, district.a, (30, 2024), (20, 2025), (5, 2026))
    result = run(app, "points", "expire", "--today", "2026-01-01")
    assert result.exit_code == 0, result.output
    assert "expired 30 points on 1 accounts" in result.output
    assert state(account.id)[:2] == (25, 0)
    expiry = db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "expire")).one()
    assert (expiry.amount, expiry.memo) == (-30, "points earned in 2024")
    assert [(lot.year, lot.remaining) for lot in lots(account.id)] == [(2024, 0), (2025, 20), (2026, 5)]


def test_nothing_expires_on_the_last_day(app, district):
    account = account_with(district.resident_a, district.a, (30, 2024))
    assert run(app, "points", "expire", "--today", "2025-12-31").exit_code == 0
    assert state(account.id) == (30, 0, 1)


def test_points_spent_earlier_count_against_the_oldest_lot(app, district):
    account = account_with(district.resident_a, district.a, (30, 2024), (20, 2025))
    begin_write()
    services.post(account, "spend", key="spent-2025", amount=-25, at=on(2025, 6))
    db.session.commit()
    run(app, "points", "expire", "--today", "2026-01-01")
    # 25 of the 30 earned in 2024 were spent: only 5 are left to expire, the 20 of 2025 stay.
    assert state(account.id)[:2] == (20, 0)


def test_held_points_are_not_expired(app, district):
    account = account_with(district.resident_a, district.a, (30, 2024))
    begin_write()
    services.hold(account, 25, key="reserved")
    db.session.commit()
    run(app, "points", "expire", "--today", "2026-01-01")
    assert state(account.id)[:2] == (25, 25)  # only the 5 available went; the reservation stands


def test_running_expiry_twice_changes_nothing_the_second_time(app, district):
    one = account_with(district.resident_a, district.a, (30, 2024), (20, 2025))
    two = account_with(district.resident_b, district.b, (7, 2023), (8, 2024))
    run(app, "points", "expire", "--today", "2026-01-01")
    after_first = state(one.id), state(two.id)
    assert after_first == ((20, 0, 3), (0, 0, 4))
    result = run(app, "points", "expire", "--today", "2026-01-01")
    assert result.exit_code == 0 and "expired 0 points on 0 accounts" in result.output
    assert (state(one.id), state(two.id)) == after_first
    assert run(app, "ledger", "verify").exit_code == 0


def test_a_community_whose_points_never_expire_loses_nothing(app, district):
    db.session.add(PointsPolicy(community_id=district.a.id, expiry_mode="never"))
    db.session.commit()
    account = account_with(district.resident_a, district.a, (30, 2020), (20, 2024))
    other = account_with(district.resident_b, district.b, (10, 2024))
    run(app, "points", "expire", "--today", "2026-01-01")
    assert state(account.id) == (50, 0, 2)
    assert state(other.id)[0] == 0  # the default rule still applies elsewhere
    assert expiring_soon(db.session.get(PointsAccount, account.id), date(2025, 12, 20)) == []


def test_expiring_soon_shows_lots_expiring_within_30_days(district):
    account = account_with(district.resident_a, district.a, (30, 2024), (20, 2025))
    soon = expiring_soon(account, date(2025, 12, 10))
    assert [(lot.year, lot.remaining, lot.expires_on) for lot in soon] == [(2024, 30, date(2025, 12, 31))]
    assert [lot.year for lot in expiring_soon(account, date(2025, 12, 1))] == [2024]  # exactly 30 days
    assert expiring_soon(account, date(2025, 11, 30)) == []
    assert expiring_soon(account, date(2026, 1, 1)) == []  # already past: the job takes it


def test_expiring_soon_leaves_out_what_was_spent(district):
    account = account_with(district.resident_a, district.a, (30, 2024), (20, 2025))
    begin_write()
    services.spend(account, 30, key="all-of-2024", from_hold=False)
    db.session.commit()
    assert expiring_soon(account, date(2025, 12, 10)) == []
