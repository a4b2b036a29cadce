"""Every write to tenants and people: one function per use case.

Views, commands and tests call these; each owns its transaction and its audit record.
"""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.text import slugify

from .audit import Actor, audit_record
from .models import Invitation, Membership, PartnerRelationship, Role, Tenant, User
from .regions import region_for
from .signals import member_removed
from .tasks import send_email
from .text import validate_email_address


class LastAdminError(ValidationError):
    def __init__(self):
        super().__init__(
            "A tenant must keep at least one admin: make someone else admin first.",
            code="last_admin",
        )


def _one_line(error: ValidationError) -> str:
    return " ".join(error.messages)


def tenant_create(*, name: str, country: str, slug: str = "", actor: Actor) -> Tenant:
    """Create a tenant. Raises ValidationError on bad input, UnsupportedCountry on a country."""
    name = name.strip()
    if not name:
        raise ValidationError("A tenant needs a name.", code="name")
    region = region_for(country)  # UnsupportedCountry is a ValueError the caller reports
    slug = slugify(slug) if slug else slugify(name)[:50].strip("-")
    if not slug:
        raise ValidationError(f"Cannot make a URL slug from {name!r}; give one.", code="slug")
    if Tenant.objects.filter(slug=slug).exists():
        raise ValidationError(f"The slug {slug!r} is taken.", code="slug_taken")
    tenant = Tenant(name=name, slug=slug, country=region.code)
    try:
        tenant.full_clean()
    except ValidationError as error:
        raise ValidationError(_one_line(error), code="invalid") from None
    with transaction.atomic():
        tenant.save()
        audit_record(
            tenant=tenant,
            actor=actor,
            verb="tenant.create",
            target=tenant,
            data={"name": name, "country": region.code},
        )
    return tenant


def tenant_update(*, tenant: Tenant, changed: list[str], actor: Actor) -> Tenant:
    """Save the named fields of a tenant an operator edited, with the new values audited."""
    with transaction.atomic():
        tenant.save(update_fields=changed)
        audit_record(
            tenant=tenant,
            actor=actor,
            verb="tenant.change",
            target=tenant,
            data={field: getattr(tenant, field) for field in changed},
        )
    return tenant


def partner_relationship_create(*, partner: Tenant, customer: Tenant, actor: Actor):
    """Let the partner's admins and billing admins act for the customer (again)."""
    with transaction.atomic():
        link, created = PartnerRelationship.objects.select_for_update().get_or_create(
            partner=partner, customer=customer
        )
        if created or not link.is_active:
            link.is_active = True
            link.save(update_fields=["is_active"])
            audit_record(
                tenant=customer,
                actor=actor,
                verb="partner.add",
                target=link,
                data={"partner": partner.slug},
            )
    return link


def partner_relationship_end(*, link: PartnerRelationship, actor: Actor) -> None:
    with transaction.atomic():
        link = PartnerRelationship.objects.select_for_update().get(pk=link.pk)
        if not link.is_active:
            return
        link.is_active = False
        link.save(update_fields=["is_active"])
        audit_record(
            tenant=link.customer,
            actor=actor,
            verb="partner.end",
            target=link,
            data={"partner": link.partner.slug},
        )


