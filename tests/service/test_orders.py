"""群众点单、社区下单、义工接单: every transition of needs and orders, and every refusal by role and state."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from volunteer.core.audit import AuditEntry
from volunteer.core.models import aware, to_local, utcnow
from volunteer.extensions import db
from volunteer.service import orders
from volunteer.service.models import Need, Order, OrderTake, ServiceRecord

from . import factories as sf

WEEK = orders.AUTO_CONFIRM_AFTER


def order_fields(**kw) -> dict:
    return {"category": "elderly", "title": "买菜", "description": "", "scheduled": "周六上午", "places": 1, **kw}


def needed_order(d, places=1, resident=None) -> Order:
    """resident_a's need, made an order of community a by steward_a."""
    need = orders.post_need(resident or d.resident_a, category="elderly", description="帮忙买菜")
    return orders.make_order(d.steward_a, need.id, order_fields(places=places))


def done_order(d, takers, places=None, minutes=60) -> Order:
    order = needed_order(d, places or len(takers))
    for v in takers:
        orders.take(v, order.id)
    return orders.mark_done(takers[0], order.id, note="买好了", minutes=minutes)


def records_of(order_id) -> list[ServiceRecord]:
    db.session.commit()
    return list(db.session.scalars(select(ServiceRecord).where(ServiceRecord.order_id == order_id).order_by("id")))


# --- needs ----------------------------------------------------------------------------------------


def test_a_resident_posts_a_need_to_their_community(district):
    need = orders.post_need(district.resident_a, category="repair", description=" 修水管 ", preferred_time="晚上")
    row = sf.fresh(Need, need.id)
    assert (row.community_id, row.state, row.description, row.preferred_time) == (
        district.a.id,
        "open",
        "修水管",
        "晚上",
    )


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"category": "cooking"}, "bad_category"),
        ({"description": "  "}, "bad_description"),
        ({"description": "x" * 1001}, "bad_description"),
        ({"preferred_time": "x" * 61}, "bad_time"),
    ],
)
def test_a_bad_need_is_refused(district, change, code):
    values = {"category": "repair", "description": "修水管", "preferred_time": "", **change}
    sf.refused(code, orders.post_need, district.resident_a, **values)
    assert sf.count(Need) == 0


def test_only_residents_post_needs_and_only_five_at_once(district):
    for outsider in (district.steward_a, district.organiser_all, sf.volunteer(district.a)):
        err = sf.refused("not_resident", orders.post_need, outsider, category="repair", description="x")
        assert err.status == 403
    needs = [orders.post_need(district.resident_a, category="repair", description=f"需{i}") for i in range(5)]
    sf.refused("too_many", orders.post_need, district.resident_a, category="repair", description="第六")
    orders.withdraw_need(district.resident_a, needs[0].id)
    orders.post_need(district.resident_a, category="repair", description="第六")
    assert sf.count(Need, Need.state == "open") == 5


def test_withdrawing_a_need(district):
    need = orders.post_need(district.resident_a, category="repair", description="修水管")
    sf.refused("forbidden", orders.withdraw_need, district.resident_b, need.id)
    orders.withdraw_need(district.resident_a, need.id)
    assert sf.fresh(Need, need.id).state == "withdrawn"
    sf.refused("not_open", orders.withdraw_need, district.resident_a, need.id)
    sf.refused("not_open", orders.make_order, district.steward_a, need.id, order_fields())
    sf.refused("not_found", orders.withdraw_need, district.resident_a, 10**6)


def test_declining_a_need(district):
    need = orders.post_need(district.resident_a, category="repair", description="修水管")
    sf.refused("bad_reason", orders.decline_need, district.steward_a, need.id, " ")
    sf.refused("forbidden", orders.decline_need, district.steward_b, need.id, "不归我们")
    orders.decline_need(district.steward_a, need.id, "请联系物业")
    row = sf.fresh(Need, need.id)
    assert (row.state, row.decline_reason, row.decided_by_id) == ("declined", "请联系物业", district.steward_a.id)
    sf.refused("not_open", orders.decline_need, district.steward_a, need.id, "again")
    sf.refused("not_open", orders.make_order, district.steward_a, need.id, order_fields())
    sf.refused("not_open", orders.withdraw_need, district.resident_a, need.id)
    assert sf.count(AuditEntry, AuditEntry.action == "service.need_decline") == 1


# --- orders ---------------------------------------------------------------------------------------


