"""Answering a proposal: accept it (one subscription per line, at the negotiated price) or
decline it. Proposals are made by operator staff in the Django admin."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from billing.models import BillingProfile
from portal.audit import Actor, audit_record
from portal.tasks import send_email

from ..models import BoughtVia, Proposal, ProposalStatus, Subscription
from .common import money
from .purchase import PurchaseRefused, confirm_by_email, purchase_refusal, subscription_create


class ProposalRefused(ValidationError):
    """A proposal that can't be answered, or accepted with that profile; nothing written."""


def _locked(proposal: Proposal) -> Proposal:
    return Proposal.objects.select_for_update().select_related("tenant").get(pk=proposal.pk)


def proposal_accept(
    *,
    proposal: Proposal,
    profile: BillingProfile,
    actor: Actor,
    now=None,
    revision: int | None = None,
) -> list[Subscription]:
    """Buy every line of the open proposal, paid by `profile`: one subscription each,
    pending set-up, at the negotiated unit price for its first term. All or nothing.
    `revision` is the one the person reviewed: if operator staff changed the proposal
    since, nothing is bought. Each app's purchase confirmation goes to the buyer, and the
    proposal's author hears of the answer."""
    now = now or timezone.now()
    with transaction.atomic():
        proposal = _locked(proposal)
        if refusal := proposal.answer_refusal():
            raise ProposalRefused(refusal)
        if revision is not None and revision != proposal.revision:
            raise ProposalRefused(
                "This proposal changed since you opened it: review it again before you accept it.",
                code="stale",
            )
        # Locked, so its currency and card can't change between the checks and the rows.
        profile = BillingProfile.objects.select_for_update().get(pk=profile.pk)
        if profile.currency != proposal.currency:
            raise ProposalRefused(
                f"This proposal is priced in {proposal.currency}: choose a billing profile "
                f"billed in {proposal.currency}."
            )
        lines = list(proposal.lines.select_related("plan__app__publisher"))
        if not lines:
            raise ProposalRefused("This proposal has nothing in it to buy.")
        subscriptions = []
        for line in lines:
            refused = purchase_refusal(
                tenant=proposal.tenant,
                plan=line.plan,
                profile=profile,
                quantity=line.quantity,
                negotiated=True,
            )
            if refused is not None:
                raise PurchaseRefused(
                    f"{refused.message} Ask for a new proposal, or decline this one."
                    if refused.field != "billing_profile"
                    else refused.message,
                    refused.field,
                )
            subscriptions.append(
                subscription_create(
                    tenant=proposal.tenant,
                    plan=line.plan,
                    profile=profile,
                    quantity=line.quantity,
                    unit_amount=line.unit_amount,
                    via=BoughtVia.PROPOSAL,
                    actor=actor,
                    now=now,
                    proposal_line=line,
                )
            )
        _answer(proposal, ProposalStatus.ACCEPTED, actor, now)
        audit_record(
            tenant=proposal.tenant,
            actor=actor,
            verb="proposal.accept",
            target=proposal,
            at=now,
            data={
                "name": proposal.title,
                "billing_profile": profile.name,
                "price": money(sum(line.term_amount for line in lines), proposal.currency),
            },
        )
        if actor.user is not None:
            for subscription in subscriptions:
                confirm_by_email(subscription, actor.user.email)
        _tell_author(proposal, actor)
    return subscriptions


def proposal_decline(*, proposal: Proposal, actor: Actor, now=None) -> Proposal:
    now = now or timezone.now()
    with transaction.atomic():
        proposal = _locked(proposal)
        if refusal := proposal.answer_refusal():
            raise ProposalRefused(refusal)
        _answer(proposal, ProposalStatus.DECLINED, actor, now)
        audit_record(
            tenant=proposal.tenant,
            actor=actor,
            verb="proposal.decline",
            target=proposal,
            at=now,
            data={"name": proposal.title},
        )
        _tell_author(proposal, actor)
    return proposal


def _tell_author(proposal: Proposal, actor: Actor) -> None:
    """The operator who made the proposal hears of the answer, once it commits."""
    author = proposal.created_by
    if author is None or not author.is_active:
        return
    context = {
        "proposal": proposal,
        "by": actor.label,
        "url": settings.PORTAL_BASE_URL
        + reverse("admin:subscriptions_proposal_change", args=[proposal.pk]),
    }
    subject = f"{proposal.tenant.name} {proposal.get_status_display().lower()} {proposal.title}"
    body = render_to_string("subscriptions/proposal_answered_email.txt", context)
    transaction.on_commit(lambda: send_email.delay(subject, body, [author.email]), robust=True)


def _answer(proposal: Proposal, status: str, actor: Actor, now) -> None:
    proposal.status, proposal.answered_at, proposal.answered_by = status, now, actor.user
    proposal.save(update_fields=["status", "answered_at", "answered_by"])
