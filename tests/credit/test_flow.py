"""The four-step declaration flow end to end through the pages, as each role sees it."""

import io
import os

from PIL import Image
from sqlalchemy import select

from volunteer.core.audit import AuditEntry
from volunteer.credit import photos
from volunteer.credit.models import Declaration, DeclarationEvent, DeclarationPhoto, Indicator
from volunteer.extensions import db
from volunteer.ledger.services import find_account

from ..conftest import text
from . import factories as cf
from .conftest import count, credit_entries


def gps_jpeg() -> bytes:
    """A real JPEG carrying a camera name, GPS coordinates and an 'rotate 90°' orientation tag."""
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (30.0, 40.0, 0.0), 3: "E", 4: (104.0, 3.0, 0.0)}
    return cf.jpeg_bytes(size=(64, 48), exif=exif)


def the_declaration() -> Declaration:
    return db.session.scalars(select(Declaration)).one()


def test_whole_flow_per_role(district, browse):
    d = district
    admin = browse(d.admin_a)
    response = admin.post(
        f"/credit/communities/{d.a.id}/indicators/new",
        data={
            "name": "垃圾分类示范户",
            "description": "坚持分类投放一个月",
            "points": "15",
            "evidence_required": "y",
            "max_awards": "2",
            "period": "year",
        },
    )
    assert response.status_code == 303
    indicator = db.session.scalars(select(Indicator)).one()
    assert (indicator.points, indicator.evidence_required, indicator.max_awards) == (15, True, 2)

    # 1. The resident declares, with a photo carrying GPS data.
    resident = browse(d.resident_a)
    page = resident.get("/credit/declare")
    assert page.status_code == 200 and "垃圾分类示范户" in text(page) and "15 points" in text(page)
    response = resident.post(
        "/credit/declare",
        data={"indicator": indicator.id, "description": "每天分类投放", "photos": [(io.BytesIO(gps_jpeg()), "a.jpg")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, text(response)
    declaration = the_declaration()
    assert (declaration.state, declaration.compound_id, declaration.user_id) == (
        "submitted",
        d.compound_a.id,
        d.resident_a.id,
    )
    [photo] = declaration.photos
    stored = photos.path_of(photo.filename)
    assert os.path.dirname(stored) == os.path.realpath(photos.upload_dir()) or os.path.exists(stored)
    assert "static" not in stored.split(os.sep)
    with Image.open(stored) as image:
        image.verify()
    with Image.open(stored) as image:
        assert image.format == "JPEG"
        assert not image.getexif() and "exif" not in image.info  # no EXIF, so no GPS
        assert image.size == (48, 64)  # the orientation tag was applied before it was dropped
    with open(stored, "rb") as fh:
        raw = fh.read()
    assert b"TestCam" not in raw and b"Exif" not in raw

    # The photo only through the checking view.
    assert resident.get(f"/credit/photos/{photo.id}").headers["Content-Type"] == "image/jpeg"
    assert browse(d.resident_b).get(f"/credit/photos/{photo.id}").status_code == 404
    assert browse(d.admin_b).get(f"/credit/photos/{photo.id}").status_code == 404

    # 2. The collector returns it for more information; the resident adds and resubmits.
    collector = browse(d.collector_a)
    queue = collector.get("/credit/queue/collect")
    assert queue.status_code == 200 and "张三" in text(queue) and "139****" in text(queue)
    assert "To check (1)" in text(queue)
    response = collector.post(
        f"/credit/declarations/{declaration.id}/review", data={"decision": "return", "note": "请补充投放时间"}
    )
    assert response.status_code == 303
    assert the_declaration().state == "returned"
    page = resident.get(f"/credit/declarations/{declaration.id}")
    assert "请补充投放时间" in text(page) and "Send again" in text(page)
    response = resident.post(
        f"/credit/declarations/{declaration.id}/resubmit",
        data={"description": "每天早上8点分类投放", "photos": [(io.BytesIO(cf.jpeg_bytes(fmt="PNG")), "b.png")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, text(response)
    declaration = the_declaration()
    assert (declaration.state, declaration.description, len(declaration.photos)) == (
        "submitted",
        "每天早上8点分类投放",
        2,
    )
    collector.post(f"/credit/declarations/{declaration.id}/review", data={"decision": "check", "note": "已核实"})
    assert the_declaration().state == "checked"

    # 3. The council assesses with a reason.
    council = browse(d.council_a)
    assert "To assess (1)" in text(council.get("/credit/queue/assess"))
    response = council.post(
        f"/credit/declarations/{declaration.id}/assess", data={"recommendation": "approve", "reason": "邻居证实"}
    )
    assert response.status_code == 303
    assert (the_declaration().state, the_declaration().recommendation) == ("assessed", "approve")

    # 4. The admin approves: one earn_credit entry; a double click changes nothing.
    assert "To decide (1)" in text(admin.get("/credit/queue/approve"))
    url = f"/credit/declarations/{declaration.id}/decide"
    assert admin.post(url, data={"decision": "approve", "reason": ""}).status_code == 303
    again = admin.post(url, data={"decision": "approve", "reason": ""}, follow_redirects=True)
    assert "This declaration has already been approved." in text(again)
    declaration = the_declaration()
    assert (declaration.state, declaration.points_awarded) == ("approved", 15)
    assert len(credit_entries(declaration.id)) == 1
    assert find_account(d.resident_a.id, d.a.id).balance == 15
    assert count(AuditEntry, AuditEntry.action == "credit_declaration.approve") == 1

    # Changing the indicator later leaves the award as it was.
    response = admin.post(
        f"/credit/indicators/{indicator.id}/edit",
        data={"name": "垃圾分类示范户", "description": "", "points": "50", "max_awards": "", "period": "year"},
    )
    assert response.status_code == 303
    assert db.session.get(Indicator, indicator.id).points == 50
    assert the_declaration().points_awarded == 15
    assert find_account(d.resident_a.id, d.a.id).balance == 15

    # The resident sees status, history and reasons.
    page = text(resident.get(f"/credit/declarations/{declaration.id}"))
    for shown in ("Approved", "请补充投放时间", "已核实", "邻居证实", "Returned for more information"):
        assert shown in page
    assert "Approved" in text(resident.get("/credit/mine"))
    steps = [e.to_state for e in db.session.scalars(select(DeclarationEvent).order_by(DeclarationEvent.id))]
    assert steps == ["submitted", "returned", "submitted", "checked", "assessed", "approved"]


def test_reject_appeal_once_then_final(district, browse):
    d = district
    indicator = cf.indicator(d.a, points=8)
    declaration = cf.declaration(d.resident_a, indicator, "assessed")
    admin, resident = browse(d.admin_a), browse(d.resident_a)
    url = f"/credit/declarations/{declaration.id}"
    # A rejection needs a reason.
    response = admin.post(f"{url}/decide", data={"decision": "reject", "reason": ""})
    assert response.status_code == 400 and "Give a reason for the rejection." in text(response)
    assert admin.post(f"{url}/decide", data={"decision": "reject", "reason": "证据不足"}).status_code == 303
    assert "证据不足" in text(resident.get(url)) and "Appeal the rejection" in text(resident.get(url))
    assert resident.post(f"{url}/appeal", data={"reason": "有照片为证"}).status_code == 303
    assert db.session.get(Declaration, declaration.id).state == "appealed"
    assert "To decide (1)" in text(admin.get("/credit/queue/approve"))
    admin.post(f"{url}/decide", data={"decision": "reject", "reason": "仍不足"})
    second = resident.post(f"{url}/appeal", data={"reason": "再申诉"}, follow_redirects=True)
    assert "A declaration can be appealed only once." in text(second)
    final = admin.post(f"{url}/decide", data={"decision": "approve"}, follow_redirects=True)
    assert "the decision is final" in text(final)
    declaration = db.session.get(Declaration, declaration.id)
    assert (declaration.state, declaration.appealed, declaration.points_awarded) == ("rejected", True, None)
    assert credit_entries(declaration.id) == []
    actions = {a for (a,) in db.session.execute(select(AuditEntry.action))}
    assert {"credit_declaration.reject", "credit_declaration.appeal"} <= actions


def test_photo_checks(app, district, browse, monkeypatch):
    d = district
    indicator = cf.indicator(d.a)
    resident = browse(d.resident_a)

    def send(*files):
        data = {"indicator": indicator.id, "description": "做了好事", "photos": [(io.BytesIO(b), n) for b, n in files]}
        return resident.post("/credit/declare", data=data, content_type="multipart/form-data")

    def refused(response, message):
        assert response.status_code == 400 and message in text(response), text(response)[:2000]
        assert count(Declaration) == 0 and count(DeclarationPhoto) == 0
        assert os.listdir(photos.upload_dir()) == before

    before = os.listdir(photos.upload_dir())
    refused(send((b"this is only text, not a picture", "fake.jpg")), "Photos must be JPEG, PNG or WebP pictures.")
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, format="GIF")
    refused(send((gif.getvalue(), "moving.jpg")), "Photos must be JPEG, PNG or WebP pictures.")
    four = [(cf.jpeg_bytes(), f"{i}.jpg") for i in range(4)]
    refused(send(*four), "At most 3 photos.")
    monkeypatch.setitem(app.config, "CREDIT_PHOTO_MAX_BYTES", 2 * 1024 * 1024)
    noise = io.BytesIO()
    Image.frombytes("RGB", (1400, 1400), os.urandom(1400 * 1400 * 3)).save(noise, format="PNG")
    assert len(noise.getvalue()) > 2 * 1024 * 1024
    refused(send((noise.getvalue(), "big.png")), "Each photo may be at most 2 MB.")
    # Evidence required and no photo.
    indicator.evidence_required = True
    db.session.commit()
    refused(send(), "This indicator needs at least one photo as evidence.")
    # Three WebP/PNG/JPEG photos are fine, and big ones are scaled down.
    webp = cf.jpeg_bytes(size=(3000, 1000), fmt="WEBP")
    response = send((webp, "w.webp"), (cf.jpeg_bytes(fmt="PNG"), "p.png"), (cf.jpeg_bytes(), "j.jpg"))
    assert response.status_code == 303
    sizes = sorted((p.width, p.height) for p in db.session.scalars(select(DeclarationPhoto)))
    assert (1600, 533) in sizes and len(sizes) == 3


def test_other_community_sees_nothing(district, browse):
    d = district
    indicator = cf.indicator(d.a, name="东一指标")
    declaration = cf.declaration(d.resident_a, indicator, "assessed", description="东一的申报", photos_=1)
    photo = declaration.photos[0]
    url = f"/credit/declarations/{declaration.id}"
    for outsider in (d.resident_b, d.admin_b, d.steward_a, d.member_a, d.employer_a):
        client = browse(outsider)
        assert client.get(url).status_code == 404, outsider.name
        assert client.get(f"/credit/photos/{photo.id}").status_code == 404
        response = client.post(f"{url}/decide", data={"decision": "approve"})
        assert response.status_code == 404
    assert "东一的申报" not in text(browse(d.admin_b).get("/credit/queue/approve"))
    assert browse(d.admin_b).get(f"/credit/indicators/{indicator.id}/edit").status_code == 404
    assert browse(d.resident_b).get("/credit/indicators").status_code == 403
    # The resident of b cannot declare a's indicator.
    response = browse(d.resident_b).post("/credit/declare", data={"indicator": indicator.id, "description": "x"})
    assert response.status_code == 400 and count(Declaration) == 1
    # Those who may see it do.
    for insider in (d.resident_a, d.collector_a, d.council_a, d.admin_a, d.organiser_a, d.organiser_all):
        assert browse(insider).get(url).status_code == 200, insider.name
    assert db.session.get(Declaration, declaration.id).state == "assessed"
