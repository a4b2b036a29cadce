import uuid

from django import forms

from billing.models import BillingProfile
from portal.forms import CleanInputMixin
from publishers.models import PricingModel

from .lifecycle import Status
from .models import AppsSort, Subscription
from .permissions import may_pay_with
from .services import ChangeRefused, quantity_quote
from .services.changes import profile_move_refusal
from .services.purchase import purchase_refusal


class ProfileChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, profile):
        how = "card" if profile.pays_by_card else "check or wire transfer"
        return f"{profile.name} ({profile.currency}, pays by {how})"


def profiles_to_pay_with(membership, currency: str) -> list[BillingProfile]:
    """The tenant's profiles in `currency` the member may buy with (owner or contributor),
    the default first."""
    profiles = BillingProfile.objects.visible_to(membership).filter(currency=currency)
    return [
        profile
        for profile in profiles.order_by("-is_default", "name")
        if may_pay_with(membership, profile)
    ]


def _choices_of(profiles):
    return BillingProfile.objects.filter(pk__in=[p.pk for p in profiles]).order_by(
        "-is_default", "name"
    )


class BuyingForm(CleanInputMixin, forms.Form):
    """What every purchase asks: a profile to pay with (the member's own, in `currency`,
    the default first) and the customer agreement."""

    billing_profile = ProfileChoiceField(
        queryset=BillingProfile.objects.none(),
        empty_label=None,
        to_field_name="uuid",
        label="Billing profile",
        help_text="Pays for this app: its charges go on this profile's invoices.",
    )
    agree = forms.BooleanField(
        label="I accept the customer agreement for this purchase.",
        error_messages={"required": "Accept the customer agreement to buy."},
    )

    def __init__(self, *args, membership, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        profiles = profiles_to_pay_with(membership, currency)
        self.fields["billing_profile"].queryset = _choices_of(profiles)
        if profiles and not self.is_bound:
            self.initial.setdefault("billing_profile", profiles[0].uuid)


class PurchaseForm(BuyingForm):
    quantity = forms.IntegerField(label="Licenses", min_value=1)
    field_order = ["quantity", "billing_profile", "agree"]
    purchase_key = forms.UUIDField(
        widget=forms.HiddenInput,
        initial=uuid.uuid4,
        error_messages={
            "required": "This form is incomplete: reload the page and try again.",
            "invalid": "This form is incomplete: reload the page and try again.",
        },
    )

    def __init__(self, *args, plan, membership, **kwargs):
        super().__init__(
            *args, membership=membership, currency=membership.tenant.currency, **kwargs
        )
        self.plan, self.tenant = plan, membership.tenant
        if plan.app.is_per_seat:
            field = self.fields["quantity"]
            field.min_value, field.max_value = plan.min_quantity, plan.max_quantity
            field.widget.attrs.update(min=plan.min_quantity, max=plan.max_quantity)
            field.help_text = f"{plan.min_quantity:,} to {plan.max_quantity:,}."
            self.initial.setdefault("quantity", plan.min_quantity)
        else:
            del self.fields["quantity"]

    def clean(self):
        data = super().clean()
        profile = data.get("billing_profile")
        if profile is None or (self.plan.app.is_per_seat and data.get("quantity") is None):
            return data
        refusal = purchase_refusal(
            tenant=self.tenant, plan=self.plan, profile=profile, quantity=data.get("quantity")
        )
        if refusal is not None:
            self.add_error(refusal.field or None, refusal.message)
        return data


class QuantityForm(CleanInputMixin, forms.Form):
    """The licenses asked for; the confirming POST also carries the quote the person
    reviewed, and is refused if the app no longer says the same."""

    quantity = forms.IntegerField(label="Licenses")
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)
    quoted_old = forms.IntegerField(required=False, widget=forms.HiddenInput)
    quoted_when = forms.CharField(required=False, widget=forms.HiddenInput)
    quoted_amount = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, subscription: Subscription, **kwargs):
        super().__init__(*args, **kwargs)
        self.subscription, self.quote = subscription, None
        plan = subscription.plan
        field = self.fields["quantity"]
        field.widget.attrs.update(min=plan.min_quantity, max=plan.max_quantity)
        field.help_text = f"{plan.min_quantity:,} to {plan.max_quantity:,}."
        self.initial.setdefault(
            "quantity", subscription.scheduled_quantity or subscription.quantity
        )

    def clean_quantity(self):
        quantity = self.cleaned_data["quantity"]
        try:
            self.quote = quantity_quote(self.subscription, quantity)
        except ChangeRefused as refusal:
            raise forms.ValidationError(refusal.message) from None
        return quantity

    def clean(self):
        data = super().clean()
        if self.quote is not None and data.get("confirm"):
            reviewed = (data.get("quoted_old"), data.get("quoted_when"), data.get("quoted_amount"))
            if reviewed != (self.quote.old, self.quote.when, self.quote.amount):
                self.add_error(
                    "quantity",
                    f"This app changed since you reviewed it: {self.quote.explanation} "
                    "Review it again.",
                )
        return data


