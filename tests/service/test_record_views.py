"""Service-record pages end to end: reporting with a photo, the queue, verifying once, reversals, the rule."""

import io
import os
from datetime import timedelta

from PIL import Image
from sqlalchemy import func, select

from volunteer.core.audit import AuditEntry
from volunteer.core.models import local_today
from volunteer.credit import photos
from volunteer.extensions import db
from volunteer.ledger import services as ledger
from volunteer.ledger.models import LedgerEntry, PointsAccount
from volunteer.service import records
from volunteer.service.models import ServicePolicy, ServiceRecord

from .. import factories
from ..conftest import text
from ..credit.factories import jpeg_bytes
from . import factories as sf


def entries(record_id: int, kind: str = "earn_service") -> list[LedgerEntry]:
    stmt = select(LedgerEntry).where(LedgerEntry.kind == kind)
    if kind == "earn_service":
        stmt = stmt.where(LedgerEntry.source_type == "ServiceRecord", LedgerEntry.source_id == record_id)
    return list(db.session.scalars(stmt.order_by(LedgerEntry.id)))


def balance(user, community) -> int:
    account = db.session.scalar(
        select(PointsAccount).where(PointsAccount.user_id == user.id, PointsAccount.community_id == community.id)
    )
    return account.balance if account else 0


def fresh(record_id: int) -> ServiceRecord:
    db.session.expire_all()
    return db.session.get(ServiceRecord, record_id)


def report_form(**kw) -> dict:
    data = {
        "served_on": (local_today() - timedelta(days=2)).isoformat(),
        "hours": "1.5",
        "description": "陪老人散步",
        "project": "0",
    }
    data.update(kw)
    return data


