import re

from django import forms
from django.core.exceptions import ValidationError

from portal.forms import CleanInputMixin, DateRangeMixin
from portal.models import Membership, Role
from portal.money import minor_amount
from portal.regions import CURRENCIES, REGIONS, TAX_ID, InvalidTaxId, Region, validate_tax_id
from portal.text import validate_email_address

from .models import ISSUED, BillingProfile, Invoice, InvoiceStatus, PaymentMethod, ProfileRole
from .services import payment_record, payment_refusal

MAX_INVOICE_EMAILS = 10
# Countries whose addresses need a state or province.
STATE_REQUIRED = {"US", "CA", "AU"}
PHONE = re.compile(r"^\+?[0-9 ()./-]{6,30}$")


def tax_id_hint(region: Region | None) -> str:
    """The help text of the tax id field, for the country chosen (None: none yet)."""
    if region is not None:
        return f"Optional. For example {region.tax_id_example}."
    examples = ", ".join(
        f"{r.code} {r.tax_id_example}" for r in REGIONS.values() if r.code in ("DE", "GB")
    )
    return (
        "Optional: your VAT, GST or business number, as your country writes it "
        f"(for example {examples})."
    )


def currency_warning(region: Region | None, billed_in: str) -> str:
    """What to say when the country chosen is billed in another currency than `billed_in`
    (the tenant's, for a new profile; the profile's own, for one that exists); "" if not."""
    if region is None or not billed_in or region.currency.code == billed_in:
        return ""
    return (
        f"Profiles in {region.name_in_text} are billed in {region.currency.code}, not {billed_in}."
    )


class CountrySelect(forms.Select):
    """The country list; each option carries what the page says once it is chosen (its
    currency warning, what its tax id is called), so the browser's script
    (static/js/billing-profile-form.js) has no table of its own."""

    warning_for = staticmethod(lambda region: "")  # the form sets it (BillingProfileForm)

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        region = REGIONS.get(str(value))
        # "Choose a country" puts the generic words back.
        option["attrs"]["data-tax-id-label"] = region.tax_id_label if region else TAX_ID
        option["attrs"]["data-tax-id-hint"] = tax_id_hint(region)
        if region is not None and (warning := self.warning_for(region)):
            option["attrs"]["data-currency-warning"] = warning
        return option