class BillingProfileMoveForm(CleanInputMixin, forms.Form):
    billing_profile = ProfileChoiceField(
        queryset=BillingProfile.objects.none(),
        empty_label=None,
        to_field_name="uuid",
        widget=forms.RadioSelect,
        label="Pay with",
    )

    def __init__(self, *args, subscription: Subscription, membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.subscription = subscription
        profiles = [
            profile
            for profile in profiles_to_pay_with(membership, subscription.currency)
            if profile.pk != subscription.billing_profile_id
        ]
        self.fields["billing_profile"].queryset = _choices_of(profiles)

    def clean_billing_profile(self):
        profile = self.cleaned_data["billing_profile"]
        if refusal := profile_move_refusal(self.subscription, profile):
            raise forms.ValidationError(refusal)
        return profile


class RenameForm(CleanInputMixin, forms.Form):
    name = forms.CharField(
        max_length=200, help_text="The name your organization knows this app by here."
    )


class AppsFilterForm(CleanInputMixin, forms.Form):
    q = forms.CharField(
        required=False,
        max_length=100,
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "App, publisher or name"}),
    )
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Status.choices])
    publisher = forms.ChoiceField(required=False, choices=[("", "All publishers")])
    billing_profile = forms.ChoiceField(
        required=False, label="Billing profile", choices=[("", "All billing profiles")]
    )
    pricing = forms.ChoiceField(
        required=False, label="Pricing", choices=[("", "Any pricing"), *PricingModel.choices]
    )
    sort = forms.ChoiceField(required=False, label="Sort by", choices=AppsSort.CHOICES)

    def __init__(self, *args, publishers=(), profiles=(), **kwargs):
        """`publishers` and `profiles`: the (uuid, name) pairs to choose from."""
        super().__init__(*args, **kwargs)
        self.fields["publisher"].choices += [(str(uuid), name) for uuid, name in publishers]
        self.fields["billing_profile"].choices += [(str(uuid), name) for uuid, name in profiles]

    def clean_sort(self):
        return self.cleaned_data["sort"] or "name"


class RenewalsFilterForm(forms.Form):
    billing_profile = forms.ChoiceField(
        required=False, label="Billing profile", choices=[("", "All billing profiles")]
    )

    def __init__(self, *args, profiles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["billing_profile"].choices += [(str(p.uuid), p.name) for p in profiles]


class ProposalAcceptForm(BuyingForm):
    def __init__(self, *args, proposal, membership, **kwargs):
        super().__init__(*args, membership=membership, currency=proposal.currency, **kwargs)
        self.fields["billing_profile"].help_text = "Pays for every app in the proposal."
        # The revision the page showed: a proposal changed since is not accepted unseen.
        self.fields["revision"] = forms.IntegerField(
            widget=forms.HiddenInput, initial=proposal.revision, min_value=1
        )

    def clean_billing_profile(self):
        profile = self.cleaned_data["billing_profile"]
        if profile.needs_card:
            raise forms.ValidationError(
                f"{profile.name} pays by card but has no card yet: add one, or choose another."
            )
        return profile
