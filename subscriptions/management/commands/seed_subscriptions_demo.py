import datetime
import uuid

from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from billing.models import BillingProfile
from portal.audit import Actor, audit_record
from portal.management.demo import DemoCommand
from portal.models import ActorType, Tenant, User
from publishers.models import Plan
from subscriptions import services
from subscriptions.lifecycle import Status
from subscriptions.models import Proposal, ProposalLine

PUBLISHER = Actor.system("publisher")
DAY = datetime.timedelta(days=1)

# tenant, buyer, partner, "publisher/app offer id/plan id", quantity, profile, story.
# A story is what happened after the purchase, days ago counted from today:
#   ("activate", 40): the publisher set it up 40 days ago; ("renew",): its term renewed;
#   ("ends_in_month", 2): set up a term ago, so its term ends in the window's third month
#   (Billing > Renewals shows something in each of its first four months, whatever today);
#   ("decrease", 3): a decrease to 3 licenses was asked (after 7 days: at renewal);
#   ("suspend",), ("cancel",), ("expire",), ("disable",), ("auto_renew_off",): as named.
C_ADMIN, C_BILLING = "admin@contoso.example", "billing@contoso.example"
PARTNER, F_ADMIN = "partner@northwind.example", "admin@fabrikam.example"
HQ, RESEARCH, GMBH = "Contoso HQ", "Contoso Research", "Fabrikam GmbH"
SUBSCRIPTIONS = [
    ("contoso", C_ADMIN, None, "quillfeather/quillfeather-notes/standard-monthly", 10, HQ, []),
    ("contoso", C_BILLING, None, "quillfeather/quillfeather-review/team-monthly", None, RESEARCH,
     []),
    ("contoso", C_ADMIN, None, "bramblecrest/bramblecrest-insight/analyst-annual", 25, HQ,
     [("ends_in_month", 1)]),
    ("contoso", C_ADMIN, None, "tidewren/tidewren-helpdesk/agent-monthly", 8, HQ,
     [("activate", 20), ("decrease", 5)]),
    ("contoso", C_BILLING, None, "kettleridge/kettleridge-ledger/small-business-monthly", None,
     RESEARCH, [("activate", 40), ("renew",)]),
    ("contoso", C_BILLING, None, "veldspring/veldspring-roster/standard-annual", 50, RESEARCH,
     [("ends_in_month", 3), ("suspend",)]),
    ("contoso", C_ADMIN, None, "quillfeather/quillfeather-canvas/team-monthly", 5, HQ,
     [("activate", 15), ("cancel",)]),
    ("contoso", C_ADMIN, None, "bramblecrest/bramblecrest-campaigns/starter-monthly", None, HQ,
     [("activate", 50), ("auto_renew_off",), ("expire",)]),
    ("contoso", C_BILLING, None, "kettleridge/kettleridge-expenses/standard-monthly", 12,
     RESEARCH, [("activate", 90), ("suspend",), ("disable",)]),
    ("contoso", PARTNER, "northwind", "tidewren/tidewren-pipeline/seller-annual", 15, HQ,
     [("ends_in_month", 2)]),
    ("contoso", PARTNER, "northwind", "veldspring/veldspring-sprintboard/team-monthly", 20,
     RESEARCH, []),
    ("contoso", C_ADMIN, None, "bramblecrest/bramblecrest-campaigns/growth-annual", None, HQ,
     [("ends_in_month", 0), ("auto_renew_off",)]),
    ("fabrikam", F_ADMIN, None, "quillfeather/quillfeather-notes/standard-annual", 30, GMBH,
     [("ends_in_month", 1)]),
    ("fabrikam", F_ADMIN, None, "veldspring/veldspring-sentinel/organization-annual", None, GMBH,
     [("activate", 12)]),
    ("fabrikam", F_ADMIN, None, "tidewren/tidewren-helpdesk/agent-monthly", 4, GMBH, []),
]  # fmt: skip


PROPOSAL_TITLE = "Support and people tools, 2027"
PROPOSAL_LINES = [
    ("tidewren/tidewren-helpdesk/agent-annual", 15, 15200),
    ("veldspring/veldspring-roster/standard-annual", 400, 2400),
]


