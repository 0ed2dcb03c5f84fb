"""Activities: publishing, sign-up and the waiting list, cancellation, check-in and check-out, hours."""

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest

from volunteer.core.audit import AuditEntry
from volunteer.core.models import aware, to_local, utcnow
from volunteer.extensions import db
from volunteer.service import activities
from volunteer.service import checkin_codes as codes
from volunteer.service.models import Activity, ServiceRecord, Signup

from . import factories as sf

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


def fields(**kw) -> dict:
    starts = kw.pop("starts_at", utcnow() + timedelta(days=1))
    values = {
        "title": "清扫楼道",
        "category": "environment",
        "place": "1栋",
        "description": "",
        "starts_at": starts,
        "ends_at": starts + 2 * HOUR,
        "places": 3,
    }
    return {**values, **kw}


def state_of(activity_id) -> tuple:
    """(taken, [(volunteer id, state)] in queue order) read fresh."""
    act = sf.fresh(Activity, activity_id)
    return act.taken, [(s.volunteer_id, s.state) for s in sorted(act.signups, key=lambda s: (aware(s.queued_at), s.id))]


def volunteers(d, n):
    return [sf.volunteer(d.a) for _ in range(n)]


# --- publishing -----------------------------------------------------------------------------------


def test_create_stores_local_times_as_the_same_instant(district):
    zone = ZoneInfo("Asia/Shanghai")
    starts = (utcnow() + timedelta(days=2)).astimezone(zone).replace(microsecond=0)
    act = activities.create(district.steward_a, district.a.id, fields(starts_at=starts, ends_at=starts + HOUR))
    row = sf.fresh(Activity, act.id)
    assert aware(row.starts_at) == starts and aware(row.ends_at) == starts + HOUR
    assert row.minutes == 60 and row.taken == 0 and row.state == "open" and len(row.secret) == 32
    assert sf.count(AuditEntry, AuditEntry.action == "service.activity_create") == 1


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"title": " "}, "bad_title"),
        ({"title": "x" * 81}, "bad_title"),
        ({"place": ""}, "bad_place"),
        ({"category": "cooking"}, "bad_category"),
        ({"places": 0}, "bad_places"),
        ({"places": 501}, "bad_places"),
        ({"places": True}, "bad_places"),
        ({"places": "3"}, "bad_places"),
        ({"description": "x" * 1001}, "bad_description"),
        ({"ends_at": "tomorrow"}, "bad_times"),
    ],
)
def test_create_refuses_bad_fields(district, change, code):
    sf.refused(code, activities.create, district.steward_a, district.a.id, fields(**change))
    assert sf.count(Activity) == 0


def test_create_refuses_bad_times_and_other_stewards(district):
    starts = utcnow() + HOUR
    sf.refused(
        "bad_times", activities.create, district.steward_a, district.a.id, fields(starts_at=starts, ends_at=starts)
    )
    too_long = fields(starts_at=starts, ends_at=starts + timedelta(hours=24, minutes=1))
    sf.refused("bad_times", activities.create, district.steward_a, district.a.id, too_long)
    past = utcnow() - 3 * HOUR
    sf.refused("bad_times", activities.create, district.steward_a, district.a.id, fields(starts_at=past))
    sf.refused("forbidden", activities.create, district.steward_b, district.a.id, fields())
    sf.refused("forbidden", activities.create, district.member_a, district.a.id, fields())
    assert sf.count(Activity) == 0


# --- sign-up and the waiting list -----------------------------------------------------------------


def test_sign_up_confirms_until_full_then_waits(district):
    act = sf.activity(district.a, places=2)
    a, b, c = volunteers(district, 3)
    assert [activities.sign_up(v, act.id).state for v in (a, b, c)] == ["confirmed", "confirmed", "waiting"]
    assert state_of(act.id) == (2, [(a.id, "confirmed"), (b.id, "confirmed"), (c.id, "waiting")])


def test_a_party_member_reported_to_the_community_may_sign_up(district):
    act = sf.activity(district.a)
    assert activities.sign_up(district.member_a, act.id).state == "confirmed"