class BillingProfileForm(CleanInputMixin, forms.ModelForm):
    """A profile's contact, address and invoice settings; on creation, how it pays.

    A new profile's country starts as the tenant's, and the form warns when the one chosen is
    billed in another currency. `validate_url`, when given, makes each field check itself
    with htmx as it changes.
    """

    invoice_emails = forms.CharField(
        label="Invoice e-mail recipients",
        help_text="Who receives the invoices. Separate several addresses with commas.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    payment_method = forms.ChoiceField(
        label="Payment method",
        choices=[
            (PaymentMethod.CARD, "Card (you add it next)"),
            (PaymentMethod.CHECK_WIRE, "Check or wire transfer"),
        ],
        initial=PaymentMethod.CARD,
        widget=forms.RadioSelect,
    )

    class Meta:
        model = BillingProfile
        # Invoice e-mails are a list: the field above takes them as text.
        fields = [f for f in BillingProfile.EDITABLE_FIELDS if f != "invoice_emails"]
        labels = {"name": "Profile name"}
        help_texts = {
            "name": "How people in your organization tell this profile apart.",
            "country": "Sets the currency the profile is billed in.",
            "po_number": "Printed on every invoice, if your purchasing needs one.",
        }
        error_messages = {
            "country": {
                "invalid_choice": "We bill only in the supported countries: choose one "
                "from the list."
            }
        }
        widgets = {
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "country": CountrySelect(
                attrs={
                    "data-currency-warning-in": "country-currency-warning",
                    "data-tax-id-field": "id_tax_id",
                }
            ),
        }

    def __init__(self, *args, tenant=None, validate_url: str = "", **kwargs):
        if tenant is not None and not kwargs.get("instance"):
            kwargs["initial"] = {"country": tenant.country, **kwargs.get("initial", {})}
        super().__init__(*args, **kwargs)
        # The currency a new profile of the tenant would have, or the profile's own.
        self.billed_in = self.instance.currency or (tenant.currency if tenant else "")
        self.fields["country"].widget.warning_for = self.warning_for
        if self.instance.pk:
            del self.fields["payment_method"]  # changed on the Payment method tab
            self.initial["invoice_emails"] = ", ".join(self.instance.invoice_emails)
        # The tax id goes by the name of the country chosen, when there is one.
        region = REGIONS.get(self["country"].value() or "")
        self.fields["tax_id"].label = region.tax_id_label if region else TAX_ID
        self.fields["tax_id"].help_text = tax_id_hint(region)
        countries = [choice for choice in self.fields["country"].choices if choice[0]]
        self.fields["country"].choices = [("", "Choose a country"), *countries]
        for name, field in self.fields.items():
            if validate_url and name != "payment_method":
                field.widget.attrs.update(
                    {
                        "hx-post": validate_url,
                        "hx-trigger": "change",
                        "hx-target": "closest .field",
                        "hx-swap": "outerHTML",
                    }
                )

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if not PHONE.match(phone) or sum(c.isdigit() for c in phone) < 6:
            raise ValidationError("Enter a phone number: digits, spaces and an optional +.")
        return phone

    def clean_invoice_emails(self):
        raw = self.cleaned_data["invoice_emails"]
        emails = []
        for email in re.split(r"[,;\s]+", raw.strip()):
            if not email:
                continue
            try:
                validate_email_address(email)
            except ValidationError:
                raise ValidationError(f"{email} is not an e-mail address.") from None
            if email.lower() not in emails:
                emails.append(email.lower())
        if not emails:
            raise ValidationError("Give at least one e-mail address for invoices.")
        if len(emails) > MAX_INVOICE_EMAILS:
            raise ValidationError(f"At most {MAX_INVOICE_EMAILS} addresses.")
        return emails

    def clean(self):
        data = super().clean()
        country = data.get("country")
        if not country:
            return data
        if data.get("tax_id"):
            try:
                data["tax_id"] = validate_tax_id(country, data["tax_id"])
            except InvalidTaxId as error:
                self.add_error("tax_id", str(error))
        if country in STATE_REQUIRED and not data.get("state"):
            self.add_error("state", f"Addresses in {REGIONS[country].name} need a state.")
        if refusal := self.instance.country_refusal(country):
            self.add_error("country", refusal)
        return data

    def warning_for(self, region: Region) -> str:
        """What the page says once `region`'s country is chosen: for a profile already in
        use, that it keeps its currency (the refusal a submit would get); else that the
        currency changes, if it does."""
        if self.instance.pk and (refusal := self.instance.country_refusal(region.code)):
            return refusal
        return currency_warning(region, self.billed_in)

    @property
    def currency_warning(self) -> str:
        """The warning for the country the form shows now (the page renders it too, so it is
        there without JavaScript and after a refused submit)."""
        region = REGIONS.get(self["country"].value() or "")
        return self.warning_for(region) if region else ""

    def values(self) -> dict:
        """The edited values, as the services take them."""
        data = dict(self.cleaned_data)
        data.pop("payment_method", None)
        return data


class PaymentMethodForm(CleanInputMixin, forms.Form):
    method = forms.ChoiceField(choices=PaymentMethod.choices)


class CardConfirmForm(CleanInputMixin, forms.Form):
    setup_intent = forms.RegexField(regex=r"^seti_\w+$", max_length=255)


class RoleGrantForm(CleanInputMixin, forms.Form):
    user = forms.TypedChoiceField(label="Person", coerce=int)
    role = forms.ChoiceField(choices=ProfileRole.choices, initial=ProfileRole.INVOICE_MANAGER)

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        # Admins and billing admins own every profile already: there is nothing to grant them.
        members = (
            Membership.objects.for_tenant(tenant)
            .filter(role__in=(Role.READER, Role.MEMBER))
            .select_related("user")
        )
        self.fields["user"].choices = [
            ("", "Choose a person"),
            *((m.user_id, m.user.get_full_name() + f" ({m.user.email})") for m in members),
        ]


