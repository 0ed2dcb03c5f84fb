"""QR check-in and check-out through the pages: the screen, the volunteer's page, the roster, forgotten check-outs."""

from datetime import timedelta
from unittest import mock

import pytest
from sqlalchemy import select

from volunteer.core import qr
from volunteer.core.models import aware, utcnow
from volunteer.extensions import db
from volunteer.service import cards
from volunteer.service import checkin_codes as codes
from volunteer.service.models import ServiceRecord, Signup

from ..conftest import text
from . import factories as sf


def snapshot() -> list[tuple]:
    """Every sign-up's attendance and every service record, to prove a refusal changed nothing."""
    db.session.commit()
    db.session.expire_all()
    signups = [
        (s.id, s.state, s.checked_in_at, s.checked_out_at, s.checkin_method, s.auto_closed)
        for s in db.session.scalars(select(Signup).order_by(Signup.id))
    ]
    records = [
        (r.id, r.minutes, r.status) for r in db.session.scalars(select(ServiceRecord).order_by(ServiceRecord.id))
    ]
    return signups + records


def fresh(signup) -> Signup:
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Signup, signup.id)


def code_now(activity, mode: str) -> str:
    return codes.short_code(activity, mode, codes.window_at())


def at(moment):
    """Run the activity service as if it were `moment` (codes still rotate on the real clock)."""
    return mock.patch("volunteer.service.activities.utcnow", return_value=moment)


@pytest.fixture
def on_now(district):
    """An activity of community a running now, with member_a confirmed."""
    act = sf.activity(district.a, starts_in=timedelta(minutes=-10), length=timedelta(hours=1), title="义务理发")
    return act, sf.signup(act, district.member_a)


# --- the volunteer checks in and out -------------------------------------------------------------


def test_qr_check_in_then_code_check_out_records_capped_hours(district, browse):
    d = district
    act = sf.activity(d.a, starts_in=timedelta(minutes=20), length=timedelta(hours=1), title="敬老院陪护")
    mine = sf.signup(act, d.member_a)
    starts, ends = aware(act.starts_at), aware(act.ends_at)
    member = browse(d.member_a)

    token = codes.token(act, "in")
    before = snapshot()
    page = member.get(f"/service/checkin?t={token}")
    assert page.status_code == 200 and "敬老院陪护" in text(page) and "Check in to this activity?" in text(page)
    assert snapshot() == before  # looking changes nothing
    with at(starts - timedelta(minutes=25)):  # arrives early: hours still count from the start
        response = member.post("/service/checkin", data={"t": token})
    assert response.status_code == 303 and response.location.endswith(f"/service/activities/{act.id}")
    assert "Checked in at" in text(member.get(response.location))
    assert fresh(mine).checkin_method == "qr"

    with at(ends + timedelta(minutes=20)):  # leaves late: hours stop at the end
        response = member.post("/service/checkin", data={"code": code_now(act, "out")})
    assert response.status_code == 303, text(response)
    page = text(member.get(response.location))
    assert "Checked out: 1.0 hours recorded, waiting for verification." in page
    record = db.session.scalars(select(ServiceRecord)).one()
    assert (record.status, record.source, record.kind, record.minutes) == ("pending", "qr", "activity", act.minutes)
    assert (record.volunteer_id, record.community_id, record.signup_id) == (d.member_a.id, d.a.id, mine.id)


def test_check_in_page_has_a_numeric_one_time_code_box(district, browse):
    page = text(browse(district.member_a).get("/service/checkin"))
    assert 'inputmode="numeric"' in page and 'autocomplete="one-time-code"' in page


@pytest.mark.parametrize("how", ["get", "post"])
def test_expired_token_is_refused(district, browse, on_now, how):
    act, _ = on_now
    old = codes.token(act, "in", codes.window_at() - codes.GRACE)
    before = snapshot()
    member = browse(district.member_a)
    if how == "get":
        response = member.get(f"/service/checkin?t={old}")
    else:
        response = member.post("/service/checkin", data={"t": old})
    assert response.status_code == 400 and "This code has expired." in text(response)
    assert snapshot() == before


