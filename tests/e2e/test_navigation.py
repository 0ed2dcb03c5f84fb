"""The menu on a phone: a party member's long menu folds behind "More"; on a wide screen every link shows."""

import pytest
from playwright.sync_api import expect

from .conftest import assert_fits_phone, log_in, screenshot

pytestmark = pytest.mark.e2e


def visible_links(page) -> int:
    return page.locator(".mainnav li:not(.nav-more-item) a:visible").count()


def test_a_long_menu_folds_on_a_phone_and_unfolds_on_demand(phone, district):
    page = phone
    log_in(page, district.member_a)
    every = page.locator(".mainnav li:not(.nav-more-item) a").count()
    assert every > 8  # a party member's menu: services, points, exchange, ...
    more = page.locator(".mainnav .nav-more")
    expect(more).to_be_visible()
    expect(more).to_have_attribute("aria-expanded", "false")
    assert visible_links(page) == 4
    assert_fits_phone(page)
    screenshot(page, "menu-folded")

    more.click()
    expect(more).to_have_attribute("aria-expanded", "true")
    assert visible_links(page) == every
    more.click()
    assert visible_links(page) == 4

    # The current page stays in sight even when it is one of the folded links.
    page.goto("/service/trail")
    expect(page.locator('.mainnav a[aria-current="page"]')).to_be_visible()
    assert visible_links(page) == 5


def test_every_link_shows_on_a_wide_screen(phone, district):
    page = phone
    log_in(page, district.member_a)
    page.set_viewport_size({"width": 1024, "height": 768})
    expect(page.locator(".mainnav .nav-more")).to_be_hidden()
    assert visible_links(page) == page.locator(".mainnav li:not(.nav-more-item) a").count()


def test_a_short_menu_has_no_more_button(phone, district):
    page = phone
    log_in(page, district.employer_a)
    assert page.locator(".mainnav .nav-more").count() == 0
