"""What every billing service shares: the row lock and the audit record."""

from portal.audit import Actor, audit_record

from ..models import BillingProfile


def locked(profile: BillingProfile) -> BillingProfile:
    return BillingProfile.objects.select_for_update().get(pk=profile.pk)


def audit(profile: BillingProfile, actor: Actor, verb: str, data: dict | None = None) -> None:
    audit_record(
        tenant=profile.tenant,
        actor=actor,
        verb=verb,
        target=profile,
        data={"profile": profile.name, **(data or {})},
    )