def test_self_report_with_photo_then_verified_once(district, browse):
    d = district
    member = browse(d.member_a)
    page = member.get("/service/records/report")
    assert page.status_code == 200 and 'accept="image/*"' in text(page)
    assert 'enctype="multipart/form-data"' in text(page)
    assert 'name="community"' not in text(page)  # one community: nothing to choose
    response = member.post(
        "/service/records/report",
        data=report_form(photo=(io.BytesIO(jpeg_bytes()), "evidence.jpg")),
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, text(response)
    row = db.session.scalars(select(ServiceRecord)).one()
    assert (row.status, row.source, row.kind, row.minutes, row.community_id) == ("pending", "self", "other", 90, d.a.id)
    assert row.photo and os.path.exists(photos.path_of(row.photo))
    assert response.headers["Location"].endswith(f"/service/records/{row.id}")

    # The photo: to the volunteer and the community's steward only.
    shown = member.get(f"/service/records/{row.id}/photo")
    assert shown.status_code == 200 and shown.headers["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(shown.data)) as image:
        assert image.format == "JPEG"
    steward = browse(d.steward_a)
    assert steward.get(f"/service/records/{row.id}/photo").status_code == 200
    assert browse(d.steward_b).get(f"/service/records/{row.id}/photo").status_code == 404

    # The steward's queue shows it as self-reported, with the phone masked.
    queue = text(steward.get("/service/records"))
    assert "王党员" in queue and d.member_a.phone not in queue and d.member_a.phone[:3] + "****" in queue
    assert 'data-source="self"' in queue and "Verify services (1)" in queue

    response = steward.post(f"/service/records/{row.id}/verify")
    assert response.status_code == 303
    row = fresh(row.id)
    expected = records.points_for(records.policy_for(d.a.id), 90)
    assert row.status == "verified" and row.points == expected and row.verified_by_id == d.steward_a.id
    [entry] = entries(row.id)
    assert entry.amount == expected and row.earn_entry_id == entry.id
    assert balance(d.member_a, d.a) == expected

    # A second verification is refused and writes nothing.
    again = steward.post(f"/service/records/{row.id}/verify")
    assert again.status_code == 400
    assert len(entries(row.id)) == 1 and balance(d.member_a, d.a) == expected
    detail = text(member.get(f"/service/records/{row.id}"))
    assert "Verified" in detail and str(expected) in detail and "周管家" in detail


def test_report_refuses_bad_input_and_non_volunteers(district, browse):
    d = district
    member = browse(d.member_a)
    future = (local_today() + timedelta(days=1)).isoformat()
    too_old = (local_today() - timedelta(days=400)).isoformat()
    for data, message in [
        (report_form(served_on=future), "cannot be in the future"),
        (report_form(served_on=too_old), "more than a year old"),
        (report_form(hours="0.2"), "from 0.5 to 24"),
        (report_form(hours="25"), "from 0.5 to 24"),
        (report_form(hours="NaN"), "from 0.5 to 24"),
        (report_form(hours="abc"), "from 0.5 to 24"),
        (report_form(description=""), "This field is required."),
        (report_form(project=str(sf.project(d.a).id)), "Not a valid choice"),  # not claimed by them
    ]:
        response = member.post("/service/records/report", data=data)
        assert response.status_code == 400, data
        assert message in text(response), (data, text(response)[:2000])
    bad_photo = member.post(
        "/service/records/report",
        data=report_form(photo=(io.BytesIO(b"not a picture"), "x.jpg")),
        content_type="multipart/form-data",
    )
    assert bad_photo.status_code == 400 and "JPEG, PNG or WebP" in text(bad_photo)
    assert db.session.scalar(select(func.count(ServiceRecord.id))) == 0
    assert browse(d.resident_a).get("/service/records/report").status_code == 403
    assert browse(d.steward_a).post("/service/records/report", data=report_form()).status_code == 403


def test_report_on_a_claimed_project_and_a_second_community(district, browse):
    d = district
    factories.grant(d.member_a, "volunteer", community_=d.b)
    project = sf.project(d.b, title="护河")
    from volunteer.service import lists

    lists.claim(d.member_a, project.id)
    member = browse(d.member_a)
    page = text(member.get("/service/records/report"))
    assert 'name="community"' in page and "护河" in page
    wrong = member.post("/service/records/report", data=report_form(community=d.a.id, project=project.id))
    assert wrong.status_code == 400 and "Choose one of this community" in text(wrong)
    ok = member.post("/service/records/report", data=report_form(community=d.b.id, project=project.id))
    assert ok.status_code == 303
    row = db.session.scalars(select(ServiceRecord)).one()
    assert (row.community_id, row.project_id, row.kind) == (d.b.id, project.id, "project")


def test_bulk_verify_skips_other_communities(district, browse):
    d = district
    mine = [sf.record(d.member_a, d.a) for _ in range(2)]
    foreign = sf.record(d.member_b, d.b)
    steward = browse(d.steward_a)
    queue = text(steward.get("/service/records"))
    assert f'value="{mine[0].id}"' in queue and f'value="{foreign.id}"' not in queue
    response = steward.post("/service/records/verify", data={"ids": [mine[0].id, mine[1].id, foreign.id]})
    assert response.status_code == 303
    assert "Verified 2, skipped 1." in text(steward.get(response.headers["Location"]))
    assert [fresh(r.id).status for r in mine] == ["verified", "verified"]
    assert fresh(foreign.id).status == "pending" and entries(foreign.id) == []
    nothing = steward.post("/service/records/verify", data={})
    assert nothing.status_code == 400 and "Tick at least one service" in text(nothing)
    junk = steward.post("/service/records/verify", data={"ids": ["x"]})
    assert junk.status_code == 400
    assert browse(d.member_a).post("/service/records/verify", data={"ids": [mine[0].id]}).status_code == 403


def test_queue_tabs_and_filters(district, browse):
    d = district
    qr = sf.record(d.member_a, d.a, source="qr", kind="activity", description="扫码服务", needs_review=True)
    sf.record(d.member_a, d.a, source="steward", description="代录服务")
    done_ = sf.record(d.member_a, d.a, description="已核服务")
    records.verify(d.steward_a, done_.id)
    steward = browse(d.steward_a)
    pending = text(steward.get("/service/records"))
    assert "扫码服务" in pending and "代录服务" in pending and "已核服务" not in pending
    assert "Needs review" in pending
    review = text(steward.get("/service/records?status=review"))
    assert "扫码服务" in review and "代录服务" not in review
    assert "已核服务" in text(steward.get("/service/records?status=verified"))
    by_source = text(steward.get("/service/records?source=qr"))
    assert "扫码服务" in by_source and "代录服务" not in by_source
    assert "扫码服务" not in text(steward.get("/service/records?kind=other"))
    assert steward.get(f"/service/records?community={d.b.id}").status_code == 404
    assert steward.get("/service/records?status=bogus&source=x&kind=y").status_code == 200
    assert browse(d.member_a).get("/service/records").status_code == 403
    assert qr.id


def test_reject_needs_a_reason(district, browse):
    d = district
    row = sf.record(d.member_a, d.a)
    steward = browse(d.steward_a)
    empty = steward.post(f"/service/records/{row.id}/reject", data={"reason": ""})
    assert empty.status_code == 400 and "This field is required." in text(empty)
    assert fresh(row.id).status == "pending"
    assert steward.post(f"/service/records/{row.id}/reject", data={"reason": "时间对不上"}).status_code == 303
    row = fresh(row.id)
    assert (row.status, row.reject_reason) == ("rejected", "时间对不上")
    assert "时间对不上" in text(browse(d.member_a).get(f"/service/records/{row.id}"))
    assert entries(row.id) == []


def test_unverify_reverses_and_reverify_earns_again(district, browse):
    d = district
    row = sf.record(d.member_a, d.a, minutes=120)
    steward = browse(d.steward_a)
    steward.post(f"/service/records/{row.id}/verify")
    points = fresh(row.id).points
    assert balance(d.member_a, d.a) == points
    assert steward.post(f"/service/records/{row.id}/unverify", data={"reason": ""}).status_code == 400
    assert fresh(row.id).status == "verified"
    assert steward.post(f"/service/records/{row.id}/unverify", data={"reason": "重复登记"}).status_code == 303
    row = fresh(row.id)
    assert (row.status, row.points, row.earn_entry_id) == ("pending", None, None)
    [reversal] = entries(row.id, "reversal")
    assert reversal.amount == -points and balance(d.member_a, d.a) == 0
    assert steward.post(f"/service/records/{row.id}/verify").status_code == 303
    earned = entries(row.id)
    assert len(earned) == 2 and fresh(row.id).earn_entry_id == earned[1].id
    assert sum(e.amount for e in earned) + reversal.amount == points == balance(d.member_a, d.a)


def test_unverify_refused_once_points_are_spent(district, browse):
    d = district
    row = sf.record(d.member_a, d.a)
    records.verify(d.steward_a, row.id)
    account = ledger.account_for(d.member_a.id, d.a.id)
    ledger.spend(account, 1, key="test-spend", from_hold=False)
    db.session.commit()
    steward = browse(d.steward_a)
    response = steward.post(f"/service/records/{row.id}/unverify", data={"reason": "弄错了"})
    assert response.status_code == 400 and "already spent these points" in text(response)
    assert fresh(row.id).status == "verified" and entries(row.id, "reversal") == []


def test_correct_hours_of_a_verified_record(district, browse):
    d = district
    row = sf.record(d.member_a, d.a, minutes=60)
    records.verify(d.steward_a, row.id)
    steward = browse(d.steward_a)
    page = text(steward.get(f"/service/records/{row.id}"))
    assert 'id="correct-reason"' in page and 'id="unverify-reason"' in page and 'value="1"' in page
    same = steward.post(f"/service/records/{row.id}/correct", data={"hours": "1", "reason": "核对"})
    assert same.status_code == 400 and "unchanged" in text(same)
    response = steward.post(f"/service/records/{row.id}/correct", data={"hours": "3", "reason": "实际三小时"})
    assert response.status_code == 303
    row = fresh(row.id)
    new_points = records.points_for(records.policy_for(d.a.id), 180)
    assert (row.minutes, row.status, row.points) == (180, "verified", new_points)
    earned, [reversal] = entries(row.id), entries(row.id, "reversal")
    assert len(earned) == 2 and reversal.reverses_id == earned[0].id and earned[1].amount == new_points
    assert balance(d.member_a, d.a) == new_points
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "service.record_correct")).one()
    assert audit.before == {"minutes": 60} and audit.after["minutes"] == 180 and audit.actor_id == d.steward_a.id


