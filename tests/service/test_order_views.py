"""群众点单、社区下单、义工接单 end to end through the pages: needs, orders, taking, done, confirmation, disputes."""

import pytest
from sqlalchemy import func, select

from volunteer.extensions import db
from volunteer.service.models import Need, Order, OrderTake, ServiceRecord

from ..conftest import text
from . import factories as sf


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def fresh(model, object_id):
    db.session.expire_all()
    return db.session.get(model, object_id)


ORDER = {
    "title": "陪老人买菜",
    "category": "elderly",
    "description": "周六上午",
    "scheduled": "周六 9:00",
    "places": "1",
}


def post_need(client, **data) -> Need:
    data = {"category": "elderly", "description": "帮忙买菜\n腿脚不便", "preferred_time": "周六上午", **data}
    response = client.post("/service/needs/new", data=data)
    assert response.status_code == 303, text(response)
    return db.session.scalars(select(Need).order_by(Need.id.desc())).first()


def make_order(client, need_id, **data) -> Order:
    response = client.post(f"/service/needs/{need_id}/order", data={**ORDER, **data})
    assert response.status_code == 303, text(response)
    return db.session.scalars(select(Order).where(Order.need_id == need_id)).one()


def test_need_to_confirmed_order(district, browse):
    d = district
    resident, steward, volunteer = browse(d.resident_a), browse(d.steward_a), browse(d.member_a)

    assert resident.get("/service/needs/new").status_code == 200
    need = post_need(resident)
    assert (need.community_id, need.resident_id, need.state, need.preferred_time) == (
        d.a.id,
        d.resident_a.id,
        "open",
        "周六上午",
    )
    mine = text(resident.get("/service/needs"))
    assert "帮忙买菜" in mine and "Waiting for the community" in mine

    # The steward sees the need in the queue, with the order form prefilled from its first line.
    queue = text(steward.get("/service/needs"))
    assert "帮忙买菜" in queue and "张三" in queue
    page = text(steward.get(f"/service/needs/{need.id}"))
    assert 'value="帮忙买菜"' in page and "Make an order" in page and "Decline" in page
    order = make_order(steward, need.id)
    assert (order.state, order.places, order.community_id) == ("open", 1, d.a.id)
    assert fresh(Need, need.id).state == "ordered"

    # The resident's list shows the order's state and links to it.
    mine = text(resident.get("/service/needs"))
    assert f"/service/orders/{order.id}" in mine and "Open to take" in mine

    # The volunteer finds it among the open orders and takes it.
    assert "陪老人买菜" in text(volunteer.get("/service/orders"))
    assert "Take it" in text(volunteer.get(f"/service/orders/{order.id}"))
    assert volunteer.post(f"/service/orders/{order.id}/take").status_code == 303
    assert fresh(Order, order.id).state == "taken"
    assert "陪老人买菜" in text(volunteer.get("/service/orders?show=mine"))

    response = volunteer.post(f"/service/orders/{order.id}/done", data={"note": "买好送到家", "hours": "1.5"})
    assert response.status_code == 303
    order = fresh(Order, order.id)
    assert (order.state, order.done_minutes, order.done_note) == ("done", 90, "买好送到家")

    page = text(resident.get(f"/service/orders/{order.id}"))
    assert "Confirm the service" in page and "1.5" in page and "王党员" in page
    assert page.count('type="radio"') == 5 and "★★★★★" in page
    assert d.member_a.phone[-4:] not in page  # phones only to stewards
    response = resident.post(f"/service/orders/{order.id}/confirm", data={"rating": "5", "feedback": "很好"})
    assert response.status_code == 303
    order = fresh(Order, order.id)
    assert (order.state, order.rating, order.feedback) == ("confirmed", 5, "很好")
    record = db.session.scalars(select(ServiceRecord).where(ServiceRecord.order_id == order.id)).one()
    assert (record.volunteer_id, record.status, record.source, record.minutes) == (
        d.member_a.id,
        "pending",
        "order",
        90,
    )

    # The steward sees who took it, with the phone masked.
    page = text(steward.get(f"/service/orders/{order.id}"))
    assert "王党员" in page and d.member_a.masked_phone in page and d.member_a.phone not in page