def test_signing_up_twice_changes_nothing(district):
    act = sf.activity(district.a, places=1)
    a, b = volunteers(district, 2)
    first = activities.sign_up(a, act.id)
    waiting = activities.sign_up(b, act.id)
    before = [(s.id, s.state, aware(s.queued_at)) for s in (sf.fresh(Signup, first.id), sf.fresh(Signup, waiting.id))]
    assert activities.sign_up(a, act.id).id == first.id
    assert activities.sign_up(b, act.id).id == waiting.id
    after = [(s.id, s.state, aware(s.queued_at)) for s in (sf.fresh(Signup, first.id), sf.fresh(Signup, waiting.id))]
    assert after == before
    assert sf.count(Signup) == 2 and sf.fresh(Activity, act.id).taken == 1


def test_cancelling_moves_the_waiting_list_up_in_order(district):
    act = sf.activity(district.a, places=1)
    a, b, c, d = volunteers(district, 4)
    ids = {v.id: activities.sign_up(v, act.id).id for v in (a, b, c, d)}
    activities.cancel_signup(a, ids[a.id])
    assert state_of(act.id)[0] == 1
    assert sf.fresh(Signup, ids[b.id]).state == "confirmed"
    assert [sf.fresh(Signup, ids[v.id]).state for v in (c, d)] == ["waiting", "waiting"]
    activities.cancel_signup(district.steward_a, ids[b.id])  # the steward takes a place back
    assert sf.fresh(Signup, ids[c.id]).state == "confirmed" and sf.fresh(Signup, ids[d.id]).state == "waiting"
    assert sf.fresh(Signup, ids[b.id]).cancelled_by_id == district.steward_a.id
    audits = db.session.query(AuditEntry).filter_by(action="service.signup_cancel").all()
    assert [e.after["volunteer_id"] for e in audits] == [b.id]  # the volunteer's own cancel is not audited


def test_cancelling_a_waiting_place_promotes_nobody(district):
    act = sf.activity(district.a, places=1)
    a, b, c = volunteers(district, 3)
    ids = [activities.sign_up(v, act.id).id for v in (a, b, c)]
    activities.cancel_signup(b, ids[1])
    assert state_of(act.id) == (1, [(a.id, "confirmed"), (b.id, "cancelled"), (c.id, "waiting")])
    sf.refused("already_cancelled", activities.cancel_signup, b, ids[1])


def test_signing_up_again_after_cancelling_goes_to_the_back(district):
    act = sf.activity(district.a, places=1)
    a, b, c = volunteers(district, 3)
    ids = [activities.sign_up(v, act.id).id for v in (a, b, c)]
    activities.cancel_signup(b, ids[1])
    again = activities.sign_up(b, act.id)
    assert again.id == ids[1] and again.state == "waiting" and again.cancelled_by_id is None
    activities.cancel_signup(a, ids[0])
    assert sf.fresh(Signup, ids[2]).state == "confirmed"  # c was waiting longer
    assert sf.fresh(Signup, ids[1]).state == "waiting"


def test_signing_up_again_with_a_free_place_confirms(district):
    act = sf.activity(district.a, places=2)
    a = sf.volunteer(district.a)
    first = activities.sign_up(a, act.id)
    activities.cancel_signup(a, first.id)
    assert state_of(act.id)[0] == 0
    assert activities.sign_up(a, act.id).state == "confirmed"
    assert state_of(act.id) == (1, [(a.id, "confirmed")])


def test_more_places_move_the_waiting_list_up_fewer_than_confirmed_are_refused(district):
    act = sf.activity(district.a, places=1, starts_in=timedelta(days=1))
    vs = volunteers(district, 4)
    for v in vs:
        activities.sign_up(v, act.id)
    row = sf.fresh(Activity, act.id)
    edit = fields(starts_at=row.starts_at, ends_at=row.ends_at, places=3, title=row.title)
    activities.update(district.steward_a, act.id, edit)
    assert state_of(act.id) == (3, [(v.id, s) for v, s in zip(vs, ["confirmed"] * 3 + ["waiting"], strict=True)])
    err = sf.refused("bad_places", activities.update, district.steward_a, act.id, {**edit, "places": 2})
    assert "3" in str(err)
    assert state_of(act.id)[0] == 3 and sf.fresh(Activity, act.id).places == 3
    sf.refused("forbidden", activities.update, district.steward_b, act.id, {**edit, "places": 5})
    assert sf.count(AuditEntry, AuditEntry.action == "service.activity_edit") == 1


