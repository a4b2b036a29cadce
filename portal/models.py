import uuid
from datetime import timedelta

from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from .regions import COUNTRY_CHOICES, REGIONS, Region


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. The e-mail address is the login."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(
        default=False, help_text="Operator staff: may log in to the Django admin."
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),
        ]

    def __str__(self):
        return self.email

    def clean(self):
        super().clean()
        self.email = self.email.strip().lower()

    def save(self, *args, **kwargs):
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)

    def get_full_name(self):
        return self.full_name or self.email

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email


class TenantOwnedQuerySet(models.QuerySet):
    """Base of every tenant-owned model's QuerySet: views fetch only through `for_tenant`."""

    def for_tenant(self, tenant):
        return self.filter(tenant=tenant)


class TenantQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Tenants the user may enter: their own, and customers of partners they administer."""
        own_ids = Membership.objects.filter(user=user).values("tenant_id")
        customer_ids = PartnerRelationship.objects.acting_for(user).values("customer_id")
        return self.filter(Q(pk__in=own_ids) | Q(pk__in=customer_ids))


class Tenant(models.Model):
    """An organization: the customer that buys and manages apps."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=50, unique=True)
    country = models.CharField(max_length=2, choices=COUNTRY_CHOICES)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(country__in=sorted(REGIONS)), name="tenant_country_supported"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def region(self) -> Region:
        return REGIONS[self.country]

    @property
    def currency(self) -> str:
        return self.region.currency.code


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    BILLING_ADMIN = "billing_admin", "Billing admin"
    READER = "reader", "Reader"
    MEMBER = "member", "Member"


class MembershipQuerySet(TenantOwnedQuerySet):
    def admins(self):
        return self.filter(role=Role.ADMIN)

    def with_admin_count(self):
        """Each row carries its tenant's number of admins, so a page asks `is_sole_admin()`
        of every row without one query per row."""
        admins = (
            Membership.objects.filter(tenant=OuterRef("tenant"), role=Role.ADMIN)
            .order_by()
            .values("tenant")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return self.annotate(tenant_admin_count=Coalesce(Subquery(admins), 0))

    def of_user_in(self, user, slug):
        """The user's membership of the tenant with this slug, real or through a partner;
        None when there is neither (or no such tenant). One query for real members."""
        real = self.filter(user=user, tenant__slug=slug).select_related("tenant", "user").first()
        if real is not None:
            return real
        tenant = Tenant.objects.filter(slug=slug).first()
        return tenant and self._through_partner(user, tenant)

    def _through_partner(self, user, tenant):
        """A partner's admins and billing admins act in a customer tenant as billing admins;
        the membership built for them is never saved and names the partner in `via_partner`."""
        link = (
            PartnerRelationship.objects.acting_for(user)
            .filter(customer=tenant)
            .select_related("partner")
            .first()
        )
        if link is None:
            return None
        membership = Membership(user=user, tenant=tenant, role=Membership.PARTNER_ACTS_AS)
        membership.via_partner = link.partner
        return membership

    def acting_for_partners_in(self, tenant):
        """The partner memberships through which people act in `tenant` (as
        `PARTNER_ACTS_AS`): admins and billing admins of its active partners who are not
        members of `tenant` themselves (a member acts as the member they are, as `of_user_in`
        finds them first)."""
        partners = PartnerRelationship.objects.active().filter(customer=tenant).values("partner")
        members = Membership.objects.filter(tenant=tenant).values("user")
        return self.filter(tenant__in=partners, role__in=Membership.PARTNER_ROLES).exclude(
            user__in=members
        )


class Membership(models.Model):
    """A user's place in a tenant, with one tenant-wide role."""

    PARTNER_ROLES = (Role.ADMIN, Role.BILLING_ADMIN)
    PARTNER_ACTS_AS = Role.BILLING_ADMIN  # the role a partner's people have in a customer

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = MembershipQuerySet.as_manager()

    via_partner = None  # set on the unsaved memberships partners act through

    class Meta:
        ordering = ["user__email"]
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="membership_unique_user"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self):
        return f"{self.user} in {self.tenant} ({self.get_role_display()})"

    def save(self, *args, **kwargs):
        if self.is_effective:
            raise ValueError("A partner's effective membership is never saved.")
        super().save(*args, **kwargs)

    @property
    def is_effective(self) -> bool:
        """Built for a partner's user, not a saved membership."""
        return self.via_partner is not None

    def is_sole_admin(self, *, admin_ids=None) -> bool:
        """The one rule of "a tenant keeps an admin": this is its only admin.

        Services pass the admin ids they hold locked; pages read rows `with_admin_count()`;
        otherwise it costs one query.
        """
        if self.role != Role.ADMIN or self.is_effective:
            return False
        if admin_ids is not None:
            return list(admin_ids) == [self.pk]
        count = getattr(self, "tenant_admin_count", None)
        if count is None:
            count = Membership.objects.for_tenant(self.tenant_id).admins().count()
        return count <= 1


