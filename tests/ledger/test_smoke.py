"""The ledger's basic promises: balances follow entries, keys are idempotent, no overdraft."""

import pytest

from volunteer.core.database import begin_write
from volunteer.extensions import db
from volunteer.ledger import services
from volunteer.ledger.verify import mismatches


def test_earn_hold_spend_release_keep_balances_equal_to_entries(district):
    begin_write()
    account = services.account_for(district.resident_a.id, district.a.id)
    services.earn(account, 50, kind="earn_credit", key="k1")
    services.hold(account, 20, key="k2")
    services.spend(account, 20, key="k3")
    services.hold(account, 10, key="k4")
    services.release(account, 10, key="k5")
    db.session.commit()
    db.session.refresh(account)
    assert (account.balance, account.held, account.available) == (30, 0, 30)
    assert mismatches() == []


def test_same_key_twice_gives_one_entry(district):
    begin_write()
    account = services.account_for(district.resident_a.id, district.a.id)
    first = services.earn(account, 5, kind="earn_credit", key="once")
    second = services.earn(account, 5, kind="earn_credit", key="once")
    db.session.commit()
    db.session.refresh(account)
    assert first.created and not second.created and first.entry.id == second.entry.id
    assert account.balance == 5


def test_overdraft_is_refused_and_changes_nothing(district):
    begin_write()
    account = services.account_for(district.resident_a.id, district.a.id)
    services.earn(account, 5, kind="earn_credit", key="e")
    services.hold(account, 3, key="h")
    with pytest.raises(services.InsufficientPoints):
        services.spend(account, 3, key="s", from_hold=False)
    db.session.commit()
    db.session.refresh(account)
    assert (account.balance, account.held) == (5, 3)
    assert mismatches() == []
