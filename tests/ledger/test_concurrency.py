"""Spenders racing on one account: real threads, each with its own app context and connection.

PostgreSQL runs the writers truly at once (the conditional UPDATE is the guard); SQLite queues
them behind BEGIN IMMEDIATE and its busy timeout. Both must end with the exact balance.
"""

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from tests.races import dispose, race, racing_app
from volunteer.core.database import begin_write
from volunteer.extensions import db
from volunteer.ledger import services
from volunteer.ledger.models import LedgerEntry, PointsAccount
from volunteer.ledger.verify import mismatches

SPENDERS = 24
PRICE = 7
INITIAL = 100  # affords 14 of the 24


@pytest.fixture
def race_app(app):
    other = racing_app(app, SPENDERS + 4)
    yield other
    dispose(other)


def funded_account(district, points: int) -> int:
    begin_write()
    account = services.account_for(district.resident_a.id, district.a.id)
    services.earn(account, points, kind="earn_credit", key="opening")
    db.session.commit()
    return account.id


def fresh(account_id: int) -> PointsAccount:
    db.session.commit()
    return db.session.get(PointsAccount, account_id)


def entries(account_id: int, kind: str) -> int:
    stmt = select(func.count(LedgerEntry.id)).where(LedgerEntry.account_id == account_id, LedgerEntry.kind == kind)
    return db.session.scalar(stmt)


def check_spenders(name, account_id, outcomes, kind_counts):
    account = fresh(account_id)
    successes, refusals = outcomes.count("ok"), outcomes.count("insufficient_points")
    print(
        f"\n[{name} on {db.engine.dialect.name}] attempts={len(outcomes)} successes={successes} "
        f"refusals={refusals} final balance={account.balance} held={account.held} (started with {INITIAL}, "
        f"price {PRICE})"
    )
    assert successes + refusals == len(outcomes), outcomes  # nothing failed any other way
    assert successes == INITIAL // PRICE
    assert (account.balance, account.held) == (INITIAL - successes * PRICE, 0)
    assert account.balance >= 0
    for kind, expected in kind_counts(successes).items():
        assert entries(account_id, kind) == expected, kind
    assert mismatches() == []


def test_spenders_racing_on_one_account_never_overdraw_it(race_app, district):
    account_id = funded_account(district, INITIAL)

    def buy(i):
        begin_write()
        account = db.session.get(PointsAccount, account_id)
        services.spend(account, PRICE, key=f"buy:{i}", from_hold=False)
        db.session.commit()

    outcomes = race(race_app, SPENDERS, buy)
    check_spenders("spend from available", account_id, outcomes, lambda ok: {"spend": ok})


def test_holders_racing_then_spending_from_the_hold_never_overdraw(race_app, district):
    """A reservation holds the points in one transaction and spends them in the next."""
    account_id = funded_account(district, INITIAL)

    def reserve_then_hand_over(i):
        begin_write()
        services.hold(db.session.get(PointsAccount, account_id), PRICE, key=f"hold:{i}")
        db.session.commit()
        begin_write()
        services.spend(db.session.get(PointsAccount, account_id), PRICE, key=f"hand-over:{i}")
        db.session.commit()

    outcomes = race(race_app, SPENDERS, reserve_then_hand_over)
    check_spenders("hold then spend", account_id, outcomes, lambda ok: {"hold": ok, "spend": ok})


def test_a_refused_spender_gets_a_clear_error(district):
    account_id = funded_account(district, 5)
    begin_write()
    with pytest.raises(services.InsufficientPoints) as refused:
        services.spend(db.session.get(PointsAccount, account_id), 6, key="too-much", from_hold=False)
    db.session.rollback()
    assert refused.value.code == "insufficient_points" and refused.value.status == 409
    with force_locale("en"):
        assert "Not enough points" in str(refused.value)
    assert fresh(account_id).balance == 5


def test_one_idempotency_key_written_from_ten_threads_at_once_counts_once(race_app, district):
    account_id = funded_account(district, 1)
    created = []

    def earn(i):
        begin_write()
        account = db.session.get(PointsAccount, account_id)
        posting = services.earn(account, 30, kind="earn_credit", key="declaration:42:approve")
        db.session.commit()
        created.append(posting.created)

    outcomes = race(race_app, 10, earn)
    account = fresh(account_id)
    print(
        f"\n[same key on {db.engine.dialect.name}] attempts=10 ok={outcomes.count('ok')} "
        f"entries written={created.count(True)} final balance={account.balance}"
    )
    assert outcomes == ["ok"] * 10
    assert created.count(True) == 1
    assert db.session.scalar(select(func.count()).where(LedgerEntry.idempotency_key == "declaration:42:approve")) == 1
    assert account.balance == 31
    assert mismatches() == []


def test_one_entry_reversed_from_ten_threads_at_once_is_reversed_once(race_app, district):
    account_id = funded_account(district, 50)
    entry_id = db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.idempotency_key == "opening"))

    def reverse(i):
        begin_write()
        services.reverse(db.session.get(LedgerEntry, entry_id), key=f"undo:{i}")
        db.session.commit()

    outcomes = race(race_app, 10, reverse)
    assert sorted(outcomes) == ["already_reversed"] * 9 + ["ok"]
    assert fresh(account_id).balance == 0
    assert entries(account_id, "reversal") == 1
    assert mismatches() == []


def test_one_spend_key_from_ten_threads_when_only_one_is_affordable_succeeds_for_all(race_app, district):
    """A double-clicked hand-over: every retry gets the first spend back, not "not enough points"."""
    account_id = funded_account(district, PRICE)

    def buy(i):
        begin_write()
        services.spend(db.session.get(PointsAccount, account_id), PRICE, key="order:7:pay", from_hold=False)
        db.session.commit()

    outcomes = race(race_app, 10, buy)
    assert outcomes == ["ok"] * 10
    assert fresh(account_id).balance == 0
    assert entries(account_id, "spend") == 1
    assert mismatches() == []
