"""The rotating check-in codes: windows, the grace period, short codes per activity, forged tokens."""

import time
from datetime import timedelta

import pytest

from volunteer.core import signing
from volunteer.service import activities
from volunteer.service import checkin_codes as codes
from volunteer.service.models import Activity, Signup

from . import factories as sf

MINUTE = timedelta(minutes=1)

W = codes.WINDOW
T0 = 1_800_000_000 - 1_800_000_000 % W  # the first second of a window


def act(i=1, secret="a" * 32) -> Activity:
    return Activity(id=i, secret=secret)


def test_windows_and_seconds_left():
    assert codes.window_at(T0) == T0 // W
    assert codes.window_at(T0 + W - 0.5) == T0 // W
    assert codes.window_at(T0 + W) == T0 // W + 1
    assert codes.seconds_left(T0) == W
    assert codes.seconds_left(T0 + W - 1) == 1
    assert abs(codes.window_at() - int(time.time()) // W) <= 1  # no argument: the real clock


def test_short_codes_are_six_digits_per_activity_mode_and_window(app):
    a, b = act(1, "a" * 32), act(2, "b" * 32)
    window = codes.window_at(T0)
    code = codes.short_code(a, "in", window)
    assert len(code) == 6 and code.isdigit()
    assert code == codes.short_code(act(99, "a" * 32), "in", window)  # the secret, not the id, keys it
    others = {
        codes.short_code(b, "in", window),
        codes.short_code(a, "out", window),
        codes.short_code(a, "in", window + 1),
    }
    assert code not in others


@pytest.mark.parametrize(
    ("age", "fresh"), [(-1, False), (0, True), (1, True), (codes.GRACE - 1, True), (codes.GRACE, False)]
)
def test_a_token_is_fresh_for_grace_windows(app, age, fresh):
    window = codes.window_at(T0)
    token = codes.token(act(), "in", window)
    for moment in (T0 + age * W, T0 + age * W + W - 0.001):  # the first and last moment of that window
        reading = codes.read_token(token, now=moment)
        assert (reading.activity_id, reading.mode, reading.valid, reading.fresh) == (1, "in", True, fresh)


def test_a_token_without_a_window_is_for_now(app, monkeypatch):
    monkeypatch.setattr(codes, "time", type("Clock", (), {"time": staticmethod(lambda: T0 + 7)}))
    token = codes.token(act(), "out")
    assert codes.read_token(token, now=T0 + (codes.GRACE - 1) * W).fresh
    assert not codes.read_token(token, now=T0 + codes.GRACE * W).fresh


@pytest.mark.parametrize(
    "payload",
    [
        [1, "in"],
        [1, "in", 5, 6],
        ["1", "in", 5],
        [1, "in", "5"],
        [True, "in", 5],
        [1, "in", False],
        [1, "maybe", 5],
        [1, ["in"], 5],
        [1.0, "in", 5],
        {"id": 1},
        None,
        "1:in:5",
    ],
)
def test_well_signed_nonsense_is_invalid(app, payload):
    reading = codes.read_token(signing.sign(codes.PURPOSE, payload))
    assert not reading.valid and not reading.fresh and reading.activity_id is None


def test_forged_tokens_are_invalid(app):
    window = codes.window_at(T0)
    genuine = codes.token(act(), "in", window)
    body, signature = genuine.split(".")
    other_body = codes.token(act(2), "in", window).split(".")[0]
    forged = [
        other_body + "." + signature,  # an edited payload
        body + "." + signature[::-1],
        body,
        signing.sign("member-card", [1, "in", window]),  # another purpose's signature
        signing.sign("activity-checkin-v2", [1, "in", window]),
        "",
        None,
        12345,
        genuine + "x" * 500,
    ]
    for value in forged:
        assert not codes.read_token(value, now=T0).valid, value


def test_match_code_accepts_grace_windows_only(app):
    a = act()
    window = codes.window_at(T0)
    for age in range(codes.GRACE):
        for mode in codes.MODES:
            assert codes.match_code(a, codes.short_code(a, mode, window - age), now=T0) == mode
    old = codes.short_code(a, "in", window - codes.GRACE)
    assert codes.match_code(a, old, now=T0) is None
    assert codes.was_code(a, old, now=T0)
    assert codes.match_code(a, codes.short_code(a, "in", window + 1), now=T0) is None  # not yet shown
    for bad in ("", None, "12345", "abcdef", "1234567"):
        assert codes.match_code(a, bad, now=T0) is None


def test_was_code_looks_back_two_hours_not_at_the_current_codes(app):
    a = act()
    window = codes.window_at(T0)
    assert not codes.was_code(a, codes.short_code(a, "in", window), now=T0)
    assert codes.was_code(a, codes.short_code(a, "out", window - 239), now=T0)
    current = {codes.short_code(a, m, w) for m in codes.MODES for w in range(window - 239, window + 1)}
    too_old = codes.short_code(a, "in", window - 240)
    assert codes.was_code(a, too_old, now=T0) == (too_old in current)


# --- scanning and typing them: activities.check_by_token and check_by_code ------------------------


def on(d, starts_in=-10 * MINUTE, state="confirmed"):
    """An activity of community a under way, with member_a signed up."""
    act = sf.activity(d.a, starts_in=starts_in)
    return act, sf.signup(act, d.member_a, state=state)


def test_tokens_refused_for_the_wrong_person_or_activity(district):
    act, _ = on(district)
    other = sf.activity(district.a, starts_in=-10 * MINUTE)
    sf.refused("not_signed_up", activities.check_by_token, district.member_a, codes.token(other, "in"))
    sf.refused("not_signed_up", activities.check_by_token, sf.volunteer(district.a), codes.token(act, "in"))
    waiting = sf.volunteer(district.a)
    sf.signup(act, waiting, state="waiting")
    sf.refused("waiting", activities.check_by_token, waiting, codes.token(act, "in"))
    ghost = signing.sign(codes.PURPOSE, [act.id + 1000, "in", codes.window_at()])
    sf.refused("not_found", activities.check_by_token, district.member_a, ghost)
    assert sf.count(Signup, Signup.checked_in_at.is_not(None)) == 0


def test_forged_and_edited_tokens_are_invalid(district):
    act, _ = on(district)
    window = codes.window_at()
    genuine = codes.token(act, "in", window)
    other = sf.activity(district.a, starts_in=-10 * MINUTE)
    edited = codes.token(other, "in", window).split(".")[0] + "." + genuine.split(".")[1]
    forged = [
        edited,  # another payload under this token's signature
        genuine[:-3] + ("AAA" if not genuine.endswith("AAA") else "BBB"),  # a changed signature
        signing.sign("member-card", [act.id, "in", window]),  # signed, but for another purpose
        signing.sign(codes.PURPOSE, [act.id, "sideways", window]),
        signing.sign(codes.PURPOSE, {"activity": act.id}),
        "",
        "x" * 600,
    ]
    for value in forged:
        sf.refused("invalid_code", activities.check_by_token, district.member_a, value)
    assert sf.count(Signup, Signup.checked_in_at.is_not(None)) == 0


def test_token_expiry_at_the_grace_windows(district, monkeypatch):
    act, signup = on(district)
    window = codes.window_at()
    token = codes.token(act, "in", window)
    sf.freeze_codes(monkeypatch, (window + codes.GRACE) * codes.WINDOW)  # the first second it is too old
    sf.refused("expired_code", activities.check_by_token, district.member_a, token)
    sf.freeze_codes(monkeypatch, (window + codes.GRACE) * codes.WINDOW - 0.001)  # the last moment it counts
    assert activities.check_by_token(district.member_a, token)[1] == "in"
    sf.refused("already_in", activities.check_by_token, district.member_a, token)  # a replayed photo


def _free_code(act, now) -> str:
    """A 6-digit code that is none of the activity's codes for the last two hours or now."""
    taken = {
        codes.short_code(act, m, w)
        for m in codes.MODES
        for w in range(codes.window_at(now) - 300, codes.window_at(now) + 1)
    }
    return next(f"{i:06d}" for i in range(1_000_000) if f"{i:06d}" not in taken)


def test_short_codes_current_and_previous_windows_accepted(district, monkeypatch):
    now = codes.window_at() * codes.WINDOW + 5.0
    sf.freeze_codes(monkeypatch, now)
    window = codes.window_at(now)
    for age in range(codes.GRACE):
        volunteer = sf.volunteer(district.a)
        act = sf.activity(district.a, starts_in=-10 * MINUTE)
        signup = sf.signup(act, volunteer)
        got, mode = activities.check_by_code(volunteer, codes.short_code(act, "in", window - age))
        assert (got.id, mode, got.checkin_method) == (signup.id, "in", "code")


def test_short_codes_old_wrong_or_malformed_are_refused(district, monkeypatch):
    act, signup = on(district)
    now = codes.window_at() * codes.WINDOW + 5.0
    sf.freeze_codes(monkeypatch, now)
    window = codes.window_at(now)
    sf.refused(
        "expired_code", activities.check_by_code, district.member_a, codes.short_code(act, "in", window - codes.GRACE)
    )
    sf.refused("invalid_code", activities.check_by_code, district.member_a, _free_code(act, now))
    for bad in ("", "12345", "1234567", "12a456", None):
        sf.refused("invalid_code", activities.check_by_code, district.member_a, bad)
    other = sf.activity(district.a, starts_in=-10 * MINUTE)  # a code of an activity they are not on
    sf.refused("invalid_code", activities.check_by_code, district.member_a, codes.short_code(other, "in", window))
    assert sf.fresh(Signup, signup.id).checked_in_at is None
    got, mode = activities.check_by_code(district.member_a, f" {codes.short_code(act, 'in', window)} ")
    assert mode == "in"
    got, mode = activities.check_by_code(district.member_a, codes.short_code(act, "out", window))
    assert mode == "out" and got.record is not None


def test_a_waiting_volunteer_typing_the_code_is_told_so(district, monkeypatch):
    act, _ = on(district, state="waiting")
    window = codes.window_at()
    sf.freeze_codes(monkeypatch, window * codes.WINDOW + 1.0)
    code = codes.short_code(act, "in", window)
    sf.refused("waiting", activities.check_by_code, district.member_a, code)


def test_a_live_code_wins_over_an_old_code_of_another_current_activity(district, monkeypatch):
    """Two activities back to back: the code typed is live for the second, and (by chance) an old one of the first."""
    now = codes.window_at() * codes.WINDOW + 5.0
    sf.freeze_codes(monkeypatch, now)
    first = sf.activity(district.a, starts_in=-90 * MINUTE)
    second = sf.activity(district.a, starts_in=-5 * MINUTE)
    sf.signup(first, district.member_a)
    on_second = sf.signup(second, district.member_a)
    live = codes.short_code(second, "in", codes.window_at(now))
    monkeypatch.setattr(codes, "was_code", lambda activity, code: activity.id == first.id)
    got, mode = activities.check_by_code(district.member_a, live)
    assert (got.id, mode) == (on_second.id, "in")
    sf.refused("expired_code", activities.check_by_code, district.member_a, _free_code(first, now))
