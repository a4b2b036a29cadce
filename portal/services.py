"""Every write to tenants and people: one function per use case.

Views, commands and tests call these; each owns its transaction and its audit record.
"""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.text import slugify

from .audit import Actor, audit_record
from .models import Membership, PartnerRelationship, Role, Tenant, User
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


def set_password_email(user: User, tenant: Tenant | None = None) -> tuple[str, str]:
    """Subject and body of the e-mail that lets someone choose their password."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    body = render_to_string(
        "registration/set_password_email.txt",
        {"user": user, "tenant": tenant, "url": f"{settings.PORTAL_BASE_URL}{path}"},
    )
    subject = f"You have been added to {tenant.name}" if tenant else "Choose your password"
    return subject, body


def member_add(*, tenant: Tenant, email: str, role: str, actor: Actor) -> Membership:
    """Add a person to the tenant by e-mail; a new user gets a set-password e-mail."""
    email = User.objects.normalize_email(email.strip()).lower()
    validate_email_address(email)
    if role not in Role.values:
        raise ValidationError(f"Unknown role {role!r}.", code="role")
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
            data={"email": email, "role": role, "new_user": created},
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
        if membership.is_sole_admin(admins):
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
        if membership.is_sole_admin(admins):
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
