"""Random sequences of ledger operations: after every step each balance equals its entries.

A rule-based state machine earns, holds, releases, spends (from the hold and not), reverses
earlier entries, expires, adjusts and replays idempotency keys on a few accounts. A small model
predicts which operations must be refused; after every step the database must agree with the
model, with `ledger.verify`, and never show a negative balance, held or available amount.
"""

import itertools
from datetime import UTC, date, datetime

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from volunteer.core.database import begin_write
from volunteer.core.errors import DomainError
from volunteer.extensions import db
from volunteer.ledger import expiry, services
from volunteer.ledger.models import LedgerEntry, PointsAccount
from volunteer.ledger.verify import mismatches

from .. import factories

ACCOUNTS = 2
which = st.integers(0, ACCOUNTS - 1)
earned = st.integers(1, 60)
EARNED_IN = [2023, 2024, 2025]
OPENED = datetime(2024, 3, 1, tzinfo=UTC)


def snapshot() -> tuple:
    """Every account's (id, balance, held) and the number of entries, read fresh."""
    rows = db.session.execute(
        select(PointsAccount.id, PointsAccount.balance, PointsAccount.held).order_by(PointsAccount.id)
    ).all()
    return tuple(map(tuple, rows)), db.session.scalar(select(func.count(LedgerEntry.id)))


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        db.session.remove()
        with db.engine.begin() as conn:  # every example starts from an empty ledger (faster than wipe())
            conn.execute(LedgerEntry.__table__.delete())
            conn.execute(PointsAccount.__table__.delete())
        community = factories.community()
        begin_write()
        self.ids = [services.account_for(factories.user().id, community.id).id for _ in range(ACCOUNTS)]
        db.session.commit()
        self.model = {account_id: [0, 0] for account_id in self.ids}  # balance, held
        self.entries = []  # (entry id, kind) of every entry written, reversals included
        self.replays = []  # (account index, call) that wrote a key: calling again must add nothing
        self.keys = itertools.count()

    # --- running one unit of work and checking it against the model ----------------------------

    def refused(self, account_id: int, amount: int, held_delta: int) -> bool:
        balance, held = self.model[account_id]
        balance, held = balance + amount, held + held_delta
        return balance < 0 or held < 0 or balance - held < 0

    def apply(self, index: int, amount: int, held_delta: int, call) -> None:
        """Run `call(account)` as one write transaction; the model says whether it must be refused."""
        account_id = self.ids[index]
        must_refuse = self.refused(account_id, amount, held_delta)
        before = snapshot()
        begin_write()
        try:
            posting = call(db.session.get(PointsAccount, account_id))
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            event("refused")
            assert must_refuse, f"refused unexpectedly: {err.code}"
            assert err.code == "insufficient_points"
            assert snapshot() == before, "a refused operation changed something"
            return
        assert not must_refuse, "an operation that overdraws was accepted"
        assert posting.created
        assert (posting.entry.amount, posting.entry.held_delta) == (amount, held_delta)
        self.model[account_id][0] += amount
        self.model[account_id][1] += held_delta
        self.entries.append((posting.entry.id, posting.entry.kind))
        self.replays.append((index, call))

    def key(self) -> str:
        return f"op:{next(self.keys)}"

    # --- operations -------------------------------------------------------------------------------

    @initialize(opening=st.lists(st.integers(0, 150), min_size=ACCOUNTS, max_size=ACCOUNTS))
    def open_accounts(self, opening):
        """Start most examples with points to move, so fewer steps are refused for an empty account."""
        for i, n in enumerate(opening):
            if n:
                key = self.key()
                self.apply(
                    i, n, 0, lambda a, n=n, key=key: services.earn(a, n, kind="earn_service", key=key, at=OPENED)
                )

    @rule(i=which, n=earned, year=st.sampled_from(EARNED_IN), kind=st.sampled_from(services.EARN_KINDS))
    def earn(self, i, n, year, kind):
        key, at = self.key(), datetime(year, 6, 1, tzinfo=UTC)
        self.apply(i, n, 0, lambda account: services.earn(account, n, kind=kind, key=key, at=at))

    def take(self, data, i: int, limit: int) -> int:
        """Points to take: mostly what the account can give, now and then a little more (refused)."""
        if limit > 0 and data.draw(st.integers(0, 4), label="within limit") > 0:
            return data.draw(st.integers(1, limit), label="points")
        return data.draw(st.integers(max(limit, 0) + 1, max(limit, 0) + 5), label="points")

    def available(self, i: int) -> int:
        balance, held = self.model[self.ids[i]]
        return balance - held

    @rule(i=which, data=st.data())
    def hold(self, i, data):
        n, key = self.take(data, i, self.available(i)), self.key()
        self.apply(i, 0, n, lambda account: services.hold(account, n, key=key))

    @rule(i=which, data=st.data())
    def release(self, i, data):
        n, key = self.take(data, i, self.model[self.ids[i]][1]), self.key()
        self.apply(i, 0, -n, lambda account: services.release(account, n, key=key))

    @rule(i=which, data=st.data(), from_hold=st.booleans())
    def spend(self, i, data, from_hold):
        limit = self.model[self.ids[i]][1] if from_hold else self.available(i)
        n, key = self.take(data, i, limit), self.key()
        self.apply(i, -n, -n if from_hold else 0, lambda a: services.spend(a, n, key=key, from_hold=from_hold))

    @rule(i=which, data=st.data())
    def expire_some(self, i, data):
        n, key = self.take(data, i, self.available(i)), self.key()
        self.apply(i, -n, 0, lambda account: services.expire(account, n, key=key))

    @rule(i=which, data=st.data(), up=st.booleans())
    def adjust(self, i, data, up):
        n = data.draw(st.integers(1, 40)) if up else -self.take(data, i, self.available(i))
        key = self.key()
        self.apply(i, n, 0, lambda account: services.adjust(account, n, key=key, actor=None, reason="correction"))

    @precondition(lambda self: self.entries)
    @rule(data=st.data())
    def reverse(self, data):
        entry_id, kind = data.draw(st.sampled_from(self.entries))
        entry = db.session.get(LedgerEntry, entry_id)
        index, amount, held_delta = self.ids.index(entry.account_id), -entry.amount, -entry.held_delta
        already = db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.reverses_id == entry_id))
        if kind == "reversal" or already is not None:
            self.refused_reversal(entry_id, kind, already)
            return
        self.apply(index, amount, held_delta, lambda account: services.reverse(db.session.get(LedgerEntry, entry_id)))

    def refused_reversal(self, entry_id, kind, already) -> None:
        """A reversal is never reversed; reversing twice gives back the first reversal and changes nothing."""
        before = snapshot()
        begin_write()
        try:
            posting = services.reverse(db.session.get(LedgerEntry, entry_id))
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            assert kind == "reversal" and err.code == "reverse_reversal"
        else:
            assert kind != "reversal" and not posting.created and posting.entry.id == already
        assert snapshot() == before

    @precondition(lambda self: self.replays)
    @rule(data=st.data())
    def replay(self, data):
        """The same idempotency key again: the first entry comes back and nothing is added."""
        index, call = data.draw(st.sampled_from(self.replays))
        before = snapshot()
        begin_write()
        posting = call(db.session.get(PointsAccount, self.ids[index]))
        db.session.commit()
        assert not posting.created
        assert snapshot() == before

    @rule(i=which, today=st.sampled_from([date(2025, 1, 1), date(2026, 1, 1), date(2027, 1, 1)]))
    def run_expiry(self, i, today):
        """The expiry job takes only available points, and running it again takes nothing more."""
        account_id = self.ids[i]
        balance, held = self.model[account_id]
        expired = expiry.expire_account(account_id, today)
        assert 0 <= expired <= balance - held
        event("expiry job expired points" if expired else "expiry job found nothing due")
        self.model[account_id][0] -= expired
        known = {entry_id for entry_id, _ in self.entries}
        written = db.session.scalars(select(LedgerEntry.id).where(LedgerEntry.account_id == account_id)).all()
        self.entries.extend((entry_id, "expire") for entry_id in written if entry_id not in known)
        before = snapshot()
        assert expiry.expire_account(account_id, today) == 0
        assert snapshot() == before

    # --- after every step ------------------------------------------------------------------------

    @invariant()
    def balances_equal_entries_and_never_negative(self):
        db.session.commit()  # a fresh read
        assert mismatches() == []
        accounts, _ = snapshot()
        for account_id, balance, held in accounts:
            assert [balance, held] == self.model[account_id]
            assert balance >= 0 and held >= 0 and balance - held >= 0


def test_random_operations_keep_every_balance_equal_to_its_entries():
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