def test_a_steward_makes_an_order_of_a_need_once(district):
    need = orders.post_need(district.resident_a, category="repair", description="修水管")
    sf.refused("forbidden", orders.make_order, district.steward_b, need.id, order_fields())
    sf.refused("forbidden", orders.make_order, district.member_a, need.id, order_fields())
    order = orders.make_order(district.steward_a, need.id, order_fields(places=2))
    row = sf.fresh(Order, order.id)
    assert (row.community_id, row.need_id, row.state, row.places, row.taken) == (district.a.id, need.id, "open", 2, 0)
    assert row.resident_id == district.resident_a.id and sf.fresh(Need, need.id).state == "ordered"
    sf.refused("not_open", orders.make_order, district.steward_a, need.id, order_fields())
    assert sf.count(Order) == 1


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"places": 0}, "bad_places"),
        ({"places": 11}, "bad_places"),
        ({"places": True}, "bad_places"),
        ({"places": None}, "bad_places"),
        ({"title": ""}, "bad_title"),
        ({"title": "x" * 81}, "bad_title"),
        ({"category": None}, "bad_category"),
        ({"description": "x" * 1001}, "bad_description"),
        ({"scheduled": "x" * 61}, "bad_time"),
    ],
)
def test_bad_order_fields_are_refused(district, change, code):
    need = orders.post_need(district.resident_a, category="repair", description="修水管")
    sf.refused(code, orders.make_order, district.steward_a, need.id, order_fields(**change))
    sf.refused(code, orders.create_order, district.steward_a, district.a.id, order_fields(**change))
    assert sf.count(Order) == 0 and sf.fresh(Need, need.id).state == "open"


def test_only_its_stewards_raise_a_community_order(district):
    for outsider in (district.steward_b, district.member_a, district.resident_a):
        sf.refused("forbidden", orders.create_order, outsider, district.a.id, order_fields())
    order = orders.create_order(district.admin_a, district.a.id, order_fields())
    assert sf.fresh(Order, order.id).need_id is None and sf.fresh(Order, order.id).resident_id is None


# --- taking ---------------------------------------------------------------------------------------


def test_taking_fills_the_places_then_the_order_is_taken(district):
    order = needed_order(district, places=2)
    a, b, c = (sf.volunteer(district.a) for _ in range(3))
    orders.take(a, order.id)
    assert (sf.fresh(Order, order.id).state, sf.fresh(Order, order.id).taken) == ("open", 1)
    orders.take(b, order.id)
    assert (sf.fresh(Order, order.id).state, sf.fresh(Order, order.id).taken) == ("taken", 2)
    sf.refused("not_open", orders.take, c, order.id)  # a full order
    sf.refused("already_taken", orders.take, a, order.id)  # taking twice
    assert sf.count(OrderTake) == 2


def test_a_resident_cannot_take_the_order_of_their_own_need(district):
    order = needed_order(district, resident=district.member_a)  # member_a lives in a and volunteers there
    sf.refused("own_need", orders.take, district.member_a, order.id)
    assert sf.count(OrderTake) == 0


def test_a_volunteer_of_another_community_cannot_take_an_order(district):
    order = needed_order(district)
    for outsider in (district.member_b, sf.volunteer(district.b), district.resident_a, district.steward_a):
        err = sf.refused("not_volunteer", orders.take, outsider, order.id)
        assert err.status == 403
    assert sf.count(OrderTake) == 0
    row = sf.fresh(Order, order.id)
    assert (row.state, row.taken) == ("open", 0)
    sf.refused("not_found", orders.take, district.member_a, 10**6)


def test_releasing_gives_the_place_back(district):
    order = needed_order(district)
    a, b = sf.volunteer(district.a), sf.volunteer(district.a)
    orders.take(a, order.id)
    sf.refused("forbidden", orders.release, b, order.id)
    orders.release(a, order.id)
    row = sf.fresh(Order, order.id)
    assert (row.state, row.taken, sf.count(OrderTake)) == ("open", 0, 0)
    sf.refused("forbidden", orders.release, a, order.id)
    orders.take(b, order.id)
    orders.mark_done(b, order.id, note="好了", minutes=30)
    sf.refused("not_open", orders.release, b, order.id)
    assert sf.fresh(Order, order.id).taken == 1


# --- done, confirmation, disputes -----------------------------------------------------------------


def test_only_a_taker_marks_an_order_done(district):
    order = needed_order(district)
    a, b = sf.volunteer(district.a), sf.volunteer(district.a)
    orders.take(a, order.id)
    sf.refused("forbidden", orders.mark_done, b, order.id, note="好了", minutes=30)
    sf.refused("forbidden", orders.mark_done, district.steward_a, order.id, note="好了", minutes=30)
    sf.refused("bad_note", orders.mark_done, a, order.id, note=" ", minutes=30)
    for minutes in (0, 1441, True, 1.5, "30"):
        sf.refused("bad_minutes", orders.mark_done, a, order.id, note="好了", minutes=minutes)
    assert sf.fresh(Order, order.id).state == "taken"
    orders.mark_done(a, order.id, note="好了", minutes=45)
    row = sf.fresh(Order, order.id)
    assert (row.state, row.done_note, row.done_minutes) == ("done", "好了", 45) and row.done_at is not None
    sf.refused("not_open", orders.mark_done, a, order.id, note="again", minutes=45)


