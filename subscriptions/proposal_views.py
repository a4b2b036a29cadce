"""Billing > Proposals: what operator staff offered the tenant, and its answer."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from portal.audit import Actor
from portal.links import tenant_url
from publishers.models import Price

from . import permissions, services
from .forms import ProposalAcceptForm
from .models import Proposal


def access_proposal(request, proposal_uuid) -> Proposal:
    """A proposal made to the tenant, for those who may see proposals (else 404)."""
    if not permissions.can_view_proposals(request.membership):
        raise PermissionDenied("Only tenant admins and billing admins see proposals.")
    proposals = Proposal.objects.for_tenant(request.tenant).select_related("answered_by")
    return get_object_or_404(proposals, uuid=proposal_uuid)


def _detail(request, proposal, form=None, status=200):
    lines = list(proposal.lines.select_related("plan__app__publisher", "subscription"))
    listed = {
        price.plan_id: price.amount
        for price in Price.objects.filter(
            plan__in=[line.plan_id for line in lines], currency=proposal.currency
        )
    }
    for line in lines:  # the same licenses at the plan's list price, to compare
        unit = listed.get(line.plan_id)
        line.list_amount = unit * (line.quantity or 1) if unit else None
    context = {
        "proposal": proposal,
        "lines": lines,
        "total": sum(line.term_amount for line in lines),
        "refusal": proposal.answer_refusal(),
        "form": form or ProposalAcceptForm(proposal=proposal, membership=request.membership),
    }
    return render(request, "subscriptions/proposal_detail.html", context, status=status)


@require_GET
def proposal_list(request):
    if not permissions.can_view_proposals(request.membership):
        raise PermissionDenied("Only tenant admins and billing admins see proposals.")
    proposals = Proposal.objects.for_tenant(request.tenant).prefetch_related("lines")
    return render(request, "subscriptions/proposal_list.html", {"proposals": proposals})


@require_GET
def proposal_detail(request, proposal_uuid):
    return _detail(request, access_proposal(request, proposal_uuid))


@require_POST
def proposal_accept(request, proposal_uuid):
    proposal = access_proposal(request, proposal_uuid)
    if refusal := proposal.answer_refusal():
        messages.error(request, refusal)
        return redirect(
            tenant_url("proposals:detail", request.tenant.slug, proposal_uuid=proposal.uuid)
        )
    form = ProposalAcceptForm(request.POST, proposal=proposal, membership=request.membership)
    if form.is_valid():
        try:
            bought = services.proposal_accept(
                proposal=proposal,
                profile=form.cleaned_data["billing_profile"],
                actor=Actor.from_request(request),
                revision=form.cleaned_data["revision"],
            )
        except services.ProposalRefused as error:
            if error.code != "stale":
                raise
            messages.error(request, " ".join(error.messages))  # the page shows the new one
            return redirect(
                tenant_url("proposals:detail", request.tenant.slug, proposal_uuid=proposal.uuid)
            )
        except ValidationError as error:
            form.add_error(None, " ".join(error.messages))
        else:
            apps = f"{len(bought)} app{'s' if len(bought) != 1 else ''}"
            messages.success(
                request,
                f"You accepted {proposal.title}: {apps} bought, each pending set-up in its "
                "publisher's portal.",
            )
            return redirect(tenant_url("subscriptions:list", request.tenant.slug))
    return _detail(request, proposal, form, status=422)


@require_POST
def proposal_decline(request, proposal_uuid):
    proposal = access_proposal(request, proposal_uuid)
    try:
        services.proposal_decline(proposal=proposal, actor=Actor.from_request(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"You declined {proposal.title}.")
    return redirect(
        tenant_url("proposals:detail", request.tenant.slug, proposal_uuid=proposal.uuid)
    )
