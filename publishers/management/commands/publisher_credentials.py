import datetime
import json
import uuid

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from portal.audit import Actor
from publishers import services
from publishers.models import Publisher, PublisherSecret

ACTOR = Actor.system("publisher_credentials command")


class Command(BaseCommand):
    help = (
        "A publisher's API credentials: its client id and client secrets. `create` makes a "
        "secret (shown once; the others keep working, for rotation), `list` shows its "
        "secrets with their state and days left, `revoke` stops one at once (with the "
        "tokens it gave). PUBLISHER is the publisher's slug."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="make a new client secret, shown once")
        create.add_argument("publisher", metavar="PUBLISHER")
        create.add_argument(
            "--expires", type=int, default=365, metavar="DAYS", help="days it lasts (365)"
        )
        create.add_argument(
            "--json", action="store_true", help='print {"client_id", "client_secret", "expires"}'
        )
        listing = actions.add_parser("list", help="the publisher's secrets")
        listing.add_argument("publisher", metavar="PUBLISHER")
        revoke = actions.add_parser("revoke", help="revoke a secret (its id from list)")
        revoke.add_argument("publisher", metavar="PUBLISHER")
        revoke.add_argument("secret", metavar="SECRET", help="the secret's id, as list shows it")

    def handle(self, *args, action, publisher, **options):
        found = Publisher.objects.filter(slug=publisher).first()
        if found is None:
            raise CommandError(f"No publisher {publisher!r}: give its slug.")
        getattr(self, f"_{action}")(found, **options)

    def _create(self, publisher, *, expires, json: bool = False, **options):
        if not 1 <= expires <= 3650:
            raise CommandError("--expires must be between 1 and 3650 days.")
        secret, plaintext = services.publisher_secret_create(
            publisher=publisher, actor=ACTOR, lifetime=datetime.timedelta(days=expires)
        )
        expires_at = secret.expires_at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if json:
            self.stdout.write(_json(publisher.client_id, plaintext, expires_at))
            return
        self.stdout.write(
            f"client id:     {publisher.client_id}\n"
            f"client secret: {plaintext}\n"
            f"expires:       {expires_at}\n"
            "Keep the secret now: it is not shown again."
        )

    def _list(self, publisher, **options):
        now = timezone.now()
        self.stdout.write(f"client id {publisher.client_id}")
        secrets = PublisherSecret.objects.filter(publisher=publisher)
        if not secrets.exists():
            self.stdout.write("No secrets yet: `publisher_credentials create` makes one.")
        for secret in secrets:
            state = secret.state(now)
            left = f", {secret.days_left(now)} days left" if state == "active" else ""
            used = f"{secret.last_used_at:%Y-%m-%d %H:%M} UTC" if secret.last_used_at else "never"
            self.stdout.write(
                f"{secret.uuid}  …{secret.hint}  {state}{left}  "
                f"expires {secret.expires_at:%Y-%m-%d}  last used {used}"
            )

    def _revoke(self, publisher, *, secret, **options):
        try:
            found = PublisherSecret.objects.filter(
                publisher=publisher, uuid=uuid.UUID(secret)
            ).first()
        except ValueError:
            found = None
        if found is None:
            raise CommandError(f"{publisher.slug} has no secret {secret!r}: see `list`.")
        services.publisher_secret_revoke(secret=found, actor=ACTOR)
        self.stdout.write(f"Revoked …{found.hint}: it and its tokens no longer work.")


def _json(client_id, secret, expires) -> str:
    return json.dumps({"client_id": str(client_id), "client_secret": secret, "expires": expires})