def test_a_partly_taken_order_can_be_done_by_its_taker(district):
    v = sf.volunteer(district.a)
    order = done_order(district, [v], places=3)
    orders.confirm(district.resident_a, order.id, rating=4)
    assert [r.volunteer_id for r in records_of(order.id)] == [v.id]


def test_confirming_gives_each_taker_one_pending_record_once(district):
    a, b = sf.volunteer(district.a), sf.volunteer(district.a)
    order = done_order(district, [a, b], minutes=75)
    sf.refused("forbidden", orders.confirm, district.resident_b, order.id, rating=5)
    sf.refused("forbidden", orders.confirm, district.steward_a, order.id, rating=5)  # the resident's to confirm
    sf.refused("forbidden", orders.confirm, a, order.id, rating=5)
    assert records_of(order.id) == []
    orders.confirm(district.resident_a, order.id, rating=5, feedback=" 谢谢 ")
    row = sf.fresh(Order, order.id)
    assert (row.state, row.rating, row.feedback, row.auto_confirmed) == ("confirmed", 5, "谢谢", False)
    found = records_of(order.id)
    assert sorted(r.volunteer_id for r in found) == sorted([a.id, b.id])
    for r in found:
        assert (r.status, r.source, r.kind, r.minutes, r.community_id) == (
            "pending",
            "order",
            "order",
            75,
            district.a.id,
        )
        assert r.served_on == to_local(row.done_at).date() and r.description == row.title
    sf.refused("not_done", orders.confirm, district.resident_a, order.id, rating=5)
    assert orders.auto_confirm(utcnow() + 2 * WEEK) == 0
    assert len(records_of(order.id)) == 2


def test_an_order_not_done_cannot_be_confirmed(district):
    order = needed_order(district)
    sf.refused("not_done", orders.confirm, district.resident_a, order.id, rating=5)
    orders.take(district.member_a, order.id)
    sf.refused("not_done", orders.confirm, district.resident_a, order.id, rating=5)
    sf.refused("not_done", orders.dispute, district.resident_a, order.id, "没来")


@pytest.mark.parametrize("rating", [0, 6, -1, True, False, None, "5", 4.5])
def test_rating_must_be_one_to_five(district, rating):
    order = done_order(district, [district.member_a])
    sf.refused("bad_rating", orders.confirm, district.resident_a, order.id, rating=rating)
    assert sf.fresh(Order, order.id).state == "done" and records_of(order.id) == []


@pytest.mark.parametrize("rating", [1, 5])
def test_ratings_at_the_bounds_are_accepted(district, rating):
    order = done_order(district, [district.member_a])
    orders.confirm(district.resident_a, order.id, rating=rating)
    assert sf.fresh(Order, order.id).rating == rating


def test_feedback_is_limited(district):
    order = done_order(district, [district.member_a])
    sf.refused("bad_feedback", orders.confirm, district.resident_a, order.id, rating=3, feedback="x" * 501)


def test_a_dispute_upheld_confirms_the_order(district):
    order = done_order(district, [district.member_a])
    sf.refused("forbidden", orders.dispute, district.resident_b, order.id, "没来")
    sf.refused("bad_reason", orders.dispute, district.resident_a, order.id, " ")
    orders.dispute(district.resident_a, order.id, "只买了一半")
    row = sf.fresh(Order, order.id)
    assert (row.state, row.dispute_reason) == ("disputed", "只买了一半")
    sf.refused("not_done", orders.confirm, district.resident_a, order.id, rating=3)
    sf.refused("not_done", orders.dispute, district.resident_a, order.id, "again")
    sf.refused("forbidden", orders.resolve, district.steward_b, order.id, upheld=True, note="核实")
    sf.refused("bad_note", orders.resolve, district.steward_a, order.id, upheld=True, note="")
    assert orders.auto_confirm(utcnow() + 2 * WEEK) == 0  # a disputed order waits for the steward
    orders.resolve(district.steward_a, order.id, upheld=True, note="核实已完成")
    row = sf.fresh(Order, order.id)
    assert (row.state, row.resolution, row.resolved_by_id) == ("confirmed", "核实已完成", district.steward_a.id)
    assert [r.volunteer_id for r in records_of(order.id)] == [district.member_a.id]
    sf.refused("not_disputed", orders.resolve, district.steward_a, order.id, upheld=True, note="again")
    assert len(records_of(order.id)) == 1
    assert sf.count(AuditEntry, AuditEntry.action == "service.order_resolve") == 1


