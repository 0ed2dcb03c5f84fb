"""Member cards: the signed token, the member's own card page and PNG, and what a steward's scan opens."""

from datetime import timedelta

from sqlalchemy import select

from volunteer.core import signing
from volunteer.extensions import db
from volunteer.service import cards
from volunteer.service.models import Signup

from .. import factories
from ..conftest import text
from . import factories as sf

# --- the token -----------------------------------------------------------------------------------


def test_card_token_round_trip_and_refusals(district):
    d = district
    token = cards.card_token(d.member_a)
    assert cards.card_token(d.member_a) == token  # stable: a printed card keeps working
    assert cards.card_user(token).id == d.member_a.id
    assert cards.card_user(f"  https://volunteer.example/service/card/{token}  ").id == d.member_a.id
    assert cards.card_user(f"http://localhost/service/card/{token}/?x=1").id == d.member_a.id
    for bad in (
        None,
        "",
        "   ",
        token[:-1] + ("A" if token[-1] != "A" else "B"),  # edited signature
        signing.sign("member-card", "1"),  # right purpose, wrong payload type
        signing.sign("member-card", True),
        signing.sign("activity-checkin", d.member_a.id),  # another purpose
        signing.sign("member-card", 999_999),  # nobody
        f"https://volunteer.example/service/other/{token}",  # not a card URL
        "x" * 5000,
    ):
        assert cards.card_user(bad) is None, bad


def test_a_deactivated_members_card_stops_working(district):
    token = cards.card_token(district.member_a)
    district.member_a.active = False
    factories._commit(district.member_a)
    assert cards.card_user(token) is None


# --- the member's own card -----------------------------------------------------------------------


def test_my_card_page_and_png(district, browse, client):
    d = district
    member = browse(d.member_a)
    page = text(member.get("/service/card"))
    assert "<svg" in page and d.member_a.name in page and d.member_a.masked_phone in page
    assert d.member_a.phone not in page
    assert cards.card_token(d.member_a) in page and "Print" in page and "css/service.css" in page
    png = member.get("/service/card.png")
    assert png.status_code == 200 and png.mimetype == "image/png" and png.data.startswith(b"\x89PNG")
    assert png.headers["Content-Disposition"].startswith("attachment")
    assert browse(d.resident_a).get("/service/card").status_code == 200  # everyone has a card
    assert client.get("/service/card").status_code == 302  # to the login page
    assert client.get("/service/card.png").status_code == 302


# --- what a scan opens ---------------------------------------------------------------------------


def test_card_page_permissions(district, browse):
    d = district
    token = cards.card_token(d.member_a)
    url = f"/service/card/{token}"
    owner = browse(d.member_a)
    response = owner.get(url)
    assert response.status_code == 302 and response.location.endswith("/service/card")
    for user in (d.steward_a, d.admin_a, d.organiser_a):
        page = browse(user).get(url)
        assert page.status_code == 200, user.name
        assert d.member_a.name in text(page) and d.member_a.phone not in text(page)
    for user in (d.steward_b, d.admin_b, d.resident_a, d.member_b, d.employer_a, d.collector_a):
        assert browse(user).get(url).status_code == 404, user.name
    steward = browse(d.steward_a)
    assert steward.get(f"/service/card/{token[:-2]}xx").status_code == 404
    assert steward.get("/service/card/nonsense").status_code == 404
    # A resident of community a (not a volunteer) is found by a steward of a, not of b.
    resident_url = f"/service/card/{cards.card_token(d.resident_a)}"
    assert steward.get(resident_url).status_code == 200
    assert browse(d.steward_b).get(resident_url).status_code == 404


def test_card_page_shows_progress_and_checks_in_to_an_activity_happening_now(district, browse):
    d = district
    now = sf.activity(d.a, starts_in=timedelta(minutes=20), title="社区义诊")
    later = sf.activity(d.a, starts_in=timedelta(hours=5), title="晚上巡逻")
    elsewhere = sf.activity(d.b, starts_in=timedelta(minutes=-5), title="别处活动")
    mine = sf.signup(now, d.member_a)
    sf.signup(later, d.member_a)
    sf.signup(elsewhere, d.member_a)
    sf.record(d.member_a, d.a)  # pending: not counted yet
    token = cards.card_token(d.member_a)
    steward = browse(d.steward_a)

    page = text(steward.get(f"/service/card/{token}"))
    assert "0/12" in page and "1 waiting for verification" in page
    assert "社区义诊" in page and "晚上巡逻" not in page and "别处活动" not in page
    assert f"/service/signups/{mine.id}/check" in page

    response = steward.post(f"/service/signups/{mine.id}/check", data={"mode": "in", "card": token})
    assert response.status_code == 303 and response.location.endswith(f"/service/card/{token}")
    page = text(steward.get(response.location))
    assert "checked in at" in page and "Check out" in page
    db.session.commit()
    db.session.expire_all()
    signup = db.session.get(Signup, mine.id)
    assert signup.checked_in_at is not None and signup.checkin_method == "card"

    # A refusal re-shows the card page with the reason and changes nothing.
    response = steward.post(f"/service/signups/{mine.id}/check", data={"mode": "in", "card": token})
    assert response.status_code == 400 and "Already checked in at" in text(response) and "社区义诊" in text(response)
    assert len(db.session.scalars(select(Signup).where(Signup.checked_in_at.is_not(None))).all()) == 1