def _dated(step: tuple, today: datetime.datetime) -> tuple:
    """("ends_in_month", k) as the activation it means: a year before the 15th of the k-th
    month from tomorrow (tomorrow itself when that 15th has passed), so an annual term ends
    then; the UTC day of `today` is the one the Renewals page starts from."""
    if step[0] != "ends_in_month":
        return step
    tomorrow = (today + DAY).astimezone(datetime.UTC).date()
    months = tomorrow.month - 1 + step[1]
    ends = max(tomorrow, datetime.date(tomorrow.year + months // 12, months % 12 + 1, 15))
    try:
        began = ends.replace(year=ends.year - 1)
    except ValueError:  # Feb 29: a year before, Feb 28 (its term ends on Feb 28)
        began = ends.replace(year=ends.year - 1, day=28)
    return ("activate", (today.astimezone(datetime.UTC).date() - began).days)


class Command(DemoCommand):
    help = (
        "Give the demo tenants their apps: contoso's in every status (pending set-up per "
        "license and flat rate, active monthly and annual, one with a decrease scheduled, "
        "one renewed, one suspended, one disabled for each reason, two bought by the "
        "northwind partner) and one open proposal, and a few of fabrikam's in EUR. Needs "
        "seed_demo's tenants, people, catalog and billing profiles. Safe to run twice."
    )

    def seed(self, **options):
        today = timezone.now()
        made = 0
        for number, (slug, email, partner, plan_ref, quantity, profile_name, story) in enumerate(
            SUBSCRIPTIONS
        ):
            tenant = Tenant.objects.filter(slug=slug).first()
            if tenant is None:
                raise CommandError(f"No tenant {slug!r}: run seed_demo first.")
            publisher, offer, plan_id = plan_ref.split("/")
            plan = Plan.objects.select_related("app__publisher").get(
                app__publisher__slug=publisher, app__offer_id=offer, plan_id=plan_id
            )
            profile = BillingProfile.objects.for_tenant(tenant).get(name=profile_name)
            user = User.objects.get(email=email)
            actor = Actor(
                type=ActorType.USER,
                label=email,
                user=user,
                partner=Tenant.objects.get(slug=partner) if partner else None,
            )
            story = [_dated(step, today) for step in story]
            start = next((step[1] for step in story if step[0] == "activate"), None)
            bought_at = today - (start + 2 if start else 3) * DAY
            with transaction.atomic():
                sub, created = services.subscription_buy(
                    tenant=tenant,
                    plan=plan,
                    profile=profile,
                    quantity=quantity,
                    purchase_key=uuid.uuid5(uuid.NAMESPACE_URL, f"demo-subscription-{number}"),
                    actor=actor,
                    now=bought_at,
                    send_confirmation=False,
                )
                if created:
                    self._tell(sub, story, actor, today)
                    made += 1
        self._proposal(today)
        self.stdout.write(f"Demo apps ready: {made} bought now, {len(SUBSCRIPTIONS)} in all.")

    def _proposal(self, today):
        """One open proposal to contoso, at negotiated prices, as operator staff make it."""
        tenant = Tenant.objects.get(slug="contoso")
        if Proposal.objects.for_tenant(tenant).filter(title=PROPOSAL_TITLE).exists():
            return
        proposal = Proposal.objects.create(
            tenant=tenant,
            title=PROPOSAL_TITLE,
            message=(
                "As discussed: a year of Tidewren Helpdesk for the support team and Veldspring "
                "Roster for everyone, at 20% off list."
            ),
            expires_on=(today + 30 * DAY).date(),
        )
        for plan_ref, quantity, unit_amount in PROPOSAL_LINES:
            publisher, offer, plan_id = plan_ref.split("/")
            plan = Plan.objects.get(
                app__publisher__slug=publisher, app__offer_id=offer, plan_id=plan_id
            )
            ProposalLine.objects.create(
                proposal=proposal, plan=plan, quantity=quantity, unit_amount=unit_amount
            )
        audit_record(
            tenant=tenant,
            actor=Actor.system("marketplace sales"),
            verb="proposal.create",
            target=proposal,
            data={"name": proposal.title, "expires": proposal.expires_on.isoformat()},
        )

    def _tell(self, sub, story, actor, today):
        """Play the story: each step at its day, in order."""
        now = today
        for step, *args in story:
            if step == "activate":
                now = today - args[0] * DAY
                sub = services.subscription_activate(subscription=sub, actor=PUBLISHER, now=now)
            elif step == "renew":
                now = datetime.datetime.combine(sub.term_end, now.timetz())
                sub = services.subscription_renew(
                    subscription=sub, actor=Actor.system("renewals"), now=now
                )
            elif step == "decrease":
                now += 8 * DAY
                sub, _ = services.subscription_change_quantity(
                    subscription=sub, quantity=args[0], actor=actor, now=now
                )
                if waiting := services.change_waiting(sub):  # its publisher says yes
                    with transaction.atomic():
                        services.operation_answer(
                            operation=waiting, succeeded=True, actor=PUBLISHER, now=now
                        )
                    sub.refresh_from_db()
            elif step == "auto_renew_off":
                sub = services.subscription_set_auto_renew(
                    subscription=sub, auto_renew=False, actor=actor
                )
            elif step == "cancel":
                now += 5 * DAY
                sub = services.subscription_cancel(subscription=sub, actor=actor, now=now)
            else:
                now = max(now + 5 * DAY, datetime.datetime.combine(sub.term_end, now.timetz()))
                now = min(now, today)
                move = {
                    "suspend": services.subscription_suspend,
                    "expire": services.subscription_expire,
                    "disable": services.subscription_disable_for_non_payment,
                }[step]
                sub = move(subscription=sub, actor=Actor.system("billing"), now=now)
        assert sub.status in Status.values
