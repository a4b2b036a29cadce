import re

from django.forms.models import model_to_dict
from playwright.sync_api import expect

from billing.models import BillingProfile, BillingProfileRole, PaymentMethod, ProfileRole

from ..factories import BillingProfileFactory
from .conftest import sign_in

# Chromium logs every 4xx answer as a console error. A refused form answers 422 on purpose
# (htmx swaps a 422 like a 200), and Stripe answers 402 to a declined card: each test that
# meets one expects exactly that line and nothing else.
FORM_REFUSED = (
    "Failed to load resource: the server responded with a status of 422 (Unprocessable Content)"
)
CARD_DECLINED = (
    "Failed to load resource: the server responded with a status of 402 (Payment Required)"
)


def wait_for_htmx(page):
    """No htmx request in flight or swap settling. A screenshot must wait for it: Playwright
    hides the caret with a style attribute while it shoots, and htmx copies the attributes
    of a swapped element, which the Content Security Policy (style-src 'self') refuses."""
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)


def fill_profile_form(
    page, *, name, method, phone, street, city, state, postal_code, country, invoice_emails
):
    """Fill the new-profile form as a person would, contact Dana Ledger."""
    page.get_by_label("Profile name").fill(name)
    page.get_by_label(method).check()
    page.get_by_label("Contact name").fill("Dana Ledger")
    page.get_by_label("Contact e-mail").fill("dana@contoso.example")
    page.get_by_label("Phone").fill(phone)
    page.get_by_label("Address line 1").fill(street)
    page.get_by_label("City").fill(city)
    if state:
        page.get_by_label("State or province").fill(state)
    page.get_by_label("Postal code").fill(postal_code)
    page.get_by_label("Country").select_option(label=country)
    page.get_by_label("Invoice e-mail recipients").fill(invoice_emails)


def type_card(page, number, exp_month, exp_year, cvc, postal_code):
    """Type into localstripe's fake Card Element, a plain input per part."""
    card = page.locator("#card-element")
    for placeholder, value in [
        ("number", number),
        ("exp_month", exp_month),
        ("exp_year", exp_year),
        ("cvc", cvc),
        ("postal_code", postal_code),
    ]:
        card.get_by_placeholder(placeholder, exact=True).fill(value)


def test_billing_admin_creates_a_profile_and_adds_a_card(
    live_server, page, console_errors, screenshot, tenant, billing_admin
):
    sign_in(page, live_server, billing_admin, "/t/contoso/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Billing profiles").click()
    expect(page.get_by_role("heading", name="Billing profiles", level=1)).to_be_visible()
    expect(page.get_by_text("No billing profiles yet.")).to_be_visible()
    page.get_by_role("link", name="Add a billing profile").click()

    expect(page.get_by_role("heading", name="New billing profile", level=1)).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/t/contoso/billing/accounts/profiles/new/")
    fill_profile_form(
        page,
        name="Contoso US",
        method="Card (you add it next)",
        phone="+1 425 555 0199",
        street="1 Microsoft Way",
        city="Redmond",
        state="WA",
        postal_code="98052",
        country="United States",
        invoice_emails="ap@contoso.example, Dana@contoso.example",
    )
    with page.expect_response(re.compile(r"/profiles/new/$")) as checked:
        page.get_by_label("PO number").click()  # leaving the field checks it
    assert checked.value.request.headers.get("hx-request") == "true"
    wait_for_htmx(page)
    expect(page.locator(".field-error")).to_have_count(0)
    page.evaluate("window.scrollTo(0, 0)")  # else the sticky top bar is drawn mid-page
    screenshot(page, "billing-profile-form")
    page.get_by_role("button", name="Create profile").click()

    profile = BillingProfile.objects.get(tenant=tenant)
    card_url = f"{live_server.url}/t/contoso/billing/accounts/profiles/{profile.uuid}/payment/card/"
    expect(page).to_have_url(card_url)
    expect(page.get_by_text("Billing profile Contoso US was created.")).to_be_visible()
    expect(page.get_by_role("heading", name="Add a card")).to_be_visible()
    expect(page.locator("#card-element input")).to_have_count(5)  # Stripe.js ran
    type_card(page, "4242424242424242", "12", "30", "123", "98052")
    screenshot(page, "billing-card-form")
    page.get_by_role("button", name="Save card").click()

    expect(page).to_have_url(
        f"{live_server.url}/t/contoso/billing/accounts/profiles/{profile.uuid}/payment/"
    )
    expect(page.get_by_text("Visa ending 4242 is now this profile's card.")).to_be_visible()
    card = page.locator("section.panel").filter(has=page.get_by_role("heading", name="Card"))
    expect(card.get_by_text("Visa ending 4242", exact=True)).to_be_visible()
    expect(card.get_by_text("Expires 12/2030")).to_be_visible()
    expect(card.get_by_text("In use")).to_be_visible()
    screenshot(page, "billing-payment-card")

    profile.refresh_from_db()
    assert profile.payment_method == PaymentMethod.CARD
    assert profile.card_last4 == "4242"
    assert profile.card_brand == "visa"
    assert (profile.card_exp_month, profile.card_exp_year) == (12, 2030)
    assert profile.stripe_payment_method_id.startswith("pm_")
    assert profile.stripe_customer_id.startswith("cus_")
    assert (profile.country, profile.currency, profile.state) == ("US", "USD", "WA")
    assert profile.invoice_emails == ["ap@contoso.example", "dana@contoso.example"]
    assert console_errors == []