def test_cancelling_an_activity_cancels_its_sign_ups(district):
    act = sf.activity(district.a, places=1)
    a, b = volunteers(district, 2)
    ids = [activities.sign_up(v, act.id).id for v in (a, b)]
    sf.refused("bad_reason", activities.cancel, district.steward_a, act.id, "  ")
    sf.refused("forbidden", activities.cancel, district.steward_b, act.id, "雨天")
    activities.cancel(district.steward_a, act.id, "雨天")
    row = sf.fresh(Activity, act.id)
    assert (row.state, row.cancel_reason, row.taken) == ("cancelled", "雨天", 0)
    assert {sf.fresh(Signup, i).state for i in ids} == {"cancelled"}
    sf.refused("cancelled", activities.cancel, district.steward_a, act.id, "again")
    sf.refused("cancelled", activities.sign_up, sf.volunteer(district.a), act.id)
    sf.refused("cancelled", activities.update, district.steward_a, act.id, fields())
    sf.refused("cancelled", activities.check_by_token, a, codes.token(row, "in"))


def test_an_activity_with_check_ins_cannot_be_cancelled(district):
    act = sf.activity(district.a, starts_in=-10 * MINUTE)
    v = sf.volunteer(district.a)
    sf.signup(act, v, checked_in_at=utcnow() - 5 * MINUTE, checkin_method="qr")
    sf.refused("started", activities.cancel, district.steward_a, act.id, "雨天")
    assert sf.fresh(Activity, act.id).state == "open"


def test_only_volunteers_of_the_community_may_sign_up(district):
    act = sf.activity(district.a)
    for outsider in (district.member_b, district.resident_a, district.steward_a, sf.volunteer(district.b)):
        err = sf.refused("not_volunteer", activities.sign_up, outsider, act.id)
        assert err.status == 403
    assert sf.count(Signup) == 0


def test_an_ended_activity_refuses_sign_ups(district):
    act = sf.activity(district.a, starts_in=-3 * HOUR, length=HOUR)
    sf.refused("ended", activities.sign_up, district.member_a, act.id)
    sf.refused("not_found", activities.sign_up, district.member_a, act.id + 1000)
    assert sf.count(Signup) == 0


def test_cancelling_a_sign_up_rules(district):
    act = sf.activity(district.a, starts_in=-10 * MINUTE)
    a, b, c = volunteers(district, 3)
    sa, sb, sc = (sf.signup(act, v) for v in (a, b, c))
    sf.refused("started", activities.cancel_signup, a, sa.id)  # after the start, ask the steward
    sf.refused("forbidden", activities.cancel_signup, b, sa.id)
    activities.cancel_signup(district.steward_a, sa.id)
    sf.refused("forbidden", activities.cancel_signup, district.steward_b, sb.id)
    activities.check_by_steward(district.steward_a, sc.id, "in")
    sf.refused("checked_in", activities.cancel_signup, district.steward_a, sc.id)
    sf.refused("not_found", activities.cancel_signup, a, 10**6)
    assert state_of(act.id)[0] == 2


# --- check-in and check-out -----------------------------------------------------------------------


def on(d, starts_in, length=2 * HOUR, state="confirmed", **kw):
    """An activity of community a with member_a signed up."""
    act = sf.activity(d.a, starts_in=starts_in, length=length)
    return act, sf.signup(act, d.member_a, state=state, **kw)


