"""The 1112 journey on two 375 px phones, in English and once in Chinese (the app's default).

The volunteer opens the link in the QR code on the steward's screen (read from a screenshot, as a
phone camera would), confirms, and is checked in; later checks out the same way. The steward
verifies the pending record on the records queue page, and the volunteer's home page then shows
1/12 instead of 0/12 and the points earned. Assertions read stable things (headings, flash
messages, the progress and points figures), not the layout of the records pages.
"""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from babel.support import Translations
from playwright.sync_api import expect
from sqlalchemy import select

import volunteer
from volunteer.core.models import aware, local_today
from volunteer.service.models import ServiceRecord, Signup

from ..service import factories as sf
from .conftest import assert_fits_phone, log_in, phone_context, screenshot
from .test_checkin import at, fresh, screen_link

pytestmark = pytest.mark.e2e

CATALOG = Translations.load(str(Path(volunteer.__file__).parent / "translations"), ["zh_CN"])


def zh(msgid: str) -> str:
    text = CATALOG.gettext(msgid)
    assert text != msgid, f"no Chinese for {msgid!r}"
    return text


def like(message: str) -> re.Pattern:
    """A message with its %(name)s placeholders matching any value."""
    return re.compile(".+?".join(re.escape(part) for part in re.split(r"%\(\w+\)[sd]", message)))


class Phone:
    """One phone in one language: `t` gives the text the page shows for a msgid."""

    def __init__(self, browser, live_server, lang: str):
        self.context = phone_context(browser, live_server)
        self.page = self.context.new_page()
        self.lang = lang
        self.errors = []
        self.page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)

    def t(self, msgid: str) -> str:
        return zh(msgid) if self.lang == "zh" else msgid

    def log_in(self, user) -> None:
        log_in(self.page, user, self.lang)


@pytest.fixture
def phones(browser, live_server):
    made = []

    def make(lang: str) -> Phone:
        made.append(Phone(browser, live_server, lang))
        return made[-1]

    yield make
    for phone in made:
        phone.context.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_qr_check_in_and_out_then_steward_verifies_and_progress_changes(phones, live_server, district, lang):
    d = district
    sf.policy(d.a, per_hour=8, per_service=3)  # 2 hours: 3 + 2 * 8 = 19 points
    act = sf.activity(d.a, starts_in=timedelta(minutes=-100), length=timedelta(hours=2), title="社区环境整治")
    signup = sf.signup(act, d.member_a)
    starts, ends = aware(act.starts_at), aware(act.ends_at)
    vol, stw = phones(lang), phones(lang)
    volunteer, steward, t = vol.page, stw.page, vol.t
    year = local_today().year
    points = volunteer.locator(f"section[aria-labelledby='h-points-{d.a.id}'] [data-available]")

    vol.log_in(d.member_a)
    volunteer.goto("/")
    expect(volunteer.locator("#h-1112-progress")).to_have_text(t("My 1112 progress, %(year)d") % {"year": year})
    expect(volunteer.locator(".progress-1112 [data-progress]")).to_have_text("0/12")
    expect(points).to_have_text("0")

    stw.log_in(d.steward_a)
    steward.goto(f"/service/activities/{act.id}/screen")
    expect(steward.locator(".screen-mode")).to_have_text(t("Scan to check in"))

    # Check in: the phone camera opens the QR's link; the volunteer confirms on their phone.
    link_in = screen_link(steward)
    assert link_in.startswith(f"{live_server}/service/checkin?t=")
    volunteer.goto(link_in)
    expect(volunteer.locator("main h1")).to_have_text(t("Check in to this activity?"))
    expect(volunteer.locator(".confirm-title")).to_have_text(act.title)
    assert_fits_phone(volunteer)
    screenshot(volunteer, f"{lang}-checkin-confirm")
    assert fresh(select(Signup).where(Signup.id == signup.id)).checked_in_at is None  # opening is not checking in
    with at(starts - timedelta(minutes=5)):  # early: the hours count from the start
        volunteer.get_by_role("button", name=t("Check in now")).click()
        expect(volunteer).to_have_url(re.compile(rf"/service/activities/{act.id}$"))
    expect(volunteer.locator(".flash-success")).to_have_text(like(t("Checked in at %(time)s.")))
    assert_fits_phone(volunteer)
    screenshot(volunteer, f"{lang}-checkin")
    row = fresh(select(Signup).where(Signup.id == signup.id))
    assert row.checkin_method == "qr" and row.checked_out_at is None
    expect(steward.locator("[data-checked-in]")).to_have_text("1")  # the screen's count, fetched by its script

    # Check out: the steward switches the screen; its QR now holds a check-out link.
    steward.get_by_role("link", name=t("Check-out")).click()
    expect(steward.locator(".screen-mode")).to_have_text(t("Scan to check out"))
    link_out = screen_link(steward)
    assert link_out.startswith(f"{live_server}/service/checkin?t=") and link_out != link_in
    volunteer.goto(link_out)
    expect(volunteer.locator("main h1")).to_have_text(t("Check out of this activity?"))
    with at(ends + timedelta(minutes=10)):  # late: the hours stop at the end
        volunteer.get_by_role("button", name=t("Check out now")).click()
        expect(volunteer.locator(".flash-success")).to_have_text(
            t("Checked out: %(hours)s hours recorded, waiting for verification.") % {"hours": "2.0"}
        )
    record = fresh(select(ServiceRecord).where(ServiceRecord.signup_id == signup.id))
    assert (record.status, record.source, record.minutes) == ("pending", "qr", 120)

    # The steward verifies it on the records queue page.
    steward.goto("/service/records")
    expect(steward.locator("main h1")).to_have_text(t("Services to verify"))
    steward.locator(f"input[name=ids][value='{record.id}']").check()
    steward.get_by_role("button", name=t("Verify selected")).click()
    expect(steward.locator(".flash-success")).to_have_text(
        t("Verified %(done)d, skipped %(skipped)d.") % {"done": 1, "skipped": 0}
    )
    expect(steward.locator(f"input[name=ids][value='{record.id}']")).to_have_count(0)  # gone from the queue
    screenshot(steward, f"{lang}-records-verified")
    record = fresh(select(ServiceRecord).where(ServiceRecord.id == record.id))
    assert (record.status, record.points, record.verified_by_id) == ("verified", 19, d.steward_a.id)

    # The volunteer's home page counts it, with the points.
    volunteer.goto("/")
    expect(volunteer.locator(".progress-1112 [data-progress]")).to_have_text("1/12")
    expect(points).to_have_text("19")
    assert_fits_phone(volunteer)
    screenshot(volunteer, f"{lang}-progress")
    assert vol.errors == [] and stw.errors == []