def test_dispute_resolved_both_ways(district, browse):
    d = district
    resident, steward, volunteer = browse(d.resident_a), browse(d.steward_a), browse(d.member_a)
    done = []
    for description in ("修水管", "换灯泡"):
        need = post_need(resident, description=description, category="repair")
        order = make_order(steward, need.id, title=description, category="repair")
        volunteer.post(f"/service/orders/{order.id}/take")
        volunteer.post(f"/service/orders/{order.id}/done", data={"note": "完成", "hours": "2"})
        response = resident.post(f"/service/orders/{order.id}/dispute", data={"reason": "没有来"})
        assert response.status_code == 303
        assert fresh(Order, order.id).state == "disputed"
        done.append(order.id)

    page = text(steward.get(f"/service/orders/{done[0]}"))
    assert "Settle the dispute" in page and "没有来" in page
    response = steward.post(f"/service/orders/{done[0]}/resolve", data={"upheld": "yes", "note": "核实已修好"})
    assert response.status_code == 303
    assert fresh(Order, done[0]).state == "confirmed"
    assert count(ServiceRecord, ServiceRecord.order_id == done[0]) == 1

    response = steward.post(f"/service/orders/{done[1]}/resolve", data={"upheld": "no", "note": "确实没来"})
    assert response.status_code == 303
    order = fresh(Order, done[1])
    assert (order.state, order.resolution) == ("closed", "确实没来")
    assert count(ServiceRecord, ServiceRecord.order_id == done[1]) == 0
    assert "确实没来" in text(resident.get(f"/service/orders/{done[1]}"))

    # Settling twice is refused on the form, and changes nothing.
    response = steward.post(f"/service/orders/{done[1]}/resolve", data={"upheld": "yes", "note": "改主意"})
    assert response.status_code == 400 and "This order is not disputed." in text(response)
    assert fresh(Order, done[1]).state == "closed"


def test_decline_and_withdraw(district, browse):
    d = district
    resident, steward = browse(d.resident_a), browse(d.steward_a)
    declined = post_need(resident, description="帮我装空调")
    withdrawn = post_need(resident, description="陪我聊天")

    response = steward.post(f"/service/needs/{declined.id}/decline", data={"reason": ""})
    assert response.status_code == 400 and "This field is required." in text(response)
    assert fresh(Need, declined.id).state == "open"
    response = steward.post(f"/service/needs/{declined.id}/decline", data={"reason": "需要专业安装"})
    assert response.status_code == 303
    need = fresh(Need, declined.id)
    assert (need.state, need.decline_reason, need.decided_by_id) == ("declined", "需要专业安装", d.steward_a.id)
    page = text(resident.get(f"/service/needs/{declined.id}"))
    assert "需要专业安装" in page and "Withdraw" not in page
    assert "帮我装空调" in text(steward.get("/service/needs?state=declined"))
    assert "帮我装空调" not in text(steward.get("/service/needs"))  # the open queue only

    assert "Withdraw my need" in text(resident.get(f"/service/needs/{withdrawn.id}"))
    assert resident.post(f"/service/needs/{withdrawn.id}/withdraw").status_code == 303
    assert fresh(Need, withdrawn.id).state == "withdrawn"
    # Withdrawing again, or making an order of a withdrawn need, changes nothing.
    response = resident.post(f"/service/needs/{withdrawn.id}/withdraw")
    assert response.status_code == 400 and "Only a need still waiting can be withdrawn." in text(response)
    response = steward.post(f"/service/needs/{withdrawn.id}/order", data=ORDER)
    assert response.status_code == 400 and "already dealt with" in text(response)
    assert count(Order) == 0


def test_multi_place_order_and_release(district, browse):
    d = district
    steward = browse(d.steward_a)
    second = factories_volunteer(d)
    response = steward.post("/service/orders/new", data={**ORDER, "community": d.a.id, "places": "2"})
    assert response.status_code == 303
    order = db.session.scalars(select(Order)).one()
    assert (order.need_id, order.places, order.created_by_id) == (None, 2, d.steward_a.id)

    first, other = browse(d.member_a), browse(second)
    assert first.post(f"/service/orders/{order.id}/take").status_code == 303
    order = fresh(Order, order.id)
    assert (order.state, order.taken) == ("open", 1)
    response = first.post(f"/service/orders/{order.id}/take")
    assert response.status_code == 400 and "already taken this order" in text(response)
    assert other.post(f"/service/orders/{order.id}/take").status_code == 303
    order = fresh(Order, order.id)
    assert (order.state, order.taken) == ("taken", 2)
    assert "Take it" not in text(browse(d.steward_a).get(f"/service/orders/{order.id}"))

    assert first.post(f"/service/orders/{order.id}/release").status_code == 303
    order = fresh(Order, order.id)
    assert (order.state, order.taken) == ("open", 1)
    assert count(OrderTake, OrderTake.order_id == order.id, OrderTake.volunteer_id == d.member_a.id) == 0

    # A community's own order is confirmed by its steward; both volunteers who are on it get a record.
    assert first.post(f"/service/orders/{order.id}/take").status_code == 303
    other.post(f"/service/orders/{order.id}/done", data={"note": "清理完毕", "hours": "3"})
    assert "Confirm the service" in text(steward.get(f"/service/orders/{order.id}"))
    assert steward.post(f"/service/orders/{order.id}/confirm", data={"rating": "4"}).status_code == 303
    volunteers = set(db.session.scalars(select(ServiceRecord.volunteer_id).where(ServiceRecord.order_id == order.id)))
    assert volunteers == {d.member_a.id, second.id}