def test_other_community_cannot_see_or_act(district, browse):
    d = district
    row = sf.record(d.member_a, d.a)
    other = browse(d.steward_b)
    assert other.get(f"/service/records/{row.id}").status_code == 404
    assert other.post(f"/service/records/{row.id}/verify").status_code == 404
    assert other.post(f"/service/records/{row.id}/reject", data={"reason": "x"}).status_code == 404
    assert browse(d.member_b).get(f"/service/records/{row.id}").status_code == 404
    correct = browse(d.admin_b).post(f"/service/records/{row.id}/correct", data={"hours": "2", "reason": "x"})
    assert correct.status_code == 404
    owner = browse(d.member_a)
    assert owner.get(f"/service/records/{row.id}").status_code == 200
    assert owner.post(f"/service/records/{row.id}/verify").status_code == 403
    assert fresh(row.id).status == "pending" and entries(row.id) == []
    assert browse(d.admin_a).get(f"/service/records/{row.id}").status_code == 200  # admins steward too


def test_steward_enters_a_service(district, browse):
    d = district
    steward = browse(d.steward_a)
    base = {"served_on": local_today().isoformat(), "hours": "2", "kind": "order", "description": "帮忙修水管"}
    assert steward.get("/service/records/enter").status_code == 200
    unknown = steward.post("/service/records/enter", data=dict(base, phone="13700000000", community=d.a.id))
    assert unknown.status_code == 400 and "No one is registered" in text(unknown)
    outsider = steward.post("/service/records/enter", data=dict(base, phone=d.member_b.phone, community=d.a.id))
    assert outsider.status_code == 400 and "not a volunteer of the community" in text(outsider)
    foreign = steward.post("/service/records/enter", data=dict(base, phone=d.member_a.phone, community=d.b.id))
    assert foreign.status_code == 400
    assert db.session.scalar(select(func.count(ServiceRecord.id))) == 0
    ok = steward.post("/service/records/enter", data=dict(base, phone=d.member_a.phone, community=d.a.id))
    assert ok.status_code == 303
    row = db.session.scalars(select(ServiceRecord)).one()
    assert (row.source, row.kind, row.minutes, row.entered_by_id, row.status) == (
        "steward",
        "order",
        120,
        d.steward_a.id,
        "pending",
    )
    assert browse(d.member_a).get("/service/records/enter").status_code == 403