def test_declined_card_shows_stripes_message_and_changes_nothing(
    live_server, page, console_errors, screenshot, tenant, billing_admin
):
    profile = BillingProfileFactory(tenant=tenant, name="Contoso wire")
    payment_url = f"/t/contoso/billing/accounts/profiles/{profile.uuid}/payment/"
    sign_in(page, live_server, billing_admin, payment_url)
    page.get_by_role("link", name="Add a card").click()
    expect(page).to_have_url(f"{live_server.url}{payment_url}card/")
    expect(page.locator("#card-element input")).to_have_count(5)
    before = model_to_dict(BillingProfile.objects.get(pk=profile.pk))  # with its Stripe customer

    type_card(page, "4000000000000002", "12", "30", "123", "98052")
    page.get_by_role("button", name="Save card").click()

    expect(page.locator("#card-errors")).to_have_text("Your card was declined.")
    expect(page.get_by_role("button", name="Save card")).to_be_enabled()  # ready to try again
    expect(page).to_have_url(f"{live_server.url}{payment_url}card/")
    screenshot(page, "billing-card-declined")

    profile.refresh_from_db()
    assert model_to_dict(profile) == before
    assert profile.payment_method == PaymentMethod.CHECK_WIRE
    assert (profile.stripe_payment_method_id, profile.card_last4) == ("", "")
    assert console_errors == [CARD_DECLINED]


def test_field_errors_show_as_you_type(
    live_server, page, console_errors, screenshot, tenant, billing_admin
):
    sign_in(page, live_server, billing_admin, "/t/contoso/billing/accounts/profiles/new/")
    expect(page.get_by_role("heading", name="New billing profile", level=1)).to_be_visible()

    # A marker on the window survives only if the page is not loaded again.
    page.evaluate("window.e2eSameDocument = true")
    email = page.get_by_label("Contact e-mail")
    email.fill("dana-at-contoso")
    with page.expect_response(re.compile(r"/profiles/new/$")) as checked:
        email.blur()
    assert checked.value.request.headers.get("hx-request") == "true"
    email_field = page.locator(".field").filter(has=page.get_by_label("Contact e-mail"))
    expect(email_field.locator(".field-error")).to_have_text("Enter a valid email address.")
    expect(page.get_by_label("Contact e-mail")).to_have_value("dana-at-contoso")
    assert page.evaluate("window.e2eSameDocument") is True
    assert not BillingProfile.objects.exists()

    fill_profile_form(
        page,
        name="Contoso GmbH",
        method="Check or wire transfer",
        phone="+49 30 123456",
        street="Unter den Linden 1",
        city="Berlin",
        state="",
        postal_code="10117",
        country="Germany",
        invoice_emails="ap@contoso.example",
    )
    page.get_by_label("VAT number").fill("123")  # named for Germany as soon as it is chosen
    page.get_by_role("button", name="Create profile").click()

    # Back from the server, the field goes by Germany's name for it.
    tax_id_field = page.locator(".field").filter(has=page.get_by_label("VAT number"))
    expect(tax_id_field.locator(".field-error")).to_have_text(
        "A VAT number in Germany looks like DE136695976."
    )
    expect(page.locator(".field-error")).to_have_count(1)  # the e-mail was corrected
    expect(page.get_by_label("Country")).to_have_value("DE")
    expect(page.get_by_label("VAT number")).to_have_value("123")
    screenshot(page, "billing-profile-errors")
    assert not BillingProfile.objects.exists()
    assert console_errors == [FORM_REFUSED]


