"""Publishers' API credentials: client secrets (made, shown once, stored hashed, expiring,
revoked), `POST /api/oauth2/token` as an OAuth client sends it, its refusals and limits,
the publisher_credentials command, and the warnings before a secret expires."""

import datetime
import io
import json
from urllib.parse import urlencode

import pytest
from django.core import mail, signing
from django.core.management import CommandError, call_command
from django.utils import timezone

from portal.audit import Actor
from portal.models import AuditEvent
from publishers import services
from publishers.api import FORM
from publishers.credentials import publisher_for_token
from publishers.models import PublisherSecret
from tests.factories import PublisherFactory

pytestmark = pytest.mark.django_db
OPS = Actor.system("ops")
TOKEN_URL = "/api/oauth2/token"
DAY = datetime.timedelta(days=1)


@pytest.fixture
def publisher():
    return PublisherFactory(name="Quillfeather Labs", slug="quillfeather")


@pytest.fixture
def credentials(publisher):
    _, secret = services.publisher_secret_create(publisher=publisher, actor=OPS)
    return {"client_id": str(publisher.client_id), "client_secret": secret}


def ask(client, url=TOKEN_URL, **fields):
    """A token request as OAuth clients send it: form-encoded."""
    data = {"grant_type": "client_credentials", "resource": "ignored", **fields}
    return client.post(url, urlencode(data), content_type=FORM, REMOTE_ADDR="192.0.2.10")


def test_a_secret_is_shown_once_and_kept_only_as_its_hash(publisher):
    _record, secret = services.publisher_secret_create(publisher=publisher, actor=OPS)
    assert secret.startswith("pss_") and len(secret) > 40
    stored = PublisherSecret.objects.get()
    assert secret not in (stored.secret_hash, stored.hint) and stored.hint == secret[-4:]
    assert stored.expires_at - stored.created_at == datetime.timedelta(days=365)
    event = AuditEvent.objects.get(verb="publisher.secret_create")
    assert secret not in json.dumps(event.data) and event.data["secret"] == f"…{secret[-4:]}"


def test_a_client_gets_a_bearer_token_for_an_hour_that_speaks_for_its_publisher(
    client, publisher, credentials
):
    response = ask(client, **credentials)
    assert response.status_code == 200
    body = response.json()
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 3600)
    assert publisher_for_token(body["access_token"]) == publisher
    assert response["Cache-Control"].startswith("max-age=0")
    assert PublisherSecret.objects.get().last_used_at is not None
    # With the trailing slash too, and with `scope` instead of `resource`.
    again = ask(client, TOKEN_URL + "/", scope="x", **credentials)
    assert again.status_code == 200
    multipart = client.post(TOKEN_URL, {"grant_type": "client_credentials", **credentials})
    assert multipart.status_code == 200


def test_every_wrong_credential_gets_the_same_401(client, publisher, credentials):
    other = PublisherFactory()
    _, others_secret = services.publisher_secret_create(publisher=other, actor=OPS)
    wrong = [
        {**credentials, "client_secret": credentials["client_secret"] + "x"},
        {**credentials, "client_secret": others_secret},
        {**credentials, "client_id": str(other.client_id)},
        {**credentials, "client_id": "not-a-uuid"},
        {"client_secret": credentials["client_secret"]},
        {"client_id": credentials["client_id"]},
    ]
    answers = {json.dumps(ask(client, **fields).json()) for fields in wrong}
    assert answers == {
        '{"error": {"code": "invalid_client", "message": "The client id and secret were not '
        'accepted."}}'
    }
    assert ask(client, **wrong[0]).status_code == 401


def test_an_expired_or_revoked_secret_and_its_tokens_stop_working(client, publisher, credentials):
    token = ask(client, **credentials).json()["access_token"]
    secret = PublisherSecret.objects.get()
    services.publisher_secret_revoke(secret=secret, actor=OPS)
    assert publisher_for_token(token) is None
    assert ask(client, **credentials).status_code == 401
    record, fresh = services.publisher_secret_create(
        publisher=publisher, actor=OPS, lifetime=datetime.timedelta(days=2)
    )
    token = ask(client, **{**credentials, "client_secret": fresh}).json()["access_token"]
    assert publisher_for_token(token) == publisher
    assert publisher_for_token(token, now=record.expires_at + DAY) is None
    PublisherSecret.objects.filter(pk=record.pk).update(
        created_at=timezone.now() - 3 * DAY, expires_at=timezone.now() - DAY
    )
    assert ask(client, **{**credentials, "client_secret": fresh}).status_code == 401