def test_check_in_and_out_with_the_screen_code(district):
    act, signup = on(district, -10 * MINUTE)
    got, mode = activities.check_by_token(district.member_a, codes.token(act, "in"))
    assert (got.id, mode, got.checkin_method) == (signup.id, "in", "qr")
    sf.refused("already_in", activities.check_by_token, district.member_a, codes.token(act, "in"))
    got, mode = activities.check_by_token(district.member_a, codes.token(act, "out"))
    assert mode == "out"
    sf.refused("already_out", activities.check_by_token, district.member_a, codes.token(act, "out"))
    record = db.session.query(ServiceRecord).filter_by(signup_id=signup.id).one()
    assert (record.status, record.source, record.kind, record.activity_id) == ("pending", "qr", "activity", act.id)
    assert record.served_on == to_local(act.starts_at).date() and record.description == act.title
    assert sf.count(ServiceRecord) == 1


def test_check_out_before_check_in_is_refused(district):
    act, _ = on(district, -10 * MINUTE)
    sf.refused("not_in", activities.check_by_token, district.member_a, codes.token(act, "out"))


@pytest.mark.parametrize(
    ("starts_in", "length", "code"),
    [
        (31 * MINUTE, HOUR, "too_early"),  # check-in opens 30 minutes before the start
        (-3 * HOUR, 3 * HOUR - 31 * MINUTE, "ended"),  # check-out closes 30 minutes after the end
    ],
)
def test_check_in_outside_the_window_is_refused(district, starts_in, length, code):
    act, signup = on(district, starts_in, length)
    sf.refused(code, activities.check_by_token, district.member_a, codes.token(act, "in"))
    assert sf.fresh(Signup, signup.id).checked_in_at is None


def test_check_in_at_the_edges_of_the_window(district):
    early, _ = on(district, 29 * MINUTE)
    assert activities.check_by_token(district.member_a, codes.token(early, "in"))[1] == "in"
    late = sf.activity(district.a, starts_in=-3 * HOUR, length=2 * HOUR + 31 * MINUTE)
    sf.signup(late, district.member_a, checked_in_at=utcnow() - 2 * HOUR, checkin_method="qr")
    assert activities.check_by_token(district.member_a, codes.token(late, "out"))[1] == "out"


# --- hours ----------------------------------------------------------------------------------------


def test_hours_are_capped_at_the_activity_length(district):
    """In 20 minutes before the start, out 10 minutes after the end: the activity's 50 minutes."""
    act, signup = on(district, -HOUR, length=50 * MINUTE, checked_in_at=utcnow() - 80 * MINUTE, checkin_method="qr")
    activities.check_by_token(district.member_a, codes.token(act, "out"))
    record = sf.fresh(ServiceRecord, sf.fresh(Signup, signup.id).record.id)
    assert record.minutes == 50 == act.minutes and not record.needs_review


def test_a_very_short_attendance_is_flagged(district):
    act, signup = on(district, -HOUR, checked_in_at=utcnow() - 5 * MINUTE, checkin_method="qr")
    activities.check_by_token(district.member_a, codes.token(act, "out"))
    record = sf.fresh(Signup, signup.id).record
    assert record.minutes == 5 and record.needs_review


def test_check_in_closes_at_the_end_but_check_out_stays_open_a_while(district):
    act, signup = on(district, -3 * HOUR, length=3 * HOUR - 20 * MINUTE)
    sf.refused("ended", activities.check_by_token, district.member_a, codes.token(act, "in"))
    assert sf.fresh(Signup, signup.id).checked_in_at is None
    # Checked in while it ran; the end was 20 minutes ago: check-out still works, capped at the end.
    late, late_signup = on(district, -3 * HOUR, length=3 * HOUR - 20 * MINUTE, checked_in_at=utcnow() - 2 * HOUR)
    late_signup.checkin_method = "qr"
    db.session.commit()
    activities.check_by_token(district.member_a, codes.token(late, "out"))
    record = sf.fresh(Signup, late_signup.id).record
    assert record.minutes == 100 and record.status == "pending"


