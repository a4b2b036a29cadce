"""An invitation travels the real way: commit, Redis, a Celery worker, the mail backend."""

import re
import time

from portal.models import Role, User


def wait_for_files(folder, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = sorted(folder.iterdir())
        if files:
            return files
        time.sleep(0.1)
    return []


def test_a_new_member_gets_the_set_password_email_from_the_worker(
    celery_worker, login, client, tenant, admin
):
    response = login(admin).post(
        "/t/contoso/settings/members/", {"email": "new@contoso.example", "role": Role.READER}
    )
    assert response.status_code == 302

    files = wait_for_files(celery_worker.outbox)
    assert files, "no e-mail was sent:\n" + "".join(celery_worker.log[-30:])
    message = files[0].read_text()
    assert "To: new@contoso.example" in message
    assert "Subject: You have been added to Contoso" in message

    link = re.search(r"http://testserver(/accounts/reset/\S+)", message).group(1)
    form = client.get(link, follow=True)
    client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-long-new-passphrase", "new_password2": "a-long-new-passphrase"},
    )
    assert User.objects.get(email="new@contoso.example").check_password("a-long-new-passphrase")
