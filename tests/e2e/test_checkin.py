"""A volunteer checks in and out on a 375 px phone by the typed code and sees 1112 progress; an old QR link is refused.

Two browsers: the steward's phone shows the activity's rotating code; the volunteer's phone
types it or opens the link its QR code holds. The live server runs in this process, so the
check-in time is moved to the start of the activity with unittest.mock instead of waiting for
real hours to pass, and the codes' clock is moved on (freeze_codes) instead of waiting 90 seconds.

read_qr decodes the QR code from a screenshot of the screen with the app's vendored qr-scanner,
as a phone camera would: the link is in the picture only, not in the page's text.
"""

import base64
import re
import time
from datetime import timedelta
from unittest import mock

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from volunteer.core import qr
from volunteer.core.models import aware
from volunteer.extensions import db
from volunteer.service import checkin_codes as codes
from volunteer.service import records
from volunteer.service.models import ServiceRecord, Signup

from ..service import factories as sf
from .conftest import assert_fits_phone, log_in, phone_context, screenshot

pytestmark = pytest.mark.e2e


@pytest.fixture
def second_phone(browser, live_server):
    """The steward's phone: its own cookies, same size."""
    context = phone_context(browser, live_server)
    yield context.new_page()
    context.close()


def screen_code(page) -> str:
    code = page.locator("[data-code]").inner_text()
    return re.sub(r"\D", "", code)


def fresh(stmt):
    db.session.commit()  # end the test's read snapshot: see what the server wrote
    db.session.expire_all()
    return db.session.scalar(stmt)


def at(moment):
    """The activity service sees `moment` as now (the codes keep the real clock)."""
    return mock.patch("volunteer.service.activities.utcnow", return_value=moment)


def screen_link(page) -> str:
    """The link a phone camera reads from the QR code on the steward's screen."""
    return read_qr(page, page.locator(".screen-qr svg.qr").screenshot())


# The app's own vendored decoder (the desk's camera uses it) reads the picture, in the page's browser.
QR_SCANNER = "/static/vendor/qr-scanner-1.4.2/qr-scanner.umd.min.js"
DECODE = """async (png) => (await QrScanner.scanImage("data:image/png;base64," + png,
                                                      {returnDetailedScanResult: true})).data"""


def read_qr(page, png: bytes) -> str:
    """The text the QR code in a PNG holds, as a phone camera would read it: the link is only in the picture."""
    if not page.evaluate("typeof QrScanner !== 'undefined'"):
        page.add_script_tag(url=QR_SCANNER)
    return page.evaluate(DECODE, base64.b64encode(png).decode())


def test_read_qr_reads_what_qrcode_draws(phone):
    """The reader itself, on the app's own QR settings and longer or mixed texts."""
    phone.goto("/login")
    texts = [
        "http://127.0.0.1:39811/service/checkin?t=WzEyLCJpbiIsNTkxMjM0NTZd.Xv2y8mQ0Z3pL-abcdEFGH_ijkl",
        "HTTPS://EXAMPLE.ORG/ABC 123 $%*+-./:" + "0123456789" * 4,
        "x" * 200,
    ]
    for text in texts:
        assert read_qr(phone, qr.png(text, box_size=5)) == text


