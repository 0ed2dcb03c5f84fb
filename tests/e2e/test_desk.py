"""The exchange desk in a real browser: a tablet redeems a voucher by its typed code, and by its QR code
read from a camera (Chromium's fake video capture playing a picture of the voucher's QR code).

Both hand over through the page's script (fetch with the CSRF token), so the live server runs with
CSRF on, as in production. Every request must stay on the live server: the scanner is vendored.
"""

import io
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from volunteer.core import qr
from volunteer.exchange import vouchers
from volunteer.exchange.models import Item, Voucher
from volunteer.extensions import db
from volunteer.ledger.models import PointsAccount

from ..exchange import factories as xf
from .conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PHONE, assert_fits_phone, log_in, screenshot

pytestmark = pytest.mark.e2e

TABLET = {"width": 800, "height": 1280}
FRAME = (640, 480)  # the fake camera's picture: even sides for 4:2:0 colour


@pytest.fixture
def counter(district):
    """Community a's rice, a resident with 50 points and a live voucher for it."""
    d = district
    d.rice = xf.item(d.a, units=3, price=20, name="东北大米5斤")
    xf.fund(d.resident_a, d.a, 50)
    d.voucher = vouchers.reserve(d.resident_a, d.rice.id)
    return d


def _context(browser, live_server, viewport, **kw):
    context = browser.new_context(base_url=live_server, viewport=viewport, has_touch=True, locale="zh-CN", **kw)
    context.set_default_timeout(10_000)
    return context


def _watch(page, live_server) -> dict:
    """Console errors and any request that leaves the live server (a CDN would show up here)."""
    seen = {"errors": [], "foreign": []}

    def _console(msg):
        # A refusal is a 409 or 404 on purpose, and Chromium logs each one (and the missing favicon).
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            seen["errors"].append(msg.text)

    page.on("console", _console)
    page.on("pageerror", lambda err: seen["errors"].append(str(err)))

    def _request(request):
        if not request.url.startswith((live_server, "blob:", "data:")):
            seen["foreign"].append(request.url)

    page.on("request", _request)
    return seen


def fresh_state(d):
    db.session.commit()  # end the test's read snapshot: see what the server wrote
    db.session.expire_all()
    voucher = db.session.get(Voucher, d.voucher.id)
    account = db.session.scalar(
        select(PointsAccount).where(PointsAccount.user_id == d.resident_a.id, PointsAccount.community_id == d.a.id)
    )
    item = db.session.get(Item, d.rice.id)
    return voucher.state, account.balance, account.held, item.stock, item.reserved, item.issued


def _expect_voucher(page, d, reason="ok"):
    answer = page.locator(f".desk-result .desk-answer[data-reason='{reason}']")
    expect(answer).to_be_visible()
    expect(answer).to_contain_text("张三")
    expect(answer).to_contain_text(d.resident_a.masked_phone)
    expect(answer).to_contain_text("东北大米5斤")
    return answer


def _hand_over(page, d):
    page.click(".desk-result .desk-handover-button")
    done = page.locator(".desk-result .desk-answer.desk-done")
    expect(done).to_contain_text("Handed over")
    expect(done.locator("form.desk-undo")).to_be_visible()
    assert fresh_state(d) == ("redeemed", 30, 0, 2, 0, 1)  # held points spent, reserved unit issued
    expect(page.locator("[data-stat=handed_over]")).to_have_text("1")  # today's numbers follow
    expect(page.locator("[data-stat=waiting]")).to_have_text("0")


def test_a_tablet_redeems_a_voucher_by_its_typed_code(browser, live_server, counter):
    d = counter
    context = _context(browser, live_server, TABLET)
    page = context.new_page()
    seen = _watch(page, live_server)
    log_in(page, d.steward_a)
    page.goto("/exchange/desk")
    expect(page.locator(".desk-camera-start")).to_be_visible()  # the script and the scanner loaded
    code = d.voucher.code
    page.fill("#value", f"{code[:4].lower()}-{code[4:]}")  # as a person types it
    page.click("form.desk-manual button[type=submit]")
    _expect_voucher(page, d)
    expect(page).to_have_url(f"{live_server}/exchange/desk")  # answered in place, by fetch
    assert fresh_state(d)[0] == "reserved"  # a scan alone changes nothing
    _hand_over(page, d)
    screenshot(page, "desk-tablet-handed-over")

    # The same code again: a refusal that says why, and no Hand over button.
    page.click(".desk-result .desk-next")
    page.fill("#value", code)
    page.press("#value", "Enter")
    refused = page.locator(".desk-result .desk-answer[data-reason='already_redeemed']")
    expect(refused).to_contain_text("Already handed over at")
    expect(refused).to_contain_text("by 周管家")
    expect(page.locator(".desk-handover-button")).to_have_count(0)
    assert fresh_state(d) == ("redeemed", 30, 0, 2, 0, 1)
    assert seen == {"errors": [], "foreign": []}
    context.close()


