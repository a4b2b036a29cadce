from playwright.sync_api import expect

from publishers.models import Category, PricingModel, Term

from ..factories import AppFactory, PlanFactory, PublisherFactory
from .conftest import sign_in


def test_a_reader_searches_the_marketplace_and_opens_an_app(
    live_server, page, console_errors, screenshot, tenant, reader
):
    quill = PublisherFactory(name="Quillfeather Labs", legal_name="Quillfeather Labs Ltd.")
    ledger = AppFactory(
        name="Ledger Pro",
        publisher=quill,
        category=Category.FINANCE,
        summary="Close the books in days, not weeks.",
    )
    PlanFactory(
        app=ledger,
        name="Team",
        term=Term.MONTHLY,
        min_quantity=5,
        max_quantity=200,
        prices={"USD": 900},
    )
    PlanFactory(app=ledger, name="Team, yearly", term=Term.ANNUAL, prices={"USD": 9000})
    for name in ["Chat Hub", "Roster", "Brightdesk"]:
        app = AppFactory(name=name, pricing_model=PricingModel.FLAT_RATE)
        PlanFactory(app=app, term=Term.ANNUAL, prices={"USD": 24000})

    sign_in(page, live_server, reader, "/t/contoso/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Marketplace").click()

    expect(page.get_by_role("heading", name="Marketplace", level=1)).to_be_visible()
    expect(page.get_by_text("4 apps")).to_be_visible()
    expect(page.get_by_text("from $240.00 per year, unlimited licenses").first).to_be_visible()
    screenshot(page, "marketplace")

    # Lowest price first: the per-seat app's $9.00 a month before the $240.00 a year ones.
    page.get_by_label("Sort by").select_option(label="Lowest price")
    status = page.get_by_role("status")  # a live region: screen readers hear the count
    expect(status).to_have_text("4 apps, lowest price first")
    expect(page.locator(".app-card .app-name").first).to_have_text("Ledger Pro")
    page.get_by_label("Sort by").select_option(label="Name")
    expect(page.locator(".app-card .app-name").first).to_have_text("Brightdesk")

    page.get_by_label("Search").fill("quillfeather")
    expect(status).to_have_text("1 app")  # typed: htmx, no reload
    expect(page).to_have_url(
        f"{live_server.url}/t/contoso/marketplace/?q=quillfeather&category=&pricing=&sort=name"
    )
    card = page.get_by_role("link", name="Ledger Pro")
    expect(card).to_contain_text("from $9.00 per license per month")
    card.click()

    expect(page.get_by_role("heading", name="Ledger Pro", level=1)).to_be_visible()
    expect(page.get_by_text("Quillfeather Labs Ltd.")).to_be_visible()
    plans = page.locator("table.plans tbody tr")
    expect(plans).to_have_count(2)
    expect(plans.first).to_contain_text("5\N{EN DASH}200")
    expect(plans.nth(1)).to_contain_text("$90.00 per license per year")
    screenshot(page, "app_detail")
    assert not [e for e in console_errors if "Refused to" in e or "Content Security" in e]