def test_a_token_is_good_for_an_hour_and_a_forged_one_for_nothing(
    client, publisher, credentials, monkeypatch
):
    token = ask(client, **credentials).json()["access_token"]
    assert publisher_for_token(token[:-2] + "xx") is None
    assert publisher_for_token("not a token") is None
    assert publisher_for_token(signing.dumps({"s": 1})) is None  # another salt
    now = signing.TimestampSigner().timestamp
    monkeypatch.setattr(
        signing.TimestampSigner,
        "timestamp",
        lambda self: signing.b62_encode(signing.b62_decode(now()) - 3601),
    )
    old = ask(client, **credentials).json()["access_token"]
    monkeypatch.undo()
    assert publisher_for_token(old) is None


def test_what_is_not_a_client_credentials_request_is_refused_in_json(client, credentials):
    assert client.get(TOKEN_URL).status_code == 405
    assert client.get(TOKEN_URL).json()["error"]["code"] == "MethodNotAllowed"
    as_json = client.post(TOKEN_URL, credentials, content_type="application/json")
    assert as_json.status_code == 400 and as_json.json()["error"]["code"] == "invalid_request"
    password = ask(client, **credentials, grant_type="password")
    assert password.status_code == 400
    assert password.json()["error"]["code"] == "unsupported_grant_type"


def test_wrong_guesses_are_limited_per_client_id_however_spelled_and_requests_per_ip(
    client, credentials, settings
):
    settings.PUBLISHER_TOKEN_RATE_LIMITS = (6, 2, 60)  # per IP, failures per client id, s
    wrong = {**credentials, "client_secret": "pss_wrong"}
    assert [ask(client, **credentials).status_code for _ in range(2)] == [200, 200]  # no limit
    assert [ask(client, **wrong).status_code for _ in range(2)] == [401, 401]
    spelled = credentials["client_id"].upper().replace("-", "")
    limited = ask(client, **{**wrong, "client_id": spelled})
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert limited.json()["error"]["code"] == "too_many_requests"
    # The right secret still gets its token: anyone may know a client id, and guessing
    # wrong must not lock its publisher out.
    assert ask(client, **{**credentials, "client_id": spelled}).status_code == 200
    assert ask(client, **credentials).status_code == 429  # the IP's 7th request this minute


def test_a_large_or_unreadable_token_request_is_refused_in_json(client):
    big = client.post(TOKEN_URL, "a=" + "x" * 20_000, content_type=FORM)
    assert big.status_code == 413 and big.json()["error"]["code"] == "invalid_request"
    broken = client.post(TOKEN_URL, "x", content_type="multipart/form-data")
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "invalid_request"


