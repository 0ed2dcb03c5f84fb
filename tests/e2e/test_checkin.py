"""A volunteer checks in and out by code on a 375 px phone and sees their 1112 progress change.

Two browsers: the steward's phone shows the activity's rotating code; the volunteer's phone
types it. The live server runs in this process, so the check-in time is moved to the start of
the activity with unittest.mock instead of waiting for real hours to pass.
"""

import re
from datetime import timedelta
from unittest import mock

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from volunteer.core.models import aware
from volunteer.extensions import db
from volunteer.service import records
from volunteer.service.models import ServiceRecord, Signup

from ..service import factories as sf
from .conftest import PHONE, assert_fits_phone, log_in, screenshot

pytestmark = pytest.mark.e2e


@pytest.fixture
def second_phone(browser, live_server):
    """The steward's phone: its own cookies, same size."""
    context = browser.new_context(base_url=live_server, viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def screen_code(page) -> str:
    code = page.locator("[data-code]").inner_text()
    return re.sub(r"\D", "", code)


def fresh(stmt):
    db.session.commit()  # end the test's read snapshot: see what the server wrote
    db.session.expire_all()
    return db.session.scalar(stmt)


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
