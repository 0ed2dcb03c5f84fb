"""The volunteer's home page: 1112 progress, recent services, activities (mine and coming up), orders."""

import re
from datetime import timedelta

from volunteer.core.models import local_today
from volunteer.service import orders, records

from . import factories as sf


def progress_card(page: str) -> str:
    found = re.search(r'<section class="card progress-1112".*?</section>', page, re.S)
    assert found, "no 1112 progress card"
    return found.group(0)


def test_home_shows_seven_of_twelve(district, browse):
    d = district
    for i in range(7):
        row = sf.record(d.member_a, d.a, served_on=local_today() - timedelta(days=i), description=f"服务第{i}次")
        records.verify(d.steward_a, row.id)
    sf.record(d.member_a, d.a, description="还在等核实")
    verified_elsewhere = sf.record(d.member_a, d.b, description="别的社区")
    records.verify(d.steward_b, verified_elsewhere.id)

    page = browse(d.member_a).get("/").get_data(as_text=True)
    card = progress_card(page)
    assert "7/12" in card and 'aria-valuenow="7"' in card
    assert ("On pace" in card) or ("Behind" in card)
    assert "/service/trail" in card and ("/service/card" in card)
    # Recent history: the five newest, each with its status.
    recent = page.split('id="h-service-recent"')[1].split("</section>")[0]
    assert recent.count("<li>") == 5 and "还在等核实" in recent and "Waiting for verification" in recent
    assert "服务第6次" not in recent


def test_upcoming_activities_and_open_orders(district, browse):
    d = district
    coming = sf.activity(d.a, title="河道清洁", starts_in=timedelta(days=2))
    past = sf.activity(d.a, title="上周活动", starts_in=timedelta(days=-7))
    called_off = sf.activity(d.a, title="取消的活动", starts_in=timedelta(days=3), state="cancelled")
    gave_up = sf.activity(d.a, title="我退出的活动", starts_in=timedelta(days=3))
    for act in (coming, past, called_off):
        sf.signup(act, d.member_a)
    sf.signup(gave_up, d.member_a, state="cancelled")
    sf.order(d.a, title="帮老人买菜")
    sf.order(d.a, title="已接的单", state="taken")
    sf.order(d.b, title="东二的单")

    page = browse(d.member_a).get("/").get_data(as_text=True)
    upcoming = page.split('id="h-service-upcoming"')[1].split("</section>")[0]
    assert "河道清洁" in upcoming
    assert "上周活动" not in upcoming and "取消的活动" not in upcoming and "我退出的活动" not in upcoming
    orders = page.split('id="h-service-orders"')[1].split("</section>")[0]
    assert "帮老人买菜" in orders and "已接的单" not in orders and "东二的单" not in orders


def card(page: str, heading: str) -> str:
    return page.split(f'id="{heading}"')[1].split("</section>")[0]


def test_coming_up_lists_the_communitys_activities_with_a_free_place(district, browse):
    d = district
    mine = sf.activity(d.a, title="我报了名的", starts_in=timedelta(days=1))
    sf.signup(mine, d.member_a)
    sf.activity(d.a, title="还有名额", starts_in=timedelta(days=2), places=3)
    full = sf.activity(d.a, title="已经满员", starts_in=timedelta(days=2), places=1)
    sf.signup(full, d.member_b)
    sf.activity(d.a, title="已经开始", starts_in=timedelta(hours=-1))
    sf.activity(d.a, title="取消了", starts_in=timedelta(days=3), state="cancelled")
    sf.activity(d.b, title="别的社区", starts_in=timedelta(days=2))

    coming = card(browse(d.member_a).get("/").get_data(as_text=True), "h-service-coming")
    assert "还有名额" in coming and "3 places left" in coming
    for hidden in ("我报了名的", "已经满员", "已经开始", "取消了", "别的社区"):
        assert hidden not in coming, hidden


def test_orders_i_have_taken_until_the_resident_confirms(district, browse):
    d = district
    need = orders.post_need(d.resident_a, category="repair", description="修水龙头")
    order = orders.make_order(d.steward_a, need.id, {"category": "repair", "title": "修水龙头", "places": 1})
    assert 'id="h-service-taken"' not in browse(d.member_a).get("/").get_data(as_text=True)
    orders.take(d.member_a, order.id)
    taken = card(browse(d.member_a).get("/").get_data(as_text=True), "h-service-taken")
    assert "修水龙头" in taken and "Taken" in taken
    orders.mark_done(d.member_a, order.id, note="换了阀芯", minutes=30)
    assert "Done, waiting for confirmation" in card(
        browse(d.member_a).get("/").get_data(as_text=True), "h-service-taken"
    )
    orders.confirm(d.resident_a, order.id, rating=5)
    assert 'id="h-service-taken"' not in browse(d.member_a).get("/").get_data(as_text=True)


def test_no_service_cards_for_non_volunteers(district, browse):
    d = district
    for user in (d.resident_a, d.steward_a):
        page = browse(user).get("/").get_data(as_text=True)
        assert "progress-1112" not in page and 'id="h-service-recent"' not in page
