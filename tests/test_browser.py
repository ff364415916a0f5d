"""Browser tests: Playwright drives Debian's Chromium against the app served on localhost."""

from __future__ import annotations

import os
import threading

import pytest
from werkzeug.serving import make_server

from codev import create_app
from codev.demo import DEMO_PASSWORD
from codev.extensions import db

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make system-deps)"),
]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("live")
    app = create_app({
        "ENV_NAME": "test", "SECRET_KEY": "browser-test-key", "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'live.sqlite3'}", "UPLOAD_FOLDER": str(folder / "up"),
    })
    with app.app_context():
        db.create_all()
        from codev.demo import seed_demo

        seed_demo()
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")  # a phone
    page = context.new_page()
    yield page
    context.close()


def sign_in(page, base, email):
    page.goto(f"{base}/account/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit].button-primary")
    page.wait_for_load_state()


def test_officer_signs_in_on_a_phone_and_switches_to_english(page, live_server):
    sign_in(page, live_server, "agent@codev.demo")
    assert page.url == f"{live_server}/"
    assert "Kodjo Agbeko" in page.inner_text("h1")
    page.click(".lang-switch button")
    page.wait_for_load_state()
    assert page.inner_text("html").count("Programme officer") >= 1
    # Nothing wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_wrong_password_shows_the_message_and_keeps_the_email(page, live_server):
    page.goto(f"{live_server}/account/login")
    page.fill("input[name=email]", "agent@codev.demo")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit].button-primary")
    page.wait_for_load_state()
    assert page.input_value("input[name=email]") == "agent@codev.demo"
    assert page.locator(".field .error").count() == 1


def test_sign_out_returns_to_the_login_page(page, live_server):
    sign_in(page, live_server, "ordonnateur@codev.demo")
    page.click(".menu form button")
    page.wait_for_load_state()
    assert "/account/login" in page.url
    page.goto(f"{live_server}/account/profile")
    assert "/account/login" in page.url