def test_policy_change_affects_only_the_next_verification(district, browse):
    d = district
    first, second = sf.record(d.member_a, d.a, minutes=90), sf.record(d.member_a, d.a, minutes=90)
    records.verify(d.steward_a, first.id)
    old_points = fresh(first.id).points
    admin = browse(d.admin_a)
    page = text(admin.get(f"/service/communities/{d.a.id}/policy"))
    assert f"1.5 hours → {old_points} points" in page
    both_zero = admin.post(
        f"/service/communities/{d.a.id}/policy", data={"points_per_hour": "0", "points_per_service": "0"}
    )
    assert both_zero.status_code == 400 and "both cannot be 0" in text(both_zero)
    too_many = admin.post(
        f"/service/communities/{d.a.id}/policy", data={"points_per_hour": "1001", "points_per_service": "1"}
    )
    assert too_many.status_code == 400 and db.session.get(ServicePolicy, d.a.id) is None
    saved = admin.post(
        f"/service/communities/{d.a.id}/policy", data={"points_per_hour": "20", "points_per_service": "0"}
    )
    assert saved.status_code == 303
    policy = db.session.get(ServicePolicy, d.a.id)
    assert (policy.points_per_hour, policy.points_per_service) == (20, 0)
    assert "1.5 hours → 30 points" in text(admin.get(f"/service/communities/{d.a.id}/policy"))
    records.verify(d.steward_a, second.id)
    assert fresh(first.id).points == old_points and fresh(second.id).points == 30
    assert balance(d.member_a, d.a) == old_points + 30
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "service.policy")).one()
    assert audit.after == {"points_per_hour": 20, "points_per_service": 0} and audit.community_id == d.a.id
    assert browse(d.admin_b).get(f"/service/communities/{d.a.id}/policy").status_code == 404
    assert browse(d.steward_a).get(f"/service/communities/{d.a.id}/policy").status_code == 403
    assert browse(d.organiser_a).get(f"/service/communities/{d.a.id}/policy").status_code == 200
    assert browse(d.organiser_a).get(f"/service/communities/{d.c.id}/policy").status_code == 404


def test_menu_links_per_role(district, browse):
    d = district
    sf.record(d.member_a, d.a)
    volunteer = text(browse(d.member_a).get("/"))
    assert "My service trail" in volunteer and "Report a service" in volunteer
    steward = text(browse(d.steward_a).get("/"))
    assert "Verify services (1)" in steward and "Tracker" in steward and "Report a service" not in steward
    organiser = text(browse(d.organiser_a).get("/"))
    assert "Tracker" in organiser and "Verify services" not in organiser
    resident = text(browse(d.resident_a).get("/"))
    assert "Verify services" not in resident and "My service trail" not in resident