def test_attended_minutes_counts_only_inside_the_activity():
    starts = utcnow()
    act = Activity(starts_at=starts, ends_at=starts + HOUR)
    cases = [
        (starts - HOUR, starts + 2 * HOUR, 60),
        (starts + 10 * MINUTE, starts + 40 * MINUTE, 30),
        (starts + 70 * MINUTE, starts + 80 * MINUTE, 0),
        (starts.replace(tzinfo=None) + MINUTE, starts + 2 * MINUTE, 1),  # SQLite's naive UTC
    ]
    for checked_in, checked_out, minutes in cases:
        assert activities.attended_minutes(act, Signup(checked_in_at=checked_in, checked_out_at=checked_out)) == minutes


def test_a_steward_checks_volunteers_in_by_roster_or_card(district):
    act = sf.activity(district.a, starts_in=-10 * MINUTE)
    by_roster, by_card = (sf.signup(act, v) for v in volunteers(district, 2))
    waiting = sf.signup(act, sf.volunteer(district.a), state="waiting")
    sf.refused("bad_mode", activities.check_by_steward, district.steward_a, by_roster.id, "sideways")
    sf.refused("bad_mode", activities.check_by_steward, district.steward_a, by_roster.id, "in", method="qr")
    sf.refused("forbidden", activities.check_by_steward, district.steward_b, by_roster.id, "in")
    sf.refused("not_confirmed", activities.check_by_steward, district.steward_a, waiting.id, "in")
    sf.refused("not_found", activities.check_by_steward, district.steward_a, 10**6, "in")
    for signup, method in ((by_roster, "steward"), (by_card, "card")):
        activities.check_by_steward(district.steward_a, signup.id, "in", method=method)
        activities.check_by_steward(district.steward_a, signup.id, "out", method=method)
    sources = {
        sf.fresh(Signup, s.id).checkin_method: sf.fresh(Signup, s.id).record.source for s in (by_roster, by_card)
    }
    assert sources == {"steward": "steward", "card": "qr"}


# --- forgotten check-outs -------------------------------------------------------------------------


def test_close_forgotten_closes_only_ended_activities_and_is_idempotent(district):
    vs = volunteers(district, 4)
    ended = sf.activity(district.a, starts_in=-4 * HOUR, length=2 * HOUR)
    forgot = sf.signup(ended, vs[0], checked_in_at=utcnow() - 4 * HOUR - 5 * MINUTE, checkin_method="qr")
    never_came = sf.signup(ended, vs[1])
    just_ended = sf.activity(district.a, starts_in=-2 * HOUR - 10 * MINUTE, length=2 * HOUR)  # may still check out
    recent = sf.signup(just_ended, vs[2], checked_in_at=utcnow() - 2 * HOUR, checkin_method="qr")
    running = sf.activity(district.a, starts_in=-HOUR)
    inside = sf.signup(running, vs[3], checked_in_at=utcnow() - HOUR, checkin_method="qr")

    assert activities.close_forgotten() == 1
    closed = sf.fresh(Signup, forgot.id)
    assert closed.auto_closed and aware(closed.checked_out_at) == aware(ended.ends_at)
    assert (closed.record.minutes, closed.record.needs_review, closed.record.status) == (120, True, "pending")
    assert sf.fresh(Signup, never_came.id).checked_out_at is None and sf.fresh(Signup, never_came.id).record is None
    for still_in in (recent, inside):
        assert sf.fresh(Signup, still_in.id).checked_out_at is None
    assert activities.close_forgotten() == 0
    assert sf.count(ServiceRecord) == 1

    assert activities.close_forgotten(utcnow() + timedelta(days=1)) == 2  # later, both are over
    assert activities.close_forgotten(utcnow() + timedelta(days=1)) == 0
    assert sf.count(ServiceRecord) == 3 and sf.count(Signup, Signup.auto_closed.is_(True)) == 3


def test_close_forgotten_accepts_an_explicit_utc_now(district):
    act = sf.activity(district.a, starts_in=-HOUR, length=HOUR - 10 * MINUTE)
    sf.signup(act, district.member_a, checked_in_at=utcnow() - HOUR, checkin_method="qr")
    assert activities.close_forgotten(aware(act.ends_at) + 29 * MINUTE) == 0
    assert activities.close_forgotten((aware(act.ends_at) + 31 * MINUTE).astimezone(UTC)) == 1