class InvoiceFilterForm(DateRangeMixin, forms.Form):
    """Bills & payments: invoices issued between two dates, in a status, of a profile."""

    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    status = forms.ChoiceField(required=False, label="Status")
    billing_profile = forms.ChoiceField(
        required=False, label="Billing profile", choices=[("", "All billing profiles")]
    )

    def __init__(self, *args, profiles=(), **kwargs):
        """`profiles`: the (uuid, name) pairs to choose from."""
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [
            ("", "Any status"),
            *[(value, label) for value, label in InvoiceStatus.choices if value in ISSUED],
        ]
        self.fields["billing_profile"].choices += [(str(uuid), name) for uuid, name in profiles]


class InvoiceExportForm(DateRangeMixin, forms.Form):
    """A zip of a profile's invoices issued in a period: one of the profiles the member may
    see, both dates, the end not before the start."""

    billing_profile = forms.ChoiceField(label="Billing profile")
    date_from = forms.DateField(label="Issued from", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="Issued to", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, profiles=(), **kwargs):
        """`profiles`: the (uuid, name) pairs to choose from."""
        super().__init__(*args, **kwargs)
        self.fields["billing_profile"].choices = [(str(uuid), name) for uuid, name in profiles]
        self.prefix = "export"

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and (end - start).days > 366 * 3:
            self.add_error("date_to", "Export at most three years at a time.")
        return data


class PaymentRecordForm(CleanInputMixin, forms.Form):
    """A check or wire payment received on an issued invoice, as an operator records it
    (the Django admin, and `manage.py record_payment`, which reads its options through this
    form): the invoice by its number, the amount in major units, its currency (the
    invoice's unless given), the reference and the day received (today unless given)."""

    number = forms.CharField(label="Invoice number", max_length=20, help_text="INV-YYYY-NNNNNN")
    amount = forms.CharField(label="Amount", max_length=20, help_text="For example 123.45")
    currency = forms.CharField(
        max_length=3, required=False, help_text="The invoice's currency unless you give one."
    )
    reference = forms.CharField(max_length=100, help_text="The check's number or the wire's.")
    date = forms.DateField(
        label="Received on", required=False, help_text="YYYY-MM-DD; today unless you give one."
    )

    def clean_number(self):
        number = self.cleaned_data["number"].strip().upper()
        invoice = Invoice.objects.issued().select_related("tenant").filter(number=number).first()
        if invoice is None:
            raise ValidationError(f"No issued invoice has the number {number}.")
        self.invoice = invoice
        return number

    def clean(self):
        data = super().clean()
        invoice = getattr(self, "invoice", None)
        if invoice is None or "amount" not in data:
            return data
        currency = (data.get("currency") or invoice.currency).upper()
        if currency not in CURRENCIES:
            self.add_error("currency", f"{currency} is not a currency the portal bills in.")
            return data
        data["currency"] = currency
        try:
            data["minor_amount"] = minor_amount(data["amount"], currency)
        except ValueError as error:
            self.add_error("amount", str(error))
            return data
        refusal = payment_refusal(invoice, data["minor_amount"], currency)
        if refusal:
            raise ValidationError(refusal)
        return data

    def record(self, actor):
        """The payment, recorded; ValidationError if the invoice changed since the form was
        checked (another payment recorded meanwhile)."""
        data = self.cleaned_data
        return payment_record(
            invoice=self.invoice,
            amount=data["minor_amount"],
            currency=data["currency"],
            reference=data["reference"],
            received_on=data["date"],
            actor=actor,
        )


class PayNowForm(CleanInputMixin, forms.Form):
    """Pay now: the card on file, or another card the page saved through a SetupIntent; or,
    back from 3-D Secure, the PaymentIntent the page confirmed. `key` is made when the page
    is shown, so a double submit asks Stripe once."""

    key = forms.UUIDField(widget=forms.HiddenInput)
    source = forms.ChoiceField(choices=[("saved", "The card on file"), ("new", "Another card")])
    setup_intent = forms.RegexField(regex=r"^seti_\w+$", max_length=255, required=False)
    save_card = forms.BooleanField(required=False)
    payment_intent = forms.RegexField(regex=r"^pi_\w+$", max_length=255, required=False)

    def clean(self):
        data = super().clean()
        if data.get("payment_intent"):
            return data
        if data.get("source") == "new" and not data.get("setup_intent"):
            raise ValidationError("The card form sent no card; nothing was charged.")
        return data
