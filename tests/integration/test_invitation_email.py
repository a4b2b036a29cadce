"""An invitation travels the real way: commit, Redis, a Celery worker, the mail backend."""

import email
import email.policy
import re
import time

from django.db import connection

from portal.models import Role, User

SEPARATOR = "-" * 79  # Django's file backend ends each message with it


def wait_for_messages(folder, timeout=30):
    """The messages the worker wrote, parsed, once the first is complete."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        texts = [f.read_text() for f in sorted(folder.iterdir())]
        if texts and texts[0].rstrip().endswith(SEPARATOR):
            return [
                email.message_from_string(
                    text.rstrip().removesuffix(SEPARATOR), policy=email.policy.default
                )
                for text in texts
            ]
        time.sleep(0.1)
    return []


def test_a_new_member_gets_the_set_password_email_from_the_worker(
    celery_worker, login, client, tenant, admin
):
    # A user id as a busy database has (and as the whole suite leaves): its link is longer
    # than a mail line, so the body comes quoted-printable, folded with soft line breaks.
    with connection.cursor() as cursor:
        table = User._meta.db_table
        cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), 123456)", [table])

    response = login(admin).post(
        "/t/contoso/settings/members/", {"email": "new@contoso.example", "role": Role.READER}
    )
    assert response.status_code == 302

    messages = wait_for_messages(celery_worker.outbox)
    assert messages, "no e-mail was sent:\n" + "".join(celery_worker.log[-30:])
    message = messages[0]
    assert message["To"] == "new@contoso.example"
    assert message["Subject"] == "You are invited to join Contoso"

    link = re.search(r"http://testserver(/accounts/reset/\S+)", message.get_content()).group(1)
    form = client.get(link, follow=True)
    answer = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-long-new-passphrase", "new_password2": "a-long-new-passphrase"},
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert User.objects.get(email="new@contoso.example").check_password("a-long-new-passphrase")
