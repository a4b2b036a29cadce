"""An invitation travels the real way: commit, Redis, a Celery worker, the mail backend."""

import re
import time

from portal.models import Role, User


def wait_for_messages(folder, timeout=30):
    """The messages the worker wrote, once the first is complete (Django's file backend ends
    each message with a line of 79 dashes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        texts = [f.read_text() for f in sorted(folder.iterdir())]
        if texts and texts[0].rstrip().endswith("-" * 79):
            return texts
        time.sleep(0.1)
    return []


def test_a_new_member_gets_the_set_password_email_from_the_worker(
    celery_worker, login, client, tenant, admin
):
    response = login(admin).post(
        "/t/contoso/settings/members/", {"email": "new@contoso.example", "role": Role.READER}
    )
    assert response.status_code == 302

    messages = wait_for_messages(celery_worker.outbox)
    assert messages, "no e-mail was sent:\n" + "".join(celery_worker.log[-30:])
    message = messages[0]
    assert "To: new@contoso.example" in message
    assert "Subject: You are invited to join Contoso" in message

    link = re.search(r"http://testserver(/accounts/reset/\S+)", message).group(1)
    form = client.get(link, follow=True)
    client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-long-new-passphrase", "new_password2": "a-long-new-passphrase"},
    )
    assert User.objects.get(email="new@contoso.example").check_password("a-long-new-passphrase")