class InvitationQuerySet(TenantOwnedQuerySet):
    def pending(self):
        """Neither accepted, declined nor canceled (expired ones included)."""
        return self.filter(accepted_at=None, declined_at=None, canceled_at=None)

    def open(self, now=None):
        """Pending and not expired: what the invited person may still accept."""
        now = now or timezone.now()
        return self.pending().filter(sent_at__gt=now - Invitation.VALID_FOR)

    def addressed_to(self, user):
        """Invitations to the user's e-mail address (case-insensitive)."""
        return self.filter(email__iexact=user.email)


class Invitation(models.Model):
    """An offer to join a tenant with a role, to an e-mail address, until accepted.

    No membership exists before the invited person accepts; the tenant stays 404 for them.
    """

    VALID_FOR = timedelta(days=14)  # from the last time it was sent

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    invited_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    sent_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(
                "tenant",
                Lower("email"),
                condition=Q(accepted_at=None, declined_at=None, canceled_at=None),
                name="invitation_one_pending_per_email",
            ),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="invitation_role_valid"),
            models.CheckConstraint(
                condition=(
                    Q(accepted_at=None, declined_at=None)
                    | Q(accepted_at=None, canceled_at=None)
                    | Q(declined_at=None, canceled_at=None)
                ),
                name="invitation_decided_once",
            ),
        ]

    def __str__(self):
        return f"{self.email} to {self.tenant} ({self.get_role_display()})"

    def save(self, *args, **kwargs):
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.declined_at is None and self.canceled_at is None

    @property
    def expires_at(self):
        return self.sent_at + self.VALID_FOR

    def is_expired(self, now=None) -> bool:
        return (now or timezone.now()) >= self.expires_at


class PartnerRelationshipQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def acting_for(self, user):
        """Active links through which the user acts: they are a partner's admin or billing admin.

        The one rule of delegated access; tenant pickers and the middleware both use it.
        """
        return self.active().filter(
            partner__memberships__user=user,
            partner__memberships__role__in=Membership.PARTNER_ROLES,
        )


class PartnerRelationship(models.Model):
    """A partner tenant acting for a customer tenant (delegated administration)."""

    partner = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="customer_links")
    customer = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="partner_links")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = PartnerRelationshipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "customer"], name="partner_link_unique"),
            models.CheckConstraint(
                condition=~Q(partner=models.F("customer")), name="partner_link_not_self"
            ),
        ]

    def __str__(self):
        return f"{self.partner} for {self.customer}"


class ActorType(models.TextChoices):
    USER = "user", "User"
    SYSTEM = "system", "System"
    PUBLISHER = "publisher", "Publisher"


class AuditEventQuerySet(TenantOwnedQuerySet):
    def for_tenant(self, tenant):
        if tenant is None:
            raise ValueError("for_tenant needs a tenant; operator records are .operator().")
        return super().for_tenant(tenant)

    def operator(self):
        """Operator-side records (catalog, publishers): they belong to no tenant."""
        return self.filter(tenant__isnull=True)

    def matching(self, *, actor="", verb="", since=None, until=None):
        """Events whose actor contains `actor`, of `verb`, on the days from `since` to `until`."""
        events = self
        if actor:
            events = events.filter(actor_label__icontains=actor)
        if verb:
            events = events.filter(verb=verb)
        if since:
            events = events.filter(created_at__date__gte=since)
        if until:
            events = events.filter(created_at__date__lte=until)
        return events


class AuditEvent(models.Model):
    """Append-only record of a change. Rows are never updated or deleted.

    The model refuses it, and on PostgreSQL a trigger does too (migration 0002).
    """

    # None: an operator-side change (catalog, publishers), shown in the Django admin only.
    tenant = models.ForeignKey(
        Tenant, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events"
    )
    actor_type = models.CharField(max_length=10, choices=ActorType.choices)
    # PROTECT: a person who has acted is deactivated, never deleted, so the record stays whole.
    actor_user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Who the acting user was, kept as text so the record outlives the user row.
    actor_label = models.CharField(max_length=254, blank=True)
    # The partner tenant a user acted for, when they acted through a partner relationship.
    actor_partner = models.ForeignKey(
        Tenant, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verb = models.CharField(max_length=60)
    target_type = models.CharField(max_length=60, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="audit_tenant_time")]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.verb}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit events are append-only.")

    @property
    def target_name(self) -> str:
        """The target's kind as people say it ("membership"), from `app_label.model`."""
        try:
            return apps.get_model(self.target_type)._meta.verbose_name
        except (LookupError, ValueError):
            return self.target_type
