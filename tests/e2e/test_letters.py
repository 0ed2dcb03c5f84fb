"""Letters in a real browser: an admin generates a round and watches the progress bar; an employer's
contact reads its staff report on a phone; anyone checks a letter's number on the public page.
"""

import pytest
from playwright.sync_api import expect

from volunteer.extensions import db
from volunteer.letters import documents

from ..letters.factories import letter_for, served, this_quarter
from .conftest import PHONE, assert_fits_phone, log_in, screenshot

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 900}


def _page(browser, live_server, viewport):
    context = browser.new_context(base_url=live_server, viewport=viewport, locale="zh-CN")
    context.set_default_timeout(10_000)
    return context, context.new_page()


def test_an_admin_generates_the_letters_and_watches_the_progress_bar(browser, live_server, live_app, district):
    d = district
    served(d.member_a, d.a, 3)
    period = this_quarter()
    context, page = _page(browser, live_server, DESKTOP)
    try:
        log_in(page, d.admin_a)
        page.goto(f"/letters/?community={d.a.id}&period={period.key}")
        page.click("main form[action$='/letters/batches'] button[type=submit]")
        bar = page.locator("#batch-progress")
        expect(bar).to_have_attribute("value", "0")  # nothing runs until the worker takes the task
        with live_app.app_context():
            assert live_app.extensions["letters.queue"].run_pending() >= 1  # the worker: batch, then email
        expect(page.locator("[data-field=done]")).to_have_text("1", timeout=15_000)  # the script polled
        expect(page.locator(".batch-letters")).to_be_visible()
        screenshot(page, "letters-batch-done")
        page.click(".batch-letters")
        db.session.commit()
        letter = documents.live_letter(d.a.id, d.member_a.id, period)
        expect(page.locator("a.letter-number")).to_have_text(letter.number)
        screenshot(page, "letters-admin-list")
    finally:
        context.close()


def test_an_employer_reads_its_staff_report_on_a_phone(browser, live_server, district):
    d = district
    served(d.member_a, d.a, 4)
    served(d.member_b, d.b, 2)
    letter = letter_for(d.member_a, d.a, d.admin_a)
    context = browser.new_context(
        base_url=live_server, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2, locale="zh-CN"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        log_in(page, d.employer_a)
        page.goto(f"/letters/employer?period={this_quarter().key}")
        row = page.locator(f"tr[data-member='{d.member_a.id}']")
        expect(row.locator("[data-services]")).to_have_text("4")
        expect(row.locator("a.letter-number")).to_have_text(letter.number)
        expect(page.locator(f"tr[data-member='{d.member_b.id}']")).to_have_count(0)  # another unit's staff
        assert "赵党员" not in page.content()
        assert_fits_phone(page)
        screenshot(page, "letters-employer-phone")
        with page.expect_download() as download:
            page.click("a.letter-number")
        assert download.value.suggested_filename.endswith(f"{letter.number}.pdf")
    finally:
        context.close()


def test_anyone_checks_a_letter_by_its_number_on_a_phone(phone, district):
    d = district
    served(d.member_a, d.a, 2)
    letter = letter_for(d.member_a, d.a, d.admin_a)
    phone.goto(f"/v/{letter.number}")
    expect(phone.locator("main")).to_contain_text("王党员")
    expect(phone.locator("main")).to_contain_text(letter.number)
    expect(phone.locator(".verify-card")).to_have_attribute("data-state", "valid")
    assert d.member_a.phone not in phone.content()
    assert_fits_phone(phone)
    screenshot(phone, "letters-verify-phone")
    documents.revoke(letter, d.admin_a, "重新出具")
    phone.goto("/verify")
    phone.fill("input[name=number]", letter.number.lower().replace("-", " "))
    phone.locator("main form button[type=submit]").click()
    expect(phone.locator(".verify-card")).to_have_attribute("data-state", "revoked")
    screenshot(phone, "letters-verify-revoked-phone")
