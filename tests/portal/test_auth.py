import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from portal.client_ip import client_ip
from portal.models import User
from tests.factories import PASSWORD

LOGIN = "/accounts/login/"


def sign_in(client, email, password, ip="198.51.100.7"):
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=ip)


def test_login_lands_on_the_tenant_and_rotates_the_session_key(client, tenant, admin):
    session = client.session  # an anonymous session, as a visitor has before signing in
    session["seen"] = True
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = anonymous_key = session.session_key
    response = sign_in(client, "Admin@Contoso.example", PASSWORD)
    assert response.status_code == 302
    assert client.session.session_key != anonymous_key
    assert client.get(response["Location"], follow=True).redirect_chain[-1][0] == "/t/contoso/"


def test_a_wrong_password_is_a_clear_error(client, tenant, admin):
    response = sign_in(client, admin.email, "wrong")
    assert response.status_code == 200
    assert b"That e-mail address and password do not match an account." in response.content


def test_each_request_pushes_the_idle_expiry_and_an_idle_session_ends(login, tenant, admin):
    client = login(admin)
    key = client.session.session_key
    Session.objects.filter(pk=key).update(expire_date=timezone.now() + timedelta(minutes=1))
    assert client.get("/t/contoso/").status_code == 200
    pushed = Session.objects.get(pk=key).expire_date
    assert pushed > timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)
    # Idle past the expiry: the same cookie no longer signs anyone in.
    Session.objects.filter(pk=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    cache.clear()  # the cached copy would have expired with the session; the row decides
    assert client.get("/t/contoso/")["Location"].startswith("/accounts/login/")


def test_login_is_throttled_per_user_and_ip_with_a_cool_off(client, tenant, admin, reader):
    for i in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, admin.email.upper() if i % 2 else admin.email, "wrong")
    locked = sign_in(client, admin.email, PASSWORD)
    assert locked.status_code == 429
    assert b"Too many sign-in attempts" in locked.content
    # The same user from another address, and another user from the same address, go on.
    assert sign_in(Client(), admin.email, PASSWORD, ip="192.0.2.44").status_code == 302
    assert sign_in(Client(), reader.email, PASSWORD).status_code == 302
    # The lock lifts by itself once the cool-off has passed.
    assert settings.AXES_COOLOFF_TIME.total_seconds() > 0
    attempt = AccessAttempt.objects.get(username=admin.email, ip_address="198.51.100.7")
    attempt.attempt_time -= settings.AXES_COOLOFF_TIME
    attempt.save()
    assert sign_in(Client(), admin.email, PASSWORD).status_code == 302


def test_password_reset_by_email(client, tenant, admin):
    response = client.post("/accounts/password-reset/", {"email": admin.email})
    assert response["Location"] == "/accounts/password-reset/sent/"
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/\s]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "another-long-phrase", "new_password2": "another-long-phrase"},
    )
    assert sign_in(Client(), admin.email, "another-long-phrase").status_code == 302


def test_logout_takes_post(login, tenant, admin):
    client = login(admin)
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/t/contoso/").status_code == 302


@pytest.mark.parametrize("path", ["/accounts/login/", "/t/contoso/"])
def test_content_security_policy_forbids_inline_and_eval(login, tenant, admin, path):
    csp = login(admin).get(path)["Content-Security-Policy"]
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert "'self'" in script_src
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp


def test_pages_carry_no_inline_script_or_style(login, tenant, admin):
    html = login(admin).get("/t/contoso/settings/members/").content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert " style=" not in html
    assert "<style" not in html
    assert '"allowEval": false' in html
    assert 'hx-headers=\'{"X-CSRFToken": "' in html


def test_password_reset_answers_alike_for_unknown_addresses(client, db):
    response = client.post("/accounts/password-reset/", {"email": "nobody@example.com"})
    assert response["Location"] == "/accounts/password-reset/sent/"
    assert mail.outbox == []


def test_someone_invited_who_lost_the_email_can_ask_again(client, db):
    invited = User.objects.create_user("invited@example.com")  # never chose a password
    client.post("/accounts/password-reset/", {"email": "Invited@Example.com"})
    assert [m.to for m in mail.outbox] == [[invited.email]]


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_login_never_redirects_off_site(client, tenant, admin, target):
    response = client.post(
        f"{LOGIN}?next={target}", {"username": admin.email, "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_emails_are_unique_whatever_their_case(db):
    User.objects.create_user("Bob@Example.com")
    assert User.objects.get().email == "bob@example.com"
    with pytest.raises(IntegrityError), transaction.atomic():
        User(email="BOB@example.com").save()


def test_behind_proxies_the_throttle_and_audit_see_the_callers_address(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5")
    assert client_ip(request) == "10.0.0.2"  # no trusted proxy: the header is the caller's claim
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.5"  # what our proxy saw, not the forged first hop
