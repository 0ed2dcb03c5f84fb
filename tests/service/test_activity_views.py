"""Activity pages: the list, the detail, publishing and editing, sign-up, the waiting list and cancellations."""

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from volunteer.core.audit import AuditEntry
from volunteer.core.models import aware, local_today, local_zone
from volunteer.extensions import db
from volunteer.service.models import Activity, Signup

from ..conftest import text
from . import factories as sf


def states(activity_id) -> dict:
    """{volunteer id: sign-up state} and the confirmed count, read fresh."""
    db.session.commit()
    db.session.expire_all()
    rows = db.session.scalars(select(Signup).where(Signup.activity_id == activity_id)).all()
    return {s.volunteer_id: s.state for s in rows}, db.session.get(Activity, activity_id).taken


def form_for(on: date, **kw) -> dict:
    values = {
        "title": "清扫楼道",
        "category": "environment",
        "place": "1栋门口",
        "day": on.isoformat(),
        "start": "09:00",
        "end": "11:30",
        "places": "3",
        "description": "带手套",
    }
    return {**values, **kw}


# --- the list and the detail ---------------------------------------------------------------------


def test_list_shows_my_communities_upcoming_and_past(district, browse):
    d = district
    soon = sf.activity(d.a, title="明天清扫")
    over = sf.activity(d.a, title="上周义诊", starts_in=timedelta(days=-7))
    other = sf.activity(d.b, title="别的社区活动")
    sf.signup(soon, d.member_a)
    member = browse(d.member_a)

    page = text(member.get("/service/activities"))
    assert soon.title in page and over.title not in page and other.title not in page
    assert "Confirmed" in page and "4 places left" in page and "New activity" not in page
    past = text(member.get("/service/activities?when=past"))
    assert over.title in past and soon.title not in past
    assert member.get(f"/service/activities?community={d.b.id}").status_code == 404

    steward = browse(d.steward_a)
    assert "New activity" in text(steward.get("/service/activities"))
    assert browse(d.employer_a).get("/service/activities").status_code == 403


def test_detail_shows_places_and_waiting_position_and_hides_other_communities(district, browse):
    d = district
    act = sf.activity(d.a, places=1, description="请带扫帚")
    sf.signup(act, sf.volunteer(d.a))
    member = browse(d.member_a)
    page = text(member.get(f"/service/activities/{act.id}"))
    assert "1 of 1 taken" in page and "Full" in page and "Join the waiting list" in page and "请带扫帚" in page
    assert "Check-in screen" not in page  # steward links only for stewards

    member.post(f"/service/activities/{act.id}/signup")
    page = text(member.get(f"/service/activities/{act.id}"))
    assert "Waiting list" in page and "Number 1 on the waiting list." in page

    assert browse(d.member_b).get(f"/service/activities/{act.id}").status_code == 404
    assert browse(d.steward_b).get(f"/service/activities/{act.id}").status_code == 404
    steward = text(browse(d.steward_a).get(f"/service/activities/{act.id}"))
    for link in ("/screen", "/roster", "/edit", "/cancel"):
        assert f"/service/activities/{act.id}{link}" in steward


# --- sign-up and the waiting list ----------------------------------------------------------------


def test_sign_up_until_full_then_waiting_list(district, browse):
    d = district
    act = sf.activity(d.a, places=2)
    v1, v2, v3 = (sf.volunteer(d.a) for _ in range(3))
    for v in (v1, v2):
        response = browse(v).post(f"/service/activities/{act.id}/signup")
        assert response.status_code == 303 and response.location.endswith(f"/service/activities/{act.id}")
    third = browse(v3)
    response = third.post(f"/service/activities/{act.id}/signup", follow_redirects=True)
    assert "you are on the waiting list" in text(response)
    assert states(act.id) == ({v1.id: "confirmed", v2.id: "confirmed", v3.id: "waiting"}, 2)
    # Signing up twice changes nothing.
    assert third.post(f"/service/activities/{act.id}/signup").status_code == 303
    assert states(act.id) == ({v1.id: "confirmed", v2.id: "confirmed", v3.id: "waiting"}, 2)


