"""Desk PINs: the rules for a new PIN, checking it, counting wrong ones and the 15-minute lock, all audited."""

import uuid
from collections import Counter
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from volunteer.accounts.models import User
from volunteer.core.audit import AuditEntry
from volunteer.core.errors import DomainError
from volunteer.core.models import aware
from volunteer.exchange import pins
from volunteer.exchange.models import Item, Voucher
from volunteer.extensions import db
from volunteer.ledger.models import PointsAccount
from volunteer.ledger.verify import mismatches

from .. import factories
from ..races import dispose, race, racing_app
from . import factories as xf

GOOD = "2749"


def actions(user) -> list[str]:
    stmt = (
        select(AuditEntry.action)
        .where(AuditEntry.object_type == "User", AuditEntry.object_id == user.id, AuditEntry.action.like("exchange.%"))
        .order_by(AuditEntry.id)
    )
    return list(db.session.scalars(stmt))


def fresh(user) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def age_pin_events(user, minutes: int) -> None:
    """Move the member's PIN events back in time, as if the steward waited."""
    stmt = select(AuditEntry).where(AuditEntry.object_type == "User", AuditEntry.object_id == user.id)
    for entry in db.session.scalars(stmt):
        entry.at = aware(entry.at) - timedelta(minutes=minutes)  # in Python: SQLite has no date arithmetic
    db.session.commit()


def code_of(call) -> str:
    with pytest.raises(DomainError) as err:
        call()
    db.session.rollback()
    return err.value.code


@pytest.mark.parametrize("pin", ["2749", "58213", "720394", "1357", "9024"])
def test_a_pin_of_four_to_six_digits_not_easy_to_guess_is_accepted(pin):
    pins.check_rules(pin)


@pytest.mark.parametrize("pin", ["", "123", "1234567", "12a4", "12 4", "١٢٣٤", None, 1234])
def test_a_pin_that_is_not_four_to_six_digits_is_refused(pin):
    assert code_of(lambda: pins.check_rules(pin)) == "bad_pin"


@pytest.mark.parametrize(
    "pin", ["0000", "1111", "999999", "1234", "123456", "4321", "654321", "0123", "1212", "121212", "123123", "2580"]
)
def test_a_trivial_pin_is_refused(pin):
    assert code_of(lambda: pins.check_rules(pin)) == "weak_pin"


def test_part_of_the_phone_number_is_refused(district):
    member = factories.resident(district.building_a, phone="13972946815")
    assert code_of(lambda: pins.set_pin(member, "4681", district.steward_a)) == "weak_pin"
    assert fresh(member).pin_hash is None and actions(member) == []


def test_set_pin_stores_an_argon2_hash_and_audits_set_then_reset(district):
    d = district
    pins.set_pin(d.resident_a, GOOD, d.steward_a, community_id=d.a.id)
    member = fresh(d.resident_a)
    assert member.pin_hash.startswith("$argon2") and GOOD not in member.pin_hash
    pins.set_pin(member, "58213", d.steward_a, community_id=d.a.id)
    assert actions(member) == ["exchange.pin_set", "exchange.pin_reset"]
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.object_id == member.id)).all()
    assert {(e.actor_id, e.community_id) for e in entries} == {(d.steward_a.id, d.a.id)}
    assert all(GOOD not in str(e.after) and "58213" not in str(e.after) for e in entries)
    assert pins.check_pin(member, "58213") and not pins.check_pin(member, GOOD)


def test_a_weak_pin_changes_nothing(district):
    pins.set_pin(district.resident_a, GOOD, district.steward_a)
    before = fresh(district.resident_a).pin_hash
    assert code_of(lambda: pins.set_pin(district.resident_a, "1111", district.steward_a)) == "weak_pin"
    assert fresh(district.resident_a).pin_hash == before
    assert actions(district.resident_a) == ["exchange.pin_set"]


def test_the_right_pin_passes_without_an_audit_row(district):
    pins.set_pin(district.resident_a, GOOD, district.steward_a)
    assert pins.check_pin(district.resident_a, GOOD, district.steward_a) is True
    assert actions(district.resident_a) == ["exchange.pin_set"]


def test_a_wrong_pin_is_refused_and_counted(district):
    d = district
    pins.set_pin(d.resident_a, GOOD, d.steward_a)
    assert pins.check_pin(d.resident_a, "9999", d.steward_a, community_id=d.a.id) is False
    with pytest.raises(DomainError) as err:
        pins.confirm(d.resident_a, "2748", d.steward_a, community_id=d.a.id)
    assert err.value.code == "wrong_pin"
    with force_locale("en"):
        assert "3 tries left" in str(err.value.message)
    assert pins.state(d.resident_a).failures == 2
    failed = db.session.scalars(select(AuditEntry).where(AuditEntry.action == pins.FAILED)).all()
    assert [(e.actor_id, e.community_id, e.object_id) for e in failed] == [
        (d.steward_a.id, d.a.id, d.resident_a.id)
    ] * 2


