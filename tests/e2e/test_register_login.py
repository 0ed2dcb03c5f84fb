"""A resident registers, logs out and logs in again on a 375 px phone, in a real browser."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from volunteer.accounts.models import User
from volunteer.extensions import db

from .conftest import assert_fits_phone, screenshot

pytestmark = pytest.mark.e2e


def _fresh(stmt):
    db.session.commit()  # end the test's read snapshot: see what the server wrote
    return db.session.scalar(stmt)


def _user_count() -> int:
    return _fresh(select(func.count(User.id)))


def test_register_log_out_and_log_in_on_a_phone(phone, live_server, district):
    page = phone
    page.goto("/register")
    assert_fits_phone(page)
    page.fill("#name", "林小满")
    page.fill("#phone", "138 0013 8000")
    page.select_option("#building", str(district.building_a.id))
    page.fill("#password", "spring2026")
    page.fill("#confirm", "spring2026")
    screenshot(page, "register")
    page.click("form.stack button[type=submit]")

    expect(page).to_have_url(f"{live_server}/")
    expect(page.locator("h1")).to_contain_text("林小满")
    expect(page.locator("main")).to_contain_text("幸福小区")  # the building's compound
    assert_fits_phone(page)
    screenshot(page, "home")
    user = _fresh(select(User).where(User.phone == "13800138000"))
    assert user is not None and user.name == "林小满"

    page.click("header form.logout button")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator("header form.logout")).to_have_count(0)
    assert_fits_phone(page)

    page.fill("#phone", "13800138000")
    page.fill("#password", "spring2026")
    screenshot(page, "login")
    page.click("form.stack button[type=submit]")
    expect(page).to_have_url(f"{live_server}/")
    expect(page.locator("h1")).to_contain_text("林小满")


def test_register_with_bad_input_shows_each_error_and_creates_nothing(phone, district):
    page = phone
    page.goto("/register")
    page.click("header form.lang button")  # English, so the messages read as their msgids
    expect(page.locator("html")).to_have_attribute("lang", "en")
    before = _user_count()

    page.fill("#name", "")
    page.fill("#phone", "12345")
    page.select_option("#building", str(district.building_b.id))
    page.fill("#password", "spring2026")
    page.fill("#confirm", "autumn2026")
    page.click("form.stack button[type=submit]")

    expect(page.locator("[role=alert]")).to_contain_text("Please correct the fields marked below.")
    expect(page.locator("#name-error")).to_have_text("This field is required.")
    expect(page.locator("#phone-error")).to_have_text("Enter an 11-digit mainland mobile number, such as 13812345678.")
    expect(page.locator("#confirm-error")).to_have_text("The two passwords do not match.")
    for field in ("name", "phone", "confirm"):
        expect(page.locator(f"#{field}")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#phone")).to_have_value("12345")  # what was typed is kept to correct
    expect(page.locator("#building")).to_have_value(str(district.building_b.id))
    assert_fits_phone(page)
    screenshot(page, "register-errors")
    assert _user_count() == before
