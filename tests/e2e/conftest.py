"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Every test in this folder is marked `e2e` and runs after the rest of the suite. Screenshots go
to `.var/screenshots/` (git-ignored) for people to look at.
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from ..factories import PASSWORD

HERE = Path(__file__).resolve().parent
SCREENSHOTS = HERE.parents[1] / ".var" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # we run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.hookimpl(trylast=True)  # after pytest-django's own ordering
def pytest_collection_modifyitems(items):
    """Mark this folder's tests `e2e` and move them to the end of the run.

    While the browser is open the ORM needs DJANGO_ALLOW_ASYNC_UNSAFE (see `browser`); running
    these tests last keeps that variable away from every other test and its subprocesses.
    """
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.e2e)
    items.sort(key=lambda item: item.path.is_relative_to(HERE))  # stable: order kept otherwise


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    # Playwright's sync API leaves its event loop running in this thread from here to the end,
    # and the Django ORM (fixtures, the live server's database, the tests' own checks) refuses
    # to run next to one unless told to.
    saved = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if saved is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = saved


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    yield page
    context.close()


def sign_in(page, live_server, user, next_path=""):
    """Log in through the login page as a person does (every persona's password is PASSWORD)."""
    query = f"?next={next_path}" if next_path else ""
    page.goto(f"{live_server.url}/accounts/login/{query}")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def console_errors(page):
    """The text of every console message of type error the page logs during the test."""
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    return errors


@pytest.fixture
def screenshot():
    """`screenshot(page, "home")` saves the whole page to .var/screenshots/home.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page, name):
        path = SCREENSHOTS / f"{name}.png"
        # caret="initial": Playwright's hidden caret is an inline style, which htmx would copy
        # into a swapped element and the Content Security Policy would then refuse.
        page.screenshot(path=path, full_page=True, caret="initial")
        return path

    return save