def set_password_email(
    user: User, tenant: Tenant | None = None, *, invited: bool = False
) -> tuple[str, str]:
    """Subject and body of the e-mail that lets someone choose their password."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    body = render_to_string(
        "registration/set_password_email.txt",
        {
            "user": user,
            "tenant": tenant,
            "invited": invited,
            "url": f"{settings.PORTAL_BASE_URL}{path}",
        },
    )
    if tenant is None:
        subject = "Choose your password"
    elif invited:
        subject = f"You are invited to join {tenant.name}"
    else:
        subject = f"You have been added to {tenant.name}"
    return subject, body


def _clean_email_and_role(email: str, role: str) -> str:
    email = User.objects.normalize_email(email.strip()).lower()
    validate_email_address(email)
    if role not in Role.values:
        raise ValidationError(f"Unknown role {role!r}.", code="role")
    return email


def member_add(*, tenant: Tenant, email: str, role: str, actor: Actor) -> Membership:
    """Make a person a member at once: operator staff only (Django admin, demo seed).

    Tenant admins and `manage.py add_member` invite instead (`invitation_create`): no one
    becomes a member of a tenant without accepting. A new user gets a set-password e-mail.
    """
    email = _clean_email_and_role(email, role)
    with transaction.atomic():
        user = User.objects.filter(email__iexact=email).first()
        created = user is None
        if created:
            user = User.objects.create_user(email)  # unusable password until they set one
        elif Membership.objects.filter(user=user, tenant=tenant).exists():
            raise ValidationError(f"{email} is already a member.", code="duplicate")
        membership = Membership.objects.create(user=user, tenant=tenant, role=role)
        audit_record(
            tenant=tenant,
            actor=actor,
            verb="member.add",
            target=membership,
            data={"email": email, "role": role},
        )
        if not user.has_usable_password():  # new, or invited before and never signed in
            subject, body = set_password_email(user, tenant)
            transaction.on_commit(lambda: send_email.delay(subject, body, [email]), robust=True)
    return membership


def _lock_admins(tenant: Tenant) -> list[int]:
    """Lock the tenant's admin rows so two demotions cannot both pass the last-admin check."""
    return list(
        Membership.objects.for_tenant(tenant)
        .admins()
        .order_by("pk")
        .select_for_update(of=("self",))
        .values_list("pk", flat=True)
    )


def member_change_role(*, membership: Membership, role: str, actor: Actor) -> Membership:
    if role not in Role.values:
        raise ValidationError(f"Unknown role {role!r}.", code="role")
    with transaction.atomic():
        admins = _lock_admins(membership.tenant)
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        old = membership.role
        if old == role:
            return membership
        if membership.is_sole_admin(admin_ids=admins):
            raise LastAdminError()
        membership.role = role
        membership.save(update_fields=["role"])
        audit_record(
            tenant=membership.tenant,
            actor=actor,
            verb="member.change_role",
            target=membership,
            data={"email": membership.user.email, "from": old, "to": role},
        )
    return membership


def member_remove(*, membership: Membership, actor: Actor) -> None:
    with transaction.atomic():
        admins = _lock_admins(membership.tenant)
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if membership.is_sole_admin(admin_ids=admins):
            raise LastAdminError()
        audit_record(
            tenant=membership.tenant,
            actor=actor,
            verb="member.remove",
            target=membership,
            data={"email": membership.user.email, "role": membership.role},
        )
        member_removed.send(sender=Membership, membership=membership, actor=actor)
        membership.delete()


# Invitations: the way into a tenant (ARCHITECTURE.md, "Joining a tenant"). Nothing here tells
# the inviting admin whether the address has an account: the answer, the audit row and the page
# are the same; only the e-mail the invited person gets differs.


class InvitationError(ValidationError):
    pass


def invitation_email(invitation: Invitation, user: User) -> tuple[str, str]:
    """Subject and body for the invited person: a set-password e-mail while they have no
    password, else a note with a link to the portal, where the invitation waits."""
    if not user.has_usable_password():
        return set_password_email(user, invitation.tenant, invited=True)
    body = render_to_string(
        "portal/invitation_email.txt",
        {"invitation": invitation, "url": f"{settings.PORTAL_BASE_URL}{reverse('start')}"},
    )
    return f"You are invited to join {invitation.tenant.name}", body


def _send_invitation(invitation: Invitation) -> None:
    user = User.objects.filter(email__iexact=invitation.email).first()
    if user is None:
        user = User.objects.create_user(invitation.email)  # unusable password until they set one
    subject, body = invitation_email(invitation, user)
    to = [invitation.email]
    transaction.on_commit(lambda: send_email.delay(subject, body, to), robust=True)


