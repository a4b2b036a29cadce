"""The new-profile form in Chromium: it starts in the tenant's country, and choosing a
country billed in another currency shows (and announces) a warning before submitting."""

import pytest
from playwright.sync_api import expect

from billing.models import BillingProfile

from .conftest import sign_in

NEW = "/t/contoso/billing/accounts/profiles/new/"


@pytest.mark.parametrize("width", (1366, 390))
def test_choosing_a_country_of_another_currency_warns_before_submitting(
    live_server, browser, screenshot, tenant, billing_admin, width
):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    try:
        sign_in(page, live_server, billing_admin, NEW)
        expect(page.get_by_role("heading", name="New billing profile", level=1)).to_be_visible()
        country = page.get_by_label("Country")
        expect(country).to_have_value("US")  # Contoso's country
        expect(page.get_by_label("EIN")).to_be_visible()
        warning = page.locator("#country-currency-warning")
        expect(warning).to_have_attribute("aria-live", "polite")
        expect(warning).to_have_text("")

        with page.expect_response(lambda response: response.url.endswith(NEW)):
            country.select_option(label="Germany")
        expect(warning).to_have_text("Profiles in Germany are billed in EUR, not USD.")
        expect(warning.locator(".message-warning")).to_be_visible()
        expect(page.get_by_label("VAT number")).to_be_visible()
        expect(page.get_by_label("Country")).to_have_value("DE")  # after htmx checked it
        screenshot(page, f"billing-profile-currency-warning-{width}")

        page.get_by_label("Country").select_option(label="Puerto Rico")  # USD again
        expect(warning).to_have_text("")
        expect(page.get_by_label("EIN")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert not BillingProfile.objects.exists()
        assert errors == []
    finally:
        context.close()