def test_replayed_token_after_check_in_is_refused(district, browse, on_now):
    act, mine = on_now
    token = codes.token(act, "in")
    member = browse(district.member_a)
    assert member.post("/service/checkin", data={"t": token}).status_code == 303
    before = snapshot()
    response = member.post("/service/checkin", data={"t": token})
    assert response.status_code == 400 and "Already checked in at" in text(response)
    assert snapshot() == before


def test_forged_or_edited_token_is_refused(district, browse, on_now):
    act, _ = on_now
    real = codes.token(act, "in")
    forged = [
        real[:-3] + ("aaa" if not real.endswith("aaa") else "bbb"),  # edited signature
        codes.token(act, "in").replace(real.split(".")[0], real.split(".")[0][::-1]),  # edited payload
        cards.card_token(district.member_a),  # signed, but for another purpose
        "not-a-token",
    ]
    before = snapshot()
    member = browse(district.member_a)
    for value in forged:
        for response in (member.get(f"/service/checkin?t={value}"), member.post("/service/checkin", data={"t": value})):
            assert response.status_code == 400, value
            assert "This is not a valid check-in code." in text(response)
    assert snapshot() == before


def test_token_or_code_of_an_activity_not_signed_up_for_is_refused(district, browse, on_now):
    d = district
    other = sf.activity(d.a, starts_in=timedelta(minutes=-5))
    before = snapshot()
    member = browse(d.member_a)
    response = member.post("/service/checkin", data={"t": codes.token(other, "in")})
    assert response.status_code == 400 and "You are not signed up for this activity." in text(response)
    stranger = browse(sf.volunteer(d.a))
    act, _ = on_now
    response = stranger.post("/service/checkin", data={"code": code_now(act, "in")})
    assert response.status_code == 400
    assert "This code does not match any activity you are signed up for now." in text(response)
    assert snapshot() == before


def test_waiting_list_and_too_early_are_refused(district, browse):
    d = district
    full = sf.activity(d.a, places=1, starts_in=timedelta(minutes=-5))
    sf.signup(full, sf.volunteer(d.a))
    sf.signup(full, d.member_a, state="waiting")
    later = sf.activity(d.a, starts_in=timedelta(hours=3))
    sf.signup(later, d.member_a)
    before = snapshot()
    member = browse(d.member_a)
    response = member.post("/service/checkin", data={"t": codes.token(full, "in")})
    assert response.status_code == 400 and "You are on the waiting list" in text(response)
    response = member.post("/service/checkin", data={"t": codes.token(later, "in")})
    assert response.status_code == 400 and "Check-in opens 30 minutes before the start." in text(response)
    for bad in ("12345", "abcdef", ""):
        response = member.post("/service/checkin", data={"code": bad})
        assert response.status_code == 400 and 'id="code-error"' in text(response)
    assert snapshot() == before


# --- the steward's screen ------------------------------------------------------------------------


def test_screen_and_code_json_for_the_steward_only(district, browse, on_now):
    d = district
    act, _ = on_now
    steward = browse(d.steward_a)
    page = text(steward.get(f"/service/activities/{act.id}/screen"))
    assert "<svg" in page and code_now(act, "in")[:3] in page and "js/checkin-screen.js" in page
    assert 'http-equiv="refresh"' in page  # works without JavaScript too
    assert "<script>" not in page  # no inline script: the page runs under a strict CSP
    data = steward.get(f"/service/activities/{act.id}/code?mode=out").get_json()
    assert set(data) == {"svg", "code", "seconds_left", "mode", "checked_in"}
    assert data["mode"] == "out" and data["code"] == code_now(act, "out") and data["checked_in"] == 0
    assert data["svg"].startswith("<svg") and 1 <= data["seconds_left"] <= codes.WINDOW
    for user in (d.member_a, d.steward_b, d.admin_b, d.resident_a):
        client = browse(user)
        assert client.get(f"/service/activities/{act.id}/screen").status_code == 404
        assert client.get(f"/service/activities/{act.id}/code").status_code == 404


def test_the_screens_qr_opens_the_confirmation_page(district, browse, on_now):
    act, _ = on_now
    with mock.patch("volunteer.service.activity_views.qr.svg", wraps=qr.svg) as drawn:
        browse(district.steward_a).get(f"/service/activities/{act.id}/screen?mode=out")
    link = drawn.call_args.args[0]
    assert link.startswith("http://localhost/service/checkin?t=")
    page = browse(district.member_a).get(link)
    assert page.status_code == 200 and "Check out of this activity?" in text(page) and act.title in text(page)