def factories_volunteer(d):
    from .. import factories

    user = factories.resident(d.building_a, name="钱义工")
    factories.grant(user, "volunteer", community_=d.a)
    return user


def test_cancel_by_steward(district, browse):
    d = district
    order = sf.order(d.a, title="扫雪")
    steward = browse(d.steward_a)
    response = steward.post(f"/service/orders/{order.id}/cancel", data={"reason": "x" * 301})
    assert response.status_code == 400 and "At most 300 characters." in text(response)
    assert fresh(Order, order.id).state == "open"
    assert steward.post(f"/service/orders/{order.id}/cancel", data={"reason": "天气转好"}).status_code == 303
    order = fresh(Order, order.id)
    assert (order.state, order.resolution) == ("cancelled", "天气转好")
    assert "天气转好" in text(browse(d.member_a).get(f"/service/orders/{order.id}"))
    # Volunteers cannot cancel.
    other = sf.order(d.a, title="扫地")
    response = browse(d.member_a).post(f"/service/orders/{other.id}/cancel", data={"reason": "不想去"})
    assert response.status_code == 403
    assert fresh(Order, other.id).state == "open"


def test_another_community_cannot_see_or_take(district, browse):
    d = district
    order = sf.order(d.a, title="东一的单")
    stranger = browse(d.member_b)
    assert stranger.get(f"/service/orders/{order.id}").status_code == 404
    assert stranger.post(f"/service/orders/{order.id}/take").status_code == 404
    assert "东一的单" not in text(stranger.get("/service/orders"))
    assert stranger.get(f"/service/orders?community={d.a.id}").status_code == 404
    assert count(OrderTake) == 0
    # A resident of the community who is not a volunteer cannot take it either.
    assert browse(d.resident_a).get(f"/service/orders/{order.id}").status_code == 404
    assert browse(d.steward_b).get(f"/service/orders/{order.id}").status_code == 404
    assert count(OrderTake) == 0


def test_needs_are_private(district, browse):
    d = district
    need = sf.need(d.resident_a, d.a, description="张三的需求")
    other = sf.need(d.resident_b, d.b, description="李四的需求")
    neighbour = browse(d.member_a)  # a resident of the same community
    assert neighbour.get(f"/service/needs/{need.id}").status_code == 404
    assert "张三的需求" not in text(neighbour.get("/service/needs"))
    assert browse(d.resident_a).get(f"/service/needs/{other.id}").status_code == 404
    assert browse(d.steward_b).get(f"/service/needs/{need.id}").status_code == 404
    response = browse(d.steward_b).post(f"/service/needs/{need.id}/order", data=ORDER)
    assert response.status_code == 404
    assert browse(d.steward_a).get(f"/service/needs?community={d.b.id}").status_code == 404
    assert count(Order) == 0
    assert browse(d.employer_a).get("/service/needs").status_code == 403
    assert browse(d.steward_a).get("/service/needs/new").status_code == 403