def test_the_desk_fits_a_phone(phone, live_server, counter):
    d = counter
    log_in(phone, d.steward_a)
    phone.goto("/exchange/desk")
    phone.fill("#value", "ZZZZ-ZZZZ")
    phone.click("form.desk-manual button[type=submit]")
    expect(phone.locator(".desk-answer[data-reason='invalid']")).to_be_visible()
    phone.click(".desk-result .desk-next")
    phone.fill("#value", d.voucher.code)
    phone.click("form.desk-manual button[type=submit]")
    _expect_voucher(phone, d)
    assert_fits_phone(phone)
    screenshot(phone, "desk-phone")
    _hand_over(phone, d)
    assert_fits_phone(phone)
    phone.goto("/exchange/desk/report")
    expect(phone.locator("h1")).to_contain_text("Desk report")
    expect(phone.locator("table.desk-handovers")).to_contain_text("张三")
    assert_fits_phone(phone)
    screenshot(phone, "desk-report-phone")
    assert PHONE["width"] == 375


def _fake_camera_file(data: str, path: Path) -> Path:
    """A few frames of the QR code centred on white, as a .y4m video Chromium plays as its camera."""
    code = Image.open(io.BytesIO(qr.png(data, box_size=8))).convert("RGB")
    side = min(FRAME[1] - 40, code.width)
    code = code.resize((side, side), Image.NEAREST)
    frame = Image.new("RGB", FRAME, "white")
    frame.paste(code, ((FRAME[0] - side) // 2, (FRAME[1] - side) // 2))
    frame.save(path.with_suffix(".png"))
    y, cb, cr = frame.convert("YCbCr").split()
    half = (FRAME[0] // 2, FRAME[1] // 2)
    planes = y.tobytes() + cb.resize(half, Image.BILINEAR).tobytes() + cr.resize(half, Image.BILINEAR).tobytes()
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{FRAME[0]} H{FRAME[1]} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(3):
            out.write(b"FRAME\n" + planes)
    return path


def test_a_tablet_scans_the_voucher_qr_code_with_the_camera(browser, live_server, counter):
    d = counter
    ARTIFACTS.mkdir(exist_ok=True)
    video = _fake_camera_file(vouchers.qr_token(d.voucher), ARTIFACTS / "desk-camera.y4m")
    camera_browser = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    try:
        context = _context(camera_browser, live_server, TABLET, permissions=["camera"])
        page = context.new_page()
        seen = _watch(page, live_server)
        log_in(page, d.steward_a)
        page.goto("/exchange/desk")
        page.click(".desk-camera-start")
        answer = page.locator(".desk-result .desk-answer[data-reason='ok']")
        expect(answer).to_be_visible(timeout=20_000)
        _expect_voucher(page, d)
        expect(page.locator(".desk-camera-status")).to_contain_text("Scanning paused")  # one answer at a time
        assert fresh_state(d)[0] == "reserved"  # no automatic hand-over
        _hand_over(page, d)
        screenshot(page, "desk-camera-handed-over")

        # Next voucher: the camera runs again; the same code, still in front of it, is now refused.
        page.click(".desk-result .desk-next")
        expect(page.locator(".desk-video video")).to_be_visible()
        expect(page.locator(".desk-camera-status")).to_contain_text("Hold the voucher QR code")
        page.wait_for_function("document.querySelector('.desk-video video').videoWidth > 0")
        screenshot(page, "desk-camera-scanning")
        refused = page.locator(".desk-result .desk-answer[data-reason='already_redeemed']")
        expect(refused).to_contain_text("by 周管家", timeout=15_000)
        assert fresh_state(d) == ("redeemed", 30, 0, 2, 0, 1)
        assert seen == {"errors": [], "foreign": []}
        context.close()
    finally:
        camera_browser.close()