def invitation_create(*, tenant: Tenant, email: str, role: str, actor: Actor) -> Invitation:
    """Invite an address to the tenant with a role; the person becomes a member on accepting."""
    email = _clean_email_and_role(email, role)
    with transaction.atomic():
        Tenant.objects.select_for_update().get(pk=tenant.pk)  # one invitation at a time
        if Membership.objects.for_tenant(tenant).filter(user__email__iexact=email).exists():
            raise InvitationError(f"{email} is already a member.", code="duplicate")
        pending = Invitation.objects.for_tenant(tenant).pending().filter(email__iexact=email)
        for old in pending.select_for_update():
            if not old.is_expired():
                raise InvitationError(
                    f"{email} is already invited: resend or cancel that invitation.",
                    code="already_invited",
                )
            old.canceled_at = timezone.now()  # an expired one gives way to the new one
            old.save(update_fields=["canceled_at"])
        invitation = Invitation.objects.create(
            tenant=tenant, email=email, role=role, invited_by=actor.user
        )
        audit_record(
            tenant=tenant,
            actor=actor,
            verb="invitation.create",
            target=invitation,
            data={"email": email, "role": role},
        )
        _send_invitation(invitation)
    return invitation


def _locked_pending(invitation: Invitation) -> Invitation:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_pending:
        raise InvitationError("This invitation is no longer open.", code="closed")
    return invitation


def invitation_resend(*, invitation: Invitation, actor: Actor) -> Invitation:
    """Send the e-mail again; the invitation is valid for another VALID_FOR from now."""
    with transaction.atomic():
        invitation = _locked_pending(invitation)
        invitation.sent_at = timezone.now()
        invitation.save(update_fields=["sent_at"])
        audit_record(
            tenant=invitation.tenant,
            actor=actor,
            verb="invitation.resend",
            target=invitation,
            data={"email": invitation.email},
        )
        _send_invitation(invitation)
    return invitation


def invitation_cancel(*, invitation: Invitation, actor: Actor) -> Invitation:
    with transaction.atomic():
        invitation = _locked_pending(invitation)
        invitation.canceled_at = timezone.now()
        invitation.save(update_fields=["canceled_at"])
        audit_record(
            tenant=invitation.tenant,
            actor=actor,
            verb="invitation.cancel",
            target=invitation,
            data={"email": invitation.email},
        )
    return invitation


def _locked_open_for(invitation: Invitation, user: User) -> Invitation:
    invitation = _locked_pending(invitation)
    if invitation.email.lower() != user.email.lower():
        raise InvitationError("This invitation is for someone else.", code="not_yours")
    if invitation.is_expired():
        raise InvitationError(
            "This invitation has expired: ask an admin to send it again.", code="expired"
        )
    return invitation


def invitation_accept(*, invitation: Invitation, user: User, actor: Actor) -> Membership:
    """The invited person joins the tenant with the invitation's role (once, whatever races)."""
    with transaction.atomic():
        invitation = _locked_open_for(invitation, user)
        membership, _ = Membership.objects.get_or_create(
            tenant=invitation.tenant, user=user, defaults={"role": invitation.role}
        )
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        audit_record(
            tenant=invitation.tenant,
            actor=actor,
            verb="invitation.accept",
            target=invitation,
            data={"email": invitation.email, "role": membership.role},
        )
    return membership


def invitation_decline(*, invitation: Invitation, user: User, actor: Actor) -> Invitation:
    with transaction.atomic():
        invitation = _locked_pending(invitation)
        if invitation.email.lower() != user.email.lower():
            raise InvitationError("This invitation is for someone else.", code="not_yours")
        invitation.declined_at = timezone.now()
        invitation.save(update_fields=["declined_at"])
        audit_record(
            tenant=invitation.tenant,
            actor=actor,
            verb="invitation.decline",
            target=invitation,
            data={"email": invitation.email},
        )
    return invitation