def test_volunteer_cancels_and_the_waiting_list_moves_up(district, browse):
    d = district
    act = sf.activity(d.a, places=1)
    first, second = browse(d.member_a), sf.volunteer(d.a)
    first.post(f"/service/activities/{act.id}/signup")
    browse(second).post(f"/service/activities/{act.id}/signup")
    mine = db.session.scalar(select(Signup).where(Signup.volunteer_id == d.member_a.id))

    response = first.post(f"/service/signups/{mine.id}/cancel", follow_redirects=True)
    assert "Your sign-up is cancelled." in text(response)
    assert states(act.id) == ({d.member_a.id: "cancelled", second.id: "confirmed"}, 1)
    # Someone else's sign-up is not theirs to cancel.
    theirs = db.session.scalar(select(Signup).where(Signup.volunteer_id == second.id))
    assert first.post(f"/service/signups/{theirs.id}/cancel").status_code == 404
    assert states(act.id) == ({d.member_a.id: "cancelled", second.id: "confirmed"}, 1)


def test_steward_cancels_a_sign_up_and_the_waiting_list_moves_up(district, browse):
    d = district
    act = sf.activity(d.a, places=1)
    kept, waiting = sf.signup(act, d.member_a), sf.volunteer(d.a)
    browse(waiting).post(f"/service/activities/{act.id}/signup")
    assert browse(d.steward_b).post(f"/service/signups/{kept.id}/cancel").status_code == 404

    response = browse(d.steward_a).post(f"/service/signups/{kept.id}/cancel")
    assert response.status_code == 303 and response.location.endswith(f"/service/activities/{act.id}/roster")
    assert states(act.id) == ({d.member_a.id: "cancelled", waiting.id: "confirmed"}, 1)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "service.signup_cancel")) is not None


def test_refusals_change_nothing(district, browse):
    d = district
    cancelled = sf.activity(d.a, state="cancelled", cancel_reason="下雨")
    ended = sf.activity(d.a, starts_in=timedelta(hours=-3))
    member = browse(d.member_a)
    for act, message in ((cancelled, "This activity was cancelled."), (ended, "This activity has ended.")):
        response = member.post(f"/service/activities/{act.id}/signup")
        assert response.status_code == 400 and message in text(response)
        assert states(act.id) == ({}, 0)
    # A resident (not a volunteer) may read the list but not sign up.
    act = sf.activity(d.a)
    response = browse(d.resident_a).post(f"/service/activities/{act.id}/signup")
    assert response.status_code == 403 and "Only volunteers of this community can sign up." in text(response)
    assert browse(d.member_b).post(f"/service/activities/{act.id}/signup").status_code == 404
    assert states(act.id) == ({}, 0)
    # After the start, the volunteer asks the steward.
    started = sf.activity(d.a, starts_in=timedelta(minutes=-5))
    mine = sf.signup(started, d.member_a)
    response = member.post(f"/service/signups/{mine.id}/cancel")
    assert response.status_code == 400 and "The activity has started; ask the steward." in text(response)
    assert states(started.id) == ({d.member_a.id: "confirmed"}, 1)


# --- publishing ----------------------------------------------------------------------------------


def test_steward_publishes_in_local_time(district, browse):
    d = district
    steward = browse(d.steward_a)
    page = text(steward.get(f"/service/activities/new?community={d.a.id}"))
    assert 'type="date"' in page and 'type="time"' in page
    day = local_today() + timedelta(days=3)
    response = steward.post("/service/activities/new", data=form_for(day, community=d.a.id))
    assert response.status_code == 303, text(response)
    act = db.session.scalars(select(Activity)).one()
    zone = local_zone()
    assert aware(act.starts_at) == datetime.combine(day, time(9, 0), tzinfo=zone)
    assert aware(act.ends_at) == datetime.combine(day, time(11, 30), tzinfo=zone)
    assert (act.title, act.places, act.community_id, act.minutes) == ("清扫楼道", 3, d.a.id, 150)
    page = text(steward.get(response.location))
    assert f"{day.isoformat()}" in page and "09:00–11:30" in page


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"title": ""}, "title", "This field is required."),
        ({"end": "08:00"}, "end", "The end must be after the start."),
        ({"places": "0"}, "places", "Enter a whole number from 1 to 500."),
        ({"day": "2001-01-01"}, "end", "The activity must end in the future."),
        ({"category": "nonsense"}, "category", "Not a valid choice."),
        ({"title": "<b>x</b>"}, "title", "Please do not use &lt; or &gt; here."),
    ],
)
def test_publishing_refuses_bad_input(district, browse, change, field, message):
    d = district
    data = form_for(local_today() + timedelta(days=1), community=d.a.id, **change)
    response = browse(d.steward_a).post("/service/activities/new", data=data)
    assert response.status_code == 400 and message in text(response)
    assert f'id="{field}-error"' in text(response)
    assert db.session.scalars(select(Activity)).first() is None