def test_who_sees_which_orders_list(district, browse):
    d = district
    sf.order(d.a, title="开放的单")
    sf.order(d.a, title="已取消的单", state="cancelled")
    assert browse(d.resident_a).get("/service/orders").status_code == 302
    assert browse(d.employer_a).get("/service/orders").status_code == 403
    assert browse(d.member_a).get("/service/orders?show=all").status_code == 403
    page = text(browse(d.steward_a).get("/service/orders"))
    assert "开放的单" in page and "已取消的单" in page
    page = text(browse(d.steward_a).get("/service/orders?show=all&state=cancelled"))
    assert "开放的单" not in page and "已取消的单" in page
    page = text(browse(d.member_a).get("/service/orders"))
    assert "开放的单" in page and "已取消的单" not in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("description", "", "This field is required."),
        ("description", "x" * 1001, "At most 1000 characters."),
        ("preferred_time", "x" * 61, "At most 60 characters."),
        ("category", "nonsense", "Not a valid choice"),
    ],
)
def test_bad_need(district, browse, field, value, message):
    resident = browse(district.resident_a)
    data = {"category": "elderly", "description": "帮忙", "preferred_time": "", field: value}
    response = resident.post("/service/needs/new", data=data)
    assert response.status_code == 400 and message in text(response)
    assert count(Need) == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("places", "0", "a whole number from 1 to 10"),
        ("places", "11", "a whole number from 1 to 10"),
        ("places", "x", "Not a valid integer value."),
        ("title", "", "This field is required."),
        ("title", "x" * 81, "At most 80 characters."),
        ("scheduled", "x" * 61, "At most 60 characters."),
    ],
)
def test_bad_order(district, browse, field, value, message):
    d = district
    need = sf.need(d.resident_a, d.a)
    response = browse(d.steward_a).post(f"/service/needs/{need.id}/order", data={**ORDER, field: value})
    assert response.status_code == 400 and message in text(response)
    assert count(Order) == 0 and fresh(Need, need.id).state == "open"
    response = browse(d.steward_a).post("/service/orders/new", data={**ORDER, "community": d.a.id, field: value})
    assert response.status_code == 400 and message in text(response)
    assert count(Order) == 0


def test_new_order_only_in_own_community(district, browse):
    d = district
    response = browse(d.steward_a).post("/service/orders/new", data={**ORDER, "community": d.b.id})
    assert response.status_code == 400 and "Not a valid choice" in text(response)
    assert browse(d.member_a).get("/service/orders/new").status_code == 403
    assert count(Order) == 0


@pytest.mark.parametrize("hours", ["0", "25", "abc", "", "-1", "24.5"])
def test_bad_hours(district, browse, hours):
    d = district
    order = sf.order(d.a)
    volunteer = browse(d.member_a)
    volunteer.post(f"/service/orders/{order.id}/take")
    response = volunteer.post(f"/service/orders/{order.id}/done", data={"note": "做完了", "hours": hours})
    message = "This field is required." if hours == "" else "Enter the hours as a number more than 0 and at most 24"
    assert response.status_code == 400 and message in text(response)
    order = fresh(Order, order.id)
    assert (order.state, order.done_minutes) == ("taken", None)


def test_bad_note_on_done(district, browse):
    d = district
    order = sf.order(d.a)
    volunteer = browse(d.member_a)
    volunteer.post(f"/service/orders/{order.id}/take")
    response = volunteer.post(f"/service/orders/{order.id}/done", data={"note": "", "hours": "1"})
    assert response.status_code == 400 and "This field is required." in text(response)
    assert fresh(Order, order.id).state == "taken"


@pytest.mark.parametrize("rating", ["0", "6", "x", ""])
def test_bad_rating(district, browse, rating):
    d = district
    need = sf.need(d.resident_a, d.a, state="ordered")
    order = sf.order(d.a, need, state="done", taken=1, done_minutes=60, done_note="好了")
    db.session.add(OrderTake(order_id=order.id, volunteer_id=d.member_a.id))
    db.session.commit()
    response = browse(d.resident_a).post(f"/service/orders/{order.id}/confirm", data={"rating": rating})
    message = "This field is required." if rating == "" else "Rate the service from 1 to 5."
    assert response.status_code == 400 and message in text(response)
    order = fresh(Order, order.id)
    assert (order.state, order.rating) == ("done", None)
    assert count(ServiceRecord) == 0


def test_only_the_resident_confirms_or_disputes(district, browse):
    d = district
    need = sf.need(d.resident_a, d.a, state="ordered")
    order = sf.order(d.a, need, state="done", taken=1, done_minutes=60, done_note="好了")
    db.session.add(OrderTake(order_id=order.id, volunteer_id=d.member_a.id))
    db.session.commit()
    volunteer = browse(d.member_a)
    assert "Confirm the service" not in text(volunteer.get(f"/service/orders/{order.id}"))
    assert volunteer.post(f"/service/orders/{order.id}/confirm", data={"rating": "5"}).status_code == 403
    assert volunteer.post(f"/service/orders/{order.id}/dispute", data={"reason": "x"}).status_code == 403
    response = browse(d.resident_a).post(f"/service/orders/{order.id}/dispute", data={"reason": "x" * 501})
    assert response.status_code == 400 and "At most 500 characters." in text(response)
    assert fresh(Order, order.id).state == "done"
    assert count(ServiceRecord) == 0