def test_a_dispute_not_upheld_closes_the_order_without_records(district):
    order = done_order(district, [district.member_a])
    orders.dispute(district.resident_a, order.id, "没来")
    orders.resolve(district.steward_a, order.id, upheld=False, note="未服务")
    row = sf.fresh(Order, order.id)
    assert row.state == "closed" and row.closed_at is not None and records_of(order.id) == []
    sf.refused("not_disputed", orders.resolve, district.steward_a, order.id, upheld=True, note="改主意")
    sf.refused("not_open", orders.cancel_order, district.steward_a, order.id, "x")


# --- cancelling -----------------------------------------------------------------------------------


def test_only_open_or_taken_orders_can_be_cancelled(district):
    open_order = needed_order(district)
    sf.refused("bad_reason", orders.cancel_order, district.steward_a, open_order.id, "")
    sf.refused("forbidden", orders.cancel_order, district.steward_b, open_order.id, "取消")
    orders.cancel_order(district.steward_a, open_order.id, "居民已自行解决")
    row = sf.fresh(Order, open_order.id)
    assert (row.state, row.resolution) == ("cancelled", "居民已自行解决") and row.closed_at is not None
    sf.refused("not_open", orders.take, district.member_a, open_order.id)
    sf.refused("not_open", orders.cancel_order, district.steward_a, open_order.id, "again")

    taken = needed_order(district)
    orders.take(district.member_a, taken.id)
    orders.cancel_order(district.steward_a, taken.id, "时间冲突")
    assert sf.fresh(Order, taken.id).state == "cancelled"
    sf.refused("not_open", orders.mark_done, district.member_a, taken.id, note="x", minutes=10)
    sf.refused("not_open", orders.release, district.member_a, taken.id)

    done = done_order(district, [district.member_a])
    sf.refused("not_open", orders.cancel_order, district.steward_a, done.id, "x")
    orders.confirm(district.resident_a, done.id, rating=5)
    sf.refused("not_open", orders.cancel_order, district.steward_a, done.id, "x")
    assert sf.count(AuditEntry, AuditEntry.action == "service.order_cancel") == 2


# --- automatic confirmation -----------------------------------------------------------------------


def test_auto_confirm_after_seven_days_only_and_once(district):
    order = done_order(district, [district.member_a])
    done_at = aware(sf.fresh(Order, order.id).done_at)
    other = needed_order(district)  # not done: never confirmed automatically
    assert orders.auto_confirm(done_at + WEEK - timedelta(seconds=1)) == 0
    assert orders.auto_confirm(done_at + WEEK) == 0  # exactly 7 days: not yet
    assert sf.fresh(Order, order.id).state == "done"
    assert orders.auto_confirm(done_at + WEEK + timedelta(seconds=1)) == 1
    row = sf.fresh(Order, order.id)
    assert (row.state, row.auto_confirmed, row.rating) == ("confirmed", True, None)
    assert [r.volunteer_id for r in records_of(order.id)] == [district.member_a.id]
    assert orders.auto_confirm(done_at + 2 * WEEK) == 0
    assert len(records_of(order.id)) == 1 and sf.fresh(Order, other.id).state == "open"
    sf.refused("not_done", orders.confirm, district.resident_a, order.id, rating=5)


def test_auto_confirm_with_the_real_clock_leaves_recent_orders(district):
    order = done_order(district, [district.member_a])
    assert orders.auto_confirm() == 0 and sf.fresh(Order, order.id).state == "done"


# --- an order the community raised itself ---------------------------------------------------------


def test_a_community_order_is_confirmed_by_its_steward(district):
    order = orders.create_order(district.steward_a, district.a.id, order_fields(places=1))
    orders.take(district.member_a, order.id)
    orders.mark_done(district.member_a, order.id, note="巡逻完成", minutes=120)
    row = sf.fresh(Order, order.id)
    assert orders.can_confirm(district.steward_a, row) and orders.can_confirm(district.admin_a, row)
    assert not orders.can_confirm(district.resident_a, row) and not orders.can_confirm(district.steward_b, row)
    sf.refused("forbidden", orders.confirm, district.resident_a, order.id, rating=5)
    sf.refused("forbidden", orders.confirm, district.steward_b, order.id, rating=5)
    sf.refused("forbidden", orders.dispute, district.resident_a, order.id, "x")
    orders.confirm(district.steward_a, order.id, rating=4)
    found = records_of(order.id)
    assert [(r.volunteer_id, r.minutes, r.source) for r in found] == [(district.member_a.id, 120, "order")]


def test_can_confirm_for_a_residents_order(district):
    order = sf.fresh(Order, needed_order(district).id)
    assert orders.can_confirm(district.resident_a, order)
    assert not orders.can_confirm(district.resident_b, order) and not orders.can_confirm(district.steward_a, order)
