"""Signed-in pages stay out of shared and back-button caches."""


def test_a_signed_in_page_is_private_and_not_stored(login, admin, tenant):
    response = login(admin).get(f"/t/{tenant.slug}/")
    assert response.status_code == 200
    assert set(response["Cache-Control"].split(", ")) == {"private", "no-store"}


def test_a_billing_page_is_private_and_not_stored(login, admin, tenant):
    response = login(admin).get(f"/t/{tenant.slug}/billing/accounts/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
