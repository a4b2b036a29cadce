"""A failed submit: error summary linked to the fields, required marks, announced errors."""

import re

from portal.models import Role


def test_members_add_with_a_bad_address_shows_the_summary(login, tenant, admin):
    response = login(admin).post(
        f"/t/{tenant.slug}/settings/members/", {"email": "not-an-address", "role": Role.READER}
    )
    assert response.status_code == 422
    html = response.content.decode()
    summary = re.search(r'<div class="error-summary"[^>]*>(.*?)</div>', html, re.S)
    assert summary, "no error summary"
    assert 'tabindex="-1"' in summary.group(0) and 'role="alert"' in summary.group(0)
    assert 'href="#id_email"' in summary.group(1)
    assert html.index("error-summary") < html.index('id="id_email"')
    field = re.search(r"<input[^>]*id=\"id_email\"[^>]*>", html).group(0)
    assert 'aria-invalid="true"' in field and 'aria-describedby="id_email_error"' in field
    assert re.search(r'id="id_email_error" aria-live="polite"><p class="field-error">', html)
    assert re.search(r'<label for="id_email">E-mail address <span class="required">', html)
    assert "required" in field


def test_no_summary_before_a_submit(login, tenant, admin):
    html = login(admin).get(f"/t/{tenant.slug}/settings/members/").content.decode()
    assert "error-summary" not in html
    assert "(required)" in html


def test_billing_profile_form_lists_each_missing_field(login, tenant, admin):
    response = login(admin).post(f"/t/{tenant.slug}/billing/accounts/profiles/new/", {"name": ""})
    html = response.content.decode()
    assert response.status_code in (200, 422)
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S).group(0)
    for field in ("id_name", "id_contact_name", "id_address_line1", "id_city"):
        assert f'href="#{field}"' in summary
    assert html.count('class="error-summary"') == 1
    assert 'aria-invalid="true"' in re.search(r'<input[^>]*id="id_name"[^>]*>', html).group(0)