def test_the_command_creates_lists_and_revokes(publisher):
    out = io.StringIO()
    call_command("publisher_credentials", "create", "quillfeather", "--json", stdout=out)
    printed = json.loads(out.getvalue())
    assert list(printed) == ["client_id", "client_secret", "expires"]
    assert printed["client_id"] == str(publisher.client_id)
    assert services.token_issue(
        client_id=printed["client_id"], client_secret=printed["client_secret"]
    )
    out = io.StringIO()
    call_command("publisher_credentials", "create", "quillfeather", "--expires", "30", stdout=out)
    assert "Keep the secret now" in out.getvalue()
    out = io.StringIO()
    call_command("publisher_credentials", "list", "quillfeather", stdout=out)
    listing = out.getvalue()
    assert "active, 364 days left" in listing and "active, 29 days left" in listing
    secret = PublisherSecret.objects.order_by("created_at").first()
    call_command("publisher_credentials", "revoke", "quillfeather", str(secret.uuid), stdout=out)
    secret.refresh_from_db()
    assert secret.revoked_at is not None
    assert not services.token_issue(
        client_id=printed["client_id"], client_secret=printed["client_secret"]
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["create", "nobody"], "No publisher 'nobody': give its slug."),
        (["create", "quillfeather", "--expires", "0"], "--expires must be between 1 and 3650"),
        (["revoke", "quillfeather", "not-an-id"], "quillfeather has no secret 'not-an-id'"),
    ],
)
def test_the_command_says_what_is_wrong_in_one_line(publisher, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("publisher_credentials", *args)


def test_contacts_hear_30_7_and_1_days_before_a_secret_expires_once_each(
    publisher, django_capture_on_commit_callbacks
):
    publisher.contact_emails = ["ops@quillfeather.example"]
    publisher.save()
    made = timezone.now()
    record, _ = services.publisher_secret_create(
        publisher=publisher, actor=OPS, lifetime=datetime.timedelta(days=40), now=made
    )

    def warn(days_before):
        with django_capture_on_commit_callbacks(execute=True):
            return services.publisher_secret_warnings(now=record.expires_at - days_before * DAY)

    assert warn(31) == 0
    assert warn(30) == 1 and warn(30) == 0 and warn(29) == 0
    [first] = mail.outbox
    assert first.to == ["ops@quillfeather.example"]
    assert first.subject == f"Your marketplace API client secret …{record.hint} expires in 30 days"
    assert str(publisher.client_id) in first.body and "401" in first.body
    assert warn(3) == 1 and warn(2) == 0  # 7 days' point, caught up late: once
    assert warn(1) == 1 and warn(0.5) == 0
    assert mail.outbox[-1].subject.endswith("expires tomorrow")
    assert len(mail.outbox) == 3


def test_a_warning_that_could_not_be_sent_goes_the_next_day(publisher, settings, caplog):
    record, _ = services.publisher_secret_create(
        publisher=publisher, actor=OPS, lifetime=datetime.timedelta(days=40)
    )
    settings.MAILERS = {"default": {"BACKEND": "tests.subscriptions.test_notices.DownBackend"}}
    assert services.publisher_secret_warnings(now=record.expires_at - 30 * DAY) == 0
    assert "was not sent" in caplog.text
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    assert services.publisher_secret_warnings(now=record.expires_at - 29 * DAY) == 1
    assert len(mail.outbox) == 1


def test_a_revoked_secret_gets_no_warning_and_the_job_is_on_beats_schedule(
    publisher, settings, django_capture_on_commit_callbacks
):
    record, _ = services.publisher_secret_create(
        publisher=publisher, actor=OPS, lifetime=datetime.timedelta(days=10)
    )
    services.publisher_secret_revoke(secret=record, actor=OPS)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.publisher_secret_warnings(now=record.expires_at - 5 * DAY) == 0
    assert mail.outbox == []
    entry = settings.CELERY_BEAT_SCHEDULE["publisher-secret-warnings"]
    assert entry["task"] == "publishers.tasks.warn_expiring_secrets"


def test_the_admin_makes_a_secret_shown_once_and_revokes_it(login, publisher):
    import re

    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    operator = UserFactory(email="ops@operator.example", is_staff=True, is_superuser=True)
    client = login(operator)
    made = client.post(
        "/admin/publishers/publisher/",
        {"action": "create_api_secret", "_selected_action": [publisher.pk]},
    )
    assert made.status_code == 200 and "no-store" in made["Cache-Control"]
    assert "messages" not in made.cookies  # the secret is in this page only
    [secret] = re.findall(r'value="(pss_[^"]+)"', made.content.decode())
    assert services.token_issue(client_id=str(publisher.client_id), client_secret=secret)
    page = client.get(f"/admin/publishers/publisher/{publisher.pk}/change/").content.decode()
    assert secret not in page and str(publisher.client_id) in page
    record = PublisherSecret.objects.get()
    # Staff who may only look at publishers can neither make nor revoke credentials.
    viewer = UserFactory(email="viewer@operator.example", is_staff=True)
    viewer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_publisher", "view_publishersecret"])
    )
    as_viewer = login(viewer)
    for url, action in (
        ("/admin/publishers/publisher/", "create_api_secret"),
        ("/admin/publishers/publisher/", "revoke_api_secrets"),
        ("/admin/publishers/publishersecret/", "revoke"),
    ):
        selected = publisher.pk if "secret" not in url.split("/")[-2] else record.pk
        as_viewer.post(url, {"action": action, "_selected_action": [selected]})
    assert PublisherSecret.objects.count() == 1
    assert PublisherSecret.objects.get().revoked_at is None
    client.post(
        "/admin/publishers/publishersecret/",
        {"action": "revoke", "_selected_action": [record.pk]},
    )
    assert not services.token_issue(client_id=str(publisher.client_id), client_secret=secret)
