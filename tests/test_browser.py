"""Browser tests: Playwright drives Debian's Chromium against the app served on localhost."""

from __future__ import annotations

import pytest

from tests.browser_support import MARKS, chromium, demo_server, sign_in

pytestmark = MARKS


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("live")) as live:
        yield live


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")  # a phone
    page = context.new_page()
    yield page
    context.close()


def test_officer_signs_in_on_a_phone_and_switches_to_english(page, live):
    sign_in(page, live.url, "agent@codev.demo")
    assert page.url == f"{live.url}/"
    assert "Kodjo Agbeko" in page.inner_text("h1")
    page.click(".lang-switch button")
    page.wait_for_load_state()
    assert page.inner_text("html").count("Programme officer") >= 1
    # Nothing wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_wrong_password_shows_the_message_and_keeps_the_email(page, live):
    page.goto(f"{live.url}/account/login")
    page.fill("input[name=email]", "agent@codev.demo")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit].button-primary")
    page.wait_for_load_state()
    assert page.input_value("input[name=email]") == "agent@codev.demo"
    assert page.locator(".field .error").count() == 1


def test_sign_out_returns_to_the_login_page(page, live):
    sign_in(page, live.url, "ordonnateur@codev.demo")
    page.click("nav.menu details[data-group=account] summary")  # the account's menu holds the button
    page.click(".menu form button")
    page.wait_for_load_state()
    assert "/account/login" in page.url
    page.goto(f"{live.url}/account/profile")
    assert "/account/login" in page.url
