from portal.audit import Actor
from portal.management.demo import DemoCommand
from publishers import services
from publishers.models import Publisher, PublisherSecret
from publishers.models.credentials import secret_hash
from publishers.sandbox.models import SandboxPublisher


class Command(DemoCommand):
    help = (
        "Let the sandbox publisher play every publisher of the catalog: it gets an API client "
        "secret for each (a new one only when the one it holds no longer works) and the "
        "publisher's webhook secret (again when it was rotated). `load_catalog --demo` points "
        "the demo publishers' landing pages and webhook URLs at it. Run by seed_demo; safe to "
        "run twice."
    )

    def seed(self, **options):
        actor = Actor.system("seed_demo")
        made = 0
        for publisher in Publisher.objects.all():
            sandbox = SandboxPublisher.objects.filter(slug=publisher.slug).first()
            works = sandbox is not None and (
                sandbox.client_id == str(publisher.client_id)
                and PublisherSecret.objects.usable()
                .filter(publisher=publisher, secret_hash=secret_hash(sandbox.client_secret))
                .exists()
            )
            if works:
                if sandbox.webhook_secret != publisher.webhook_secret:  # rotated since
                    sandbox.webhook_secret = publisher.webhook_secret
                    sandbox.save(update_fields=["webhook_secret"])
                continue
            _, secret = services.publisher_secret_create(publisher=publisher, actor=actor)
            SandboxPublisher.objects.update_or_create(
                slug=publisher.slug,
                defaults={
                    "name": publisher.name,
                    "client_id": str(publisher.client_id),
                    "client_secret": secret,
                    "webhook_secret": publisher.webhook_secret,
                },
            )
            made += 1
        self.stdout.write(f"Sandbox publisher ready: {made} new API secret(s).")