# --- no one decides on their own service ----------------------------------------------------------


def _own_record(d):
    """steward_a also volunteers in community a and reported a service of their own."""
    factories.grant(d.steward_a, "volunteer", community_=d.a)
    return records.report_own(d.steward_a, d.a.id, day=local_today(), minutes=90, description="我自己的服务")


def test_own_record_shows_no_actions_and_forged_posts_are_refused(district, browse):
    d = district
    row = _own_record(d)
    steward = browse(d.steward_a)
    page = text(steward.get(f"/service/records/{row.id}"))
    assert "我自己的服务" in page and "data-own-record" in page
    for action in ("verify", "reject", "correct", "unverify"):
        assert f"/service/records/{row.id}/{action}" not in page
    for action, data in [
        ("verify", {}),
        ("reject", {"reason": "无证明"}),
        ("correct", {"hours": "3", "reason": "多算"}),
    ]:
        response = steward.post(f"/service/records/{row.id}/{action}", data=data)
        assert response.status_code == 403, action
        assert "cannot decide on your own service" in text(response)
        assert f"/service/records/{row.id}/{action}" not in text(response)  # still no form
    row = fresh(row.id)
    assert (row.status, row.minutes, row.points, row.corrected_at) == ("pending", 90, None, None)
    assert entries(row.id) == [] and balance(d.steward_a, d.a) == 0

    records.verify(d.admin_a, row.id)  # someone else verifies it
    refused = steward.post(f"/service/records/{row.id}/unverify", data={"reason": "复核"})
    assert refused.status_code == 403 and "cannot decide on your own service" in text(refused)
    assert fresh(row.id).status == "verified" and entries(row.id, "reversal") == []


def test_queue_leaves_own_records_unticked_and_bulk_skips_them(district, browse):
    d = district
    own = _own_record(d)
    theirs = sf.record(d.member_a, d.a)
    steward = browse(d.steward_a)
    queue = text(steward.get("/service/records"))
    assert f'value="{theirs.id}"' in queue and f'value="{own.id}"' not in queue
    assert "我自己的服务" in queue and "another steward verifies it" in queue
    assert "Verify services (1)" in queue  # the menu counts what this steward can decide
    assert "Verify services (2)" in text(browse(d.admin_a).get("/"))
    response = steward.post("/service/records/verify", data={"ids": [own.id, theirs.id]})
    assert response.status_code == 303
    message = text(steward.get(response.headers["Location"]))
    assert "Verified 1, skipped 1." in message and "1 of them is your own service" in message
    assert fresh(own.id).status == "pending" and entries(own.id) == []
    assert fresh(theirs.id).status == "verified"


def test_entering_a_service_for_oneself_points_to_reporting_it(district, browse):
    d = district
    factories.grant(d.steward_a, "volunteer", community_=d.a)
    data = {"served_on": local_today().isoformat(), "hours": "2", "kind": "other", "description": "自己录入"}
    response = browse(d.steward_a).post(
        "/service/records/enter", data=dict(data, phone=d.steward_a.phone, community=d.a.id)
    )
    assert response.status_code == 400 and "Report a service" in text(response)
    assert db.session.scalar(select(func.count(ServiceRecord.id))) == 0


# --- checked and entered hours on the record page -------------------------------------------------


def test_record_page_says_who_corrected_checked_hours(district, browse):
    d = district
    row = sf.record(d.member_a, d.a, source="qr", kind="activity", minutes=90, needs_review=True)
    member = browse(d.member_a)
    assert 'data-counts-as="checked"' in text(member.get(f"/service/records/{row.id}"))
    steward = browse(d.steward_a)
    response = steward.post(f"/service/records/{row.id}/correct", data={"hours": "1", "reason": "忘记签退"})
    assert response.status_code == 303
    page = text(member.get(f"/service/records/{row.id}"))
    assert 'data-counts-as="entered"' in page and "Needs review" not in page
    assert "Corrected by 周管家 on " in page and "was 1.5 h checked." in page
    entered = sf.record(d.member_a, d.a, source="self", minutes=90)
    steward.post(f"/service/records/{entered.id}/correct", data={"hours": "1", "reason": "少报"})
    page = text(member.get(f"/service/records/{entered.id}"))
    assert "Corrected by 周管家 on " in page and "h checked" not in page