def test_switch_to_check_wire_and_grant_an_invoice_manager(
    live_server, page, console_errors, screenshot, tenant, billing_admin, member
):
    BillingProfileFactory(tenant=tenant, name="Contoso AP")
    profile = BillingProfileFactory(tenant=tenant, name="Contoso wire", po_number="PO-7731")
    sign_in(page, live_server, billing_admin, "/t/contoso/billing/accounts/")
    expect(page.get_by_role("heading", name="Billing profiles", level=1)).to_be_visible()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2)
    row = rows.filter(has_text="Contoso wire")
    expect(row).to_contain_text("Check or wire transfer")
    expect(row).to_contain_text("USD")
    expect(row).to_contain_text("Redmond, United States")
    screenshot(page, "billing-profile-list")
    row.get_by_role("link", name="Contoso wire").click()

    expect(page.get_by_role("heading", name="Contoso wire", level=1)).to_be_visible()
    expect(page.get_by_text("PO-7731")).to_be_visible()
    expect(page.get_by_text("Your role: owner")).to_be_visible()
    screenshot(page, "billing-profile-overview")
    tabs = page.get_by_role("navigation", name="Billing profile")
    tabs.get_by_role("link", name="Payment method").click()

    expect(tabs.get_by_role("link", name="Payment method")).to_have_attribute(
        "aria-current", "page"
    )
    card = page.locator("section.panel").filter(
        has=page.get_by_role("heading", name="Card", exact=True)
    )
    expect(card.get_by_text("No card on file.")).to_be_visible()
    expect(card.get_by_role("link", name="Add a card")).to_be_visible()
    wire = page.locator("section.panel").filter(
        has=page.get_by_role("heading", name="Check or wire transfer")
    )
    expect(wire.get_by_text("In use")).to_be_visible()
    for text in [
        "Invoices are due 30 days after issue. Quote the invoice number with every payment.",
        "Example Bank plc",
        "GB33BUKB20201555555555",
        "BUKBGB22",
        "55555555",
        "(ABA routing 021000021)",
        "Marketplace Operator Ltd., Lockbox 1234, 1 Example Plaza, New York, NY 10001, US",
    ]:
        expect(wire.get_by_text(text, exact=True)).to_be_visible()
    screenshot(page, "billing-payment-check-wire")

    tabs.get_by_role("link", name="Permissions").click()
    inherited = page.locator("table tbody tr").filter(has_text=billing_admin.email)
    expect(inherited).to_contain_text("Through tenant role: Billing admin")
    expect(inherited.get_by_role("link", name="Revoke")).to_have_count(0)
    page.get_by_label("Person").select_option(label=f"{member.get_full_name()} ({member.email})")
    page.get_by_label("Role").select_option(label="Invoice manager")
    page.get_by_role("button", name="Grant role").click()

    expect(page.get_by_text(f"{member.email} is now Invoice manager.")).to_be_visible()
    granted = page.locator("table tbody tr").filter(has_text=member.email)
    expect(granted).to_contain_text(member.get_full_name())
    expect(granted).to_contain_text("Invoice manager")
    expect(granted.get_by_role("link", name="Revoke")).to_be_visible()
    screenshot(page, "billing-permissions")

    grant = BillingProfileRole.objects.get(profile=profile)
    assert (grant.user, grant.role) == (member, ProfileRole.INVOICE_MANAGER)
    assert console_errors == []
