import uuid

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Prefetch

from portal.audit import Actor
from publishers import webhooks
from publishers.models import Publisher, WebhookAttempt, WebhookEvent, WebhookStatus

LIMIT = 200  # rows `list` shows, newest first


class Command(BaseCommand):
    help = (
        "The webhook outbox. `list` shows the newest events (status, attempts, last answer), "
        "`replay ID` sends a settled event again with the same webhook-id (ID as list shows "
        "it)."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        listing = actions.add_parser("list", help=f"the newest {LIMIT} events")
        listing.add_argument("--failed", action="store_true", help="only failed ones")
        listing.add_argument("--publisher", metavar="SLUG", help="only this publisher's")
        replay = actions.add_parser("replay", help="send a settled event again")
        replay.add_argument("event", metavar="ID", help="the event's webhook-id")

    def handle(self, *args, action, **options):
        getattr(self, f"_{action}")(**options)

    def _list(self, *, failed, publisher, **options):
        events = WebhookEvent.objects.select_related("publisher").order_by("-pk")
        if publisher is not None:
            found = Publisher.objects.filter(slug=publisher).first()
            if found is None:
                raise CommandError(f"No publisher {publisher!r}: give its slug.")
            events = events.filter(publisher=found)
        if failed:
            events = events.filter(status=WebhookStatus.FAILED)
        last = WebhookAttempt.objects.order_by("event_id", "-number")
        events = events.prefetch_related(Prefetch("attempts", queryset=last))[:LIMIT]
        rows = [("webhook-id", "publisher", "action", "status", "tries", "created", "last")]
        for event in events:
            attempt = next(iter(event.attempts.all()), None)
            answer = ""
            if attempt is not None:
                answer = str(attempt.status_code) if attempt.status_code else attempt.error[:40]
            rows.append(
                (
                    str(event.uuid),
                    event.publisher.slug,
                    event.action,
                    event.status,
                    str(event.attempt_count),
                    f"{event.created_at:%Y-%m-%d %H:%M:%S}",
                    answer,
                )
            )
        if len(rows) == 1:
            self.stdout.write("No webhooks.")
            return
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            self.stdout.write("  ".join([*cells, row[-1]]).rstrip())

    def _replay(self, *, event, **options):
        try:
            found = WebhookEvent.objects.filter(uuid=uuid.UUID(event)).first()
        except ValueError:
            found = None
        if found is None:
            raise CommandError(f"No webhook {event!r}: give its webhook-id, as list shows it.")
        try:
            webhooks.webhook_replay(event=found, actor=Actor.system("webhooks command"))
        except ValueError as refused:
            raise CommandError(str(refused)) from None
        self.stdout.write(f"Replaying {found.action} {found.uuid} to {found.publisher.slug}.")
