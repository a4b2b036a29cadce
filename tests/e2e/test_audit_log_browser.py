"""The audit log in a browser: times in the viewer's time zone, UTC on hover, no CSP errors."""

from portal.audit import Actor, audit_record
from portal.models import Membership

from .conftest import sign_in


def test_audit_log_shows_local_times_and_words(
    browser, live_server, tenant, admin, reader, screenshot
):
    audit_record(
        tenant=tenant,
        actor=Actor.system(admin.email),
        verb="member.change_role",
        target=Membership.objects.get(user=reader),
        data={"email": reader.email, "from": "reader", "to": "billing_admin"},
    )
    for width in (1366, 390):
        context = browser.new_context(
            viewport={"width": width, "height": 800}, timezone_id="Asia/Tokyo", locale="en-GB"
        )
        page = context.new_page()
        errors = []
        page.on("console", lambda m, errors=errors: m.type == "error" and errors.append(m.text))
        sign_in(page, live_server, admin, f"/t/{tenant.slug}/settings/audit-log/")
        page.wait_for_url(f"**/t/{tenant.slug}/settings/audit-log/")
        time = page.locator("time[data-local-time]").first
        assert time.get_attribute("title").endswith(" UTC")
        page.wait_for_function(
            "() => !document.querySelector('time[data-local-time]').textContent.endsWith(' UTC')"
        )
        assert "GMT+9" in time.text_content() or "JST" in time.text_content()
        assert (
            page.locator('td[data-label="Action"]', has_text="Member's role changed").count() == 1
        )
        assert page.get_by_text("Reader → Billing admin").count() == 1
        assert page.get_by_role("link", name="Download CSV").count() == 1
        screenshot(page, f"audit-log-{width}")
        assert errors == []
        context.close()