def test_only_stewards_publish_and_only_in_their_communities(district, browse):
    d = district
    data = form_for(local_today() + timedelta(days=1), community=d.b.id)
    assert browse(d.member_a).get("/service/activities/new").status_code == 403
    response = browse(d.steward_a).post("/service/activities/new", data=data)
    assert response.status_code == 400 and "Not a valid choice." in text(response)
    assert db.session.scalars(select(Activity)).first() is None


def test_edit_places_up_moves_the_waiting_list_and_down_is_refused(district, browse):
    d = district
    act = sf.activity(d.a, places=1, starts_in=timedelta(days=2))
    v1, v2, v3 = (sf.volunteer(d.a) for _ in range(3))
    for v in (v1, v2, v3):
        browse(v).post(f"/service/activities/{act.id}/signup")
    steward = browse(d.steward_a)
    page = text(steward.get(f"/service/activities/{act.id}/edit"))
    assert act.title in page and 'name="community"' not in page
    day = (aware(act.starts_at).astimezone(local_zone())).date()
    response = steward.post(f"/service/activities/{act.id}/edit", data=form_for(day, title=act.title, places="2"))
    assert response.status_code == 303, text(response)
    assert states(act.id) == ({v1.id: "confirmed", v2.id: "confirmed", v3.id: "waiting"}, 2)

    response = steward.post(f"/service/activities/{act.id}/edit", data=form_for(day, places="1"))
    assert response.status_code == 400 and "2 volunteers are already confirmed; cancel some first." in text(response)
    assert states(act.id) == ({v1.id: "confirmed", v2.id: "confirmed", v3.id: "waiting"}, 2)
    assert db.session.get(Activity, act.id).title == act.title
    assert browse(d.steward_b).get(f"/service/activities/{act.id}/edit").status_code == 404
    assert browse(v1).get(f"/service/activities/{act.id}/edit").status_code == 404


def test_steward_cancels_the_activity_with_a_reason(district, browse):
    d = district
    act = sf.activity(d.a)
    sf.signup(act, d.member_a)
    steward = browse(d.steward_a)
    response = steward.post(f"/service/activities/{act.id}/cancel", data={"reason": ""})
    assert response.status_code == 400 and "This field is required." in text(response)
    assert states(act.id) == ({d.member_a.id: "confirmed"}, 1)
    assert browse(d.steward_b).post(f"/service/activities/{act.id}/cancel", data={"reason": "x"}).status_code == 404

    response = steward.post(f"/service/activities/{act.id}/cancel", data={"reason": "暴雨预警"})
    assert response.status_code == 303
    assert states(act.id) == ({d.member_a.id: "cancelled"}, 0)
    page = text(browse(d.member_a).get(f"/service/activities/{act.id}"))
    assert "Cancelled" in page and "暴雨预警" in page and "Sign up" not in page


def test_an_activity_with_check_ins_cannot_be_cancelled(district, browse):
    d = district
    act = sf.activity(d.a, starts_in=timedelta(minutes=-5))
    sf.signup(act, d.member_a, checked_in_at=act.starts_at, checkin_method="code")
    response = browse(d.steward_a).post(f"/service/activities/{act.id}/cancel", data={"reason": "人太少"})
    assert response.status_code == 400
    assert "Volunteers have checked in; the activity cannot be cancelled." in text(response)
    assert states(act.id) == ({d.member_a.id: "confirmed"}, 1)