def test_five_wrong_pins_lock_the_pin_for_fifteen_minutes(district):
    d = district
    pins.set_pin(d.resident_a, GOOD, d.steward_a)
    codes = [code_of(lambda: pins.confirm(d.resident_a, "1357", d.steward_a)) for _ in range(5)]
    assert codes == ["wrong_pin"] * 4 + ["pin_locked"]
    assert pins.state(d.resident_a).locked_until is not None
    # Locked: even the right PIN is refused, and the refusal is not counted again.
    assert code_of(lambda: pins.confirm(d.resident_a, GOOD, d.steward_a)) == "pin_locked"
    assert pins.check_pin(d.resident_a, GOOD) is False
    assert actions(d.resident_a).count(pins.FAILED) == 5 and actions(d.resident_a).count(pins.LOCKED) == 1
    age_pin_events(d.resident_a, 14)
    assert pins.check_pin(d.resident_a, GOOD) is False
    age_pin_events(d.resident_a, 2)
    assert pins.state(d.resident_a).locked_until is None
    assert pins.check_pin(d.resident_a, GOOD) is True


def test_after_the_lock_the_count_starts_again(district):
    d = district
    pins.set_pin(d.resident_a, GOOD, d.steward_a)
    for _ in range(5):
        pins.check_pin(d.resident_a, "1357")
    age_pin_events(d.resident_a, 16)
    assert pins.state(d.resident_a) == pins.PinState(0, None)
    assert code_of(lambda: pins.confirm(d.resident_a, "1357")) == "wrong_pin"


def test_a_right_pin_starts_the_count_again(district):
    d = district
    pins.set_pin(d.resident_a, GOOD, d.steward_a)
    for _ in range(4):
        assert not pins.check_pin(d.resident_a, "1357")
    assert pins.check_pin(d.resident_a, GOOD)
    for _ in range(4):
        assert not pins.check_pin(d.resident_a, "1357")
    assert pins.state(d.resident_a).locked_until is None and pins.check_pin(d.resident_a, GOOD)


def test_wrong_pins_older_than_fifteen_minutes_do_not_count(district):
    d = district
    pins.set_pin(d.resident_a, GOOD, d.steward_a)
    for _ in range(4):
        pins.check_pin(d.resident_a, "1357")
    age_pin_events(d.resident_a, 16)
    assert code_of(lambda: pins.confirm(d.resident_a, "1357")) == "wrong_pin"
    assert pins.state(d.resident_a).failures == 1


def test_a_new_pin_lifts_the_lock(district):
    d = district
    pins.set_pin(d.resident_a, GOOD, d.steward_a)
    for _ in range(5):
        pins.check_pin(d.resident_a, "1357")
    pins.set_pin(d.resident_a, "58213", d.steward_a)
    assert pins.check_pin(d.resident_a, "58213") is True


def test_the_lock_is_per_member(district):
    d = district
    pins.set_pin(d.resident_a, GOOD, d.steward_a)
    pins.set_pin(d.member_a, GOOD, d.steward_a)
    for _ in range(5):
        pins.check_pin(d.resident_a, "1357")
    assert pins.check_pin(d.member_a, GOOD) is True


def test_no_pin_set_is_a_clear_refusal_and_not_counted(district):
    d = district
    with pytest.raises(DomainError) as err:
        pins.confirm(d.resident_a, GOOD, d.steward_a)
    assert err.value.code == "no_pin"
    db.session.rollback()
    assert pins.check_pin(d.resident_a, GOOD) is False
    assert actions(d.resident_a) == []


@pytest.fixture
def race_app(app):
    other = racing_app(app, 12)
    yield other
    dispose(other)


def test_wrong_pins_sent_at_once_are_still_counted_one_by_one(race_app, district):
    d = district
    pins.set_pin(d.resident_a, GOOD, d.steward_a)
    member_id = d.resident_a.id

    def guess(i):
        pins.confirm(db.session.get(User, member_id), f"{1350 + i}")

    outcomes = Counter(race(race_app, 12, guess))
    assert outcomes == {"wrong_pin": 4, "pin_locked": 8}
    assert actions(d.resident_a).count(pins.FAILED) == 5 and actions(d.resident_a).count(pins.LOCKED) == 1


def test_a_double_click_sent_at_once_gives_one_voucher(race_app, district):
    d = district
    xf.fund(d.resident_a, d.a, 100)
    pins.set_pin(d.resident_a, GOOD, d.steward_a)
    item_id = xf.item(d.a, units=5, price=10).id
    member_id, steward_id, key = d.resident_a.id, d.steward_a.id, str(uuid.uuid4())

    def click(_):
        steward, member = db.session.get(User, steward_id), db.session.get(User, member_id)
        pins.reserve_for_member(steward, member, item_id, GOOD, request_key=key)

    assert race(race_app, 6, click) == ["ok"] * 6
    voucher = db.session.scalar(select(Voucher))
    assert db.session.scalar(select(func.count(Voucher.id))) == 1 and voucher.reserved_by_id == steward_id
    account = db.session.scalar(select(PointsAccount).where(PointsAccount.user_id == member_id))
    assert (account.balance, account.held) == (100, 10) and db.session.get(Item, item_id).stock == 4
    assert (
        len(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "exchange.reserve_for_member")).all()) == 1
    )
    assert not mismatches()