# --- the roster and member cards -----------------------------------------------------------------


def test_roster_check_in_and_out_by_the_steward(district, browse, on_now):
    d = district
    act, mine = on_now
    steward = browse(d.steward_a)
    page = text(steward.get(f"/service/activities/{act.id}/roster"))
    assert d.member_a.name in page and d.member_a.phone not in page and d.member_a.phone[-4:] in page
    assert browse(d.steward_b).post(f"/service/signups/{mine.id}/check", data={"mode": "in"}).status_code == 404
    assert browse(d.member_a).post(f"/service/signups/{mine.id}/check", data={"mode": "in"}).status_code == 404

    response = steward.post(f"/service/signups/{mine.id}/check", data={"mode": "in"})
    assert response.status_code == 303 and response.location.endswith(f"/service/activities/{act.id}/roster")
    assert fresh(mine).checkin_method == "steward"
    before = snapshot()
    response = steward.post(f"/service/signups/{mine.id}/check", data={"mode": "in"})
    assert response.status_code == 400 and "Already checked in at" in text(response)
    response = steward.post(f"/service/signups/{mine.id}/check", data={"mode": "sideways"})
    assert response.status_code == 400 and "Choose check-in or check-out." in text(response)
    assert snapshot() == before
    assert steward.post(f"/service/signups/{mine.id}/check", data={"mode": "out"}).status_code == 303
    record = db.session.scalars(select(ServiceRecord)).one()
    assert (record.source, record.status, record.signup_id) == ("steward", "pending", mine.id)
    page = text(steward.get(f"/service/activities/{act.id}/roster"))
    assert "By the steward" in page and "Waiting for verification" in page


def test_card_scan_on_the_roster(district, browse, on_now):
    d = district
    act, mine = on_now
    steward = browse(d.steward_a)
    url = f"/service/activities/{act.id}/card"
    stranger = sf.volunteer(d.a)
    before = snapshot()
    for value, message in (
        ("garbage", "This is not a valid member card."),
        (cards.card_token(d.member_a)[:-2] + "zz", "This is not a valid member card."),
        (cards.card_token(stranger), f"{stranger.name} is not signed up for this activity."),
    ):
        response = steward.post(url, data={"card": value, "mode": "in"})
        assert response.status_code == 400 and message in text(response), value
    assert snapshot() == before
    assert browse(d.steward_b).post(url, data={"card": cards.card_token(d.member_a), "mode": "in"}).status_code == 404

    full_url = f"http://localhost/service/card/{cards.card_token(d.member_a)}"
    response = steward.post(url, data={"card": full_url, "mode": "in"})
    assert response.status_code == 303, text(response)
    assert fresh(mine).checkin_method == "card"
    assert steward.post(url, data={"card": cards.card_token(d.member_a), "mode": "out"}).status_code == 303
    record = db.session.scalars(select(ServiceRecord)).one()
    assert record.source == "qr" and record.signup_id == mine.id  # checked by QR, not entered by hand


# --- forgotten check-outs ------------------------------------------------------------------------


def test_close_overdue_cli_flags_forgotten_check_outs(district, browse, app):
    d = district
    act = sf.activity(d.a, starts_in=timedelta(hours=-4), length=timedelta(hours=2))
    mine = sf.signup(act, d.member_a, checked_in_at=aware(act.starts_at) + timedelta(minutes=5), checkin_method="qr")
    done = sf.signup(act, sf.volunteer(d.a))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["service", "close-overdue"])
    assert result.exit_code == 0, result.output
    assert "closed 1 forgotten check-outs" in result.output
    signup = fresh(mine)
    assert signup.auto_closed and aware(signup.checked_out_at) == aware(act.ends_at)
    record = db.session.scalars(select(ServiceRecord)).one()
    assert record.needs_review and record.minutes == 115 and record.status == "pending"
    assert fresh(done).checked_out_at is None  # never checked in: nothing to close
    again = app.test_cli_runner().invoke(args=["service", "close-overdue"])
    assert "closed 0 forgotten check-outs" in again.output
    page = text(browse(d.steward_a).get(f"/service/activities/{act.id}/roster"))
    assert "Closed automatically" in page and "Needs review" in page
    assert utcnow() > aware(act.ends_at)
