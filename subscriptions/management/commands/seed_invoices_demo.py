import datetime

from django.core.management.base import CommandError
from django.utils import timezone

from billing.models import Invoice
from billing.services import invoicing_run
from portal.audit import Actor
from portal.management.demo import DemoCommand
from portal.models import Tenant
from subscriptions import services
from subscriptions.models import Subscription

# The app whose publisher lowers its licenses late in the month before this one: a credit
# for a term invoiced two months ago, so this month's run makes a credit note against it.
DECREASED = ("tidewren-pipeline", "seller-annual", 12)


def _month_before(first: datetime.date) -> datetime.date:
    return (first - datetime.timedelta(days=1)).replace(day=1)


class Command(DemoCommand):
    help = (
        "Give the demo tenants three months of invoices: the invoice runs of the 1st of each "
        "of the last three months, over the demo apps' charges, with one credit note (a "
        "publisher's decrease of an annual app invoiced before), PDFs rendered. Needs "
        "seed_subscriptions_demo's apps. Safe to run twice: a tenant with invoices is left."
    )

    def seed(self, **options):
        contoso = Tenant.objects.filter(slug="contoso").first()
        if contoso is None:
            raise CommandError("No tenant 'contoso': run seed_demo first.")
        if Invoice.objects.for_tenant(contoso).exists():
            self.stdout.write("Demo invoices ready (there were some already).")
            return
        this_month = timezone.now().date().replace(day=1)
        last_month = _month_before(this_month)
        runs = [_month_before(last_month), last_month, this_month]
        issued = 0
        for day in runs[:2]:
            issued += self._run(day)
        offer, plan, quantity = DECREASED
        sub = Subscription.objects.filter(
            tenant=contoso, plan__app__offer_id=offer, plan__plan_id=plan
        ).first()
        if sub is not None and sub.quantity and sub.quantity > quantity:
            late = datetime.datetime.combine(
                this_month - datetime.timedelta(days=2), datetime.time(15), tzinfo=datetime.UTC
            )
            services.subscription_change_quantity(
                subscription=sub,
                quantity=quantity,
                actor=Actor.system(sub.plan.app.publisher.name),
                now=late,
                by_publisher=True,
            )
        issued += self._run(runs[2])
        self.stdout.write(f"Demo invoices ready: {issued} issued over three months.")

    def _run(self, day: datetime.date) -> int:
        summary = invoicing_run(day=day)
        return summary.invoices + summary.credit_notes