def test_volunteer_checks_in_and_out_by_code_and_progress_changes(phone, second_phone, district):
    d = district
    act = sf.activity(d.a, starts_in=timedelta(minutes=-100), length=timedelta(hours=2), title="社区义诊服务")
    signup = sf.signup(act, d.member_a)
    volunteer, steward = phone, second_phone
    errors = []
    steward.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    log_in(volunteer, d.member_a)
    volunteer.goto("/")
    expect(volunteer.locator(".progress-1112")).to_contain_text("0/12")

    log_in(steward, d.steward_a)
    steward.goto(f"/service/activities/{act.id}/screen")
    expect(steward.locator(".screen-qr svg")).to_be_visible()
    assert_fits_phone(steward)
    first = steward.locator("[data-countdown]").inner_text()
    expect(steward.locator("[data-countdown]")).not_to_have_text(first)  # the script is running
    screenshot(steward, "checkin-screen")

    # Check in: typed on the volunteer's phone; the service sees the start of the activity as "now".
    volunteer.goto("/service/checkin")
    expect(volunteer.locator("#code")).to_have_attribute("inputmode", "numeric")
    volunteer.fill("#code", screen_code(steward))
    with mock.patch("volunteer.service.activities.utcnow", return_value=aware(act.starts_at) + timedelta(minutes=2)):
        volunteer.click("form.checkin-form button[type=submit]")
        expect(volunteer).to_have_url(re.compile(rf"/service/activities/{act.id}$"))
    expect(volunteer.locator(".flash-success")).to_contain_text("Checked in at")
    assert_fits_phone(volunteer)
    screenshot(volunteer, "checkin")
    row = fresh(select(Signup).where(Signup.id == signup.id))
    assert row.checkin_method == "code" and row.checked_out_at is None

    # Check out: the steward switches the screen to the check-out code.
    steward.click(".mode-switch a >> nth=1")
    expect(steward.locator(".screen-mode")).to_contain_text("Scan to check out")
    volunteer.click("a.button:has-text('Check out')")
    volunteer.fill("#code", screen_code(steward))
    volunteer.click("form.checkin-form button[type=submit]")
    expect(volunteer.locator(".flash-success")).to_contain_text("hours recorded, waiting for verification")
    assert_fits_phone(volunteer)
    screenshot(volunteer, "after-checkout")
    record = fresh(select(ServiceRecord).where(ServiceRecord.signup_id == signup.id))
    assert (record.status, record.source) == ("pending", "qr") and 95 <= record.minutes <= act.minutes
    expect(steward.locator("[data-checked-in]")).to_have_text("1")  # the screen's count, fetched by the script

    # The steward verifies the record; the volunteer's home page counts it.
    records.verify(d.steward_a, record.id)
    volunteer.goto("/")
    expect(volunteer.locator(".progress-1112")).to_contain_text("1/12")
    assert_fits_phone(volunteer)
    screenshot(volunteer, "progress")
    assert errors == []


def test_an_old_qr_link_is_refused_and_checks_no_one_in(phone, second_phone, live_server, district, monkeypatch):
    d = district
    act = sf.activity(d.a, starts_in=timedelta(minutes=-10), length=timedelta(hours=1), title="楼道清扫")
    signup = sf.signup(act, d.member_a)
    volunteer, steward = phone, second_phone
    log_in(volunteer, d.member_a)
    log_in(steward, d.steward_a)
    steward.goto(f"/service/activities/{act.id}/screen")
    link = screen_link(steward)
    assert link.startswith(f"{live_server}/service/checkin?t=")

    # Opened while fresh: the confirmation page. Then the volunteer waits past the grace period.
    volunteer.goto(link)
    expect(volunteer.locator("main h1")).to_have_text("Check in to this activity?")
    with monkeypatch.context() as later:
        sf.freeze_codes(later, time.time() + codes.GRACE * codes.WINDOW)  # 90 s on: past the grace
        volunteer.click(".confirm form button[type=submit]")
        expect(volunteer.locator(".flash-error")).to_have_text(
            "This code has expired. Scan the code on the screen now."
        )
        expect(volunteer.locator("main h1")).to_have_text("Check in or out")
        assert fresh(select(Signup).where(Signup.id == signup.id)).checked_in_at is None

        # The same old link opened again (a photo of the screen): refused at once, nothing to confirm.
        volunteer.goto(link)
        expect(volunteer.locator(".flash-error")).to_contain_text("This code has expired.")
        expect(volunteer.locator("input[name=t]")).to_have_count(0)
        assert_fits_phone(volunteer)
        screenshot(volunteer, "qr-expired")
        row = fresh(select(Signup).where(Signup.id == signup.id))
        assert row.checked_in_at is None and row.checkin_method is None

    # Back on the real clock, the code the screen shows now checks the volunteer in.
    steward.reload()
    volunteer.goto(screen_link(steward))
    volunteer.click(".confirm form button[type=submit]")
    expect(volunteer.locator(".flash-success")).to_contain_text("Checked in at")
    assert fresh(select(Signup).where(Signup.id == signup.id)).checkin_method == "qr"
