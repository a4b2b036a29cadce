from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.validators import EmailValidator, MaxLengthValidator
from django.forms.renderers import TemplatesSetting
from django.template.loader import render_to_string

from . import widgets
from .audit import action_words
from .models import AuditEvent, Role, User
from .tasks import send_email
from .text import EMAIL_MAX_LENGTH, normalise_text, validate_email_address


class FormRenderer(TemplatesSetting):
    """Fields render through templates/forms/field.html (`{{ field.as_field_group }}`).

    Templates render fields one by one, so the form's first visible field also renders the
    form's error summary (templates/forms/error_summary.html) just above itself.

    Django's own templates for inputs and selects are written out here in Python instead
    (`portal.widgets`), the same markup: a select draws a template per option, and the
    Marketplace's category filter alone took 1.8 ms that way.
    """

    field_template_name = "forms/field.html"

    def render(self, template_name, context, request=None):
        field = context.get("field")
        if template_name == self.field_template_name and field is not None:
            visible = field.form.visible_fields()
            first = visible[0].name if visible else None
            has_errors = any(f.errors for f in visible)
            context = {**context, "error_summary": field.name == first and has_errors}
        elif (html := widgets.render(template_name, context)) is not None:
            return html
        return super().render(template_name, context, request=request)


class CleanInputMixin:
    """Every form of the portal: text and e-mail fields follow `portal.text`'s rules.

    Text is normalised (NFC, whitespace collapsed, control characters refused with a field
    error) before the field's own checks see it, so a length limit or a "name taken" check
    is made on what will be stored. Passwords are left exactly as typed. E-mail fields take
    at most 254 characters and refuse IP-literal domains.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.EmailField):
                _email_rules(field)
            if isinstance(field, forms.CharField) and not isinstance(
                field.widget, forms.PasswordInput
            ):
                field.to_python = _normalising(
                    field.to_python, multiline=isinstance(field.widget, forms.Textarea)
                )


def _normalising(to_python, *, multiline: bool):
    def normalised(value):
        if isinstance(value, str):
            value = normalise_text(value, multiline=multiline)
        return to_python(value)

    return normalised


def _email_rules(field: forms.EmailField) -> None:
    replaced = (EmailValidator, MaxLengthValidator)  # ours says both, once
    field.validators = [
        validate_email_address,
        *(v for v in field.validators if not isinstance(v, replaced)),
    ]
    field.max_length = EMAIL_MAX_LENGTH
    field.widget.attrs["maxlength"] = str(EMAIL_MAX_LENGTH)


def login_username(request, credentials=None) -> str:
    """The login throttle's key: the e-mail as typed, lower-cased (Admin@ is admin@)."""
    source = credentials if credentials else request.POST
    return (source.get("username") or "").strip().lower()


class LoginForm(CleanInputMixin, AuthenticationForm):
    """Log in with the e-mail address (in a field still named `username`)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That e-mail address and password do not match an account.",
    }
    username = forms.EmailField(
        label="E-mail address",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )


class ResetForm(CleanInputMixin, PasswordResetForm):
    """Password reset, also for people invited who never chose a password.

    The e-mail goes out from a task, so the page answers alike whether or not the address
    has an account, and a slow mail server holds up no one.
    """

    email = forms.EmailField(
        label="E-mail address",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def get_users(self, email):
        return User.objects.filter(email__iexact=email.strip(), is_active=True)

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        subject = "".join(render_to_string(subject_template_name, context).splitlines())
        body = render_to_string(email_template_name, context)
        send_email.delay(subject, body, [to_email])


class MemberAddForm(CleanInputMixin, forms.Form):
    email = forms.EmailField(label="E-mail address")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)


class MemberRoleForm(CleanInputMixin, forms.Form):
    """One member's role, on that member's row of the members page (the form's prefix is
    the member's uuid, so a page of rows names each select apart). The page draws the rows'
    selects with `{% role_select member %}`, which names them as this form reads them."""

    role = forms.ChoiceField(choices=Role.choices)

    @classmethod
    def for_member(cls, membership, data=None):
        return cls(data, initial={"role": membership.role}, prefix=str(membership.uuid))

    @staticmethod
    def field_name(membership) -> str:
        return f"{membership.uuid}-role"


class DateRangeMixin:
    """A form with `date_from` and `date_to`: the end is not before the start."""

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data


class AuditFilterForm(DateRangeMixin, CleanInputMixin, forms.Form):
    actor = forms.CharField(required=False, label="Actor", max_length=EMAIL_MAX_LENGTH)
    verb = forms.ChoiceField(required=False, label="Action")
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        verbs = (
            AuditEvent.objects.for_tenant(tenant)
            .order_by("verb")
            .values_list("verb", flat=True)
            .distinct()
        )
        actions = sorted(((v, action_words(v)) for v in verbs), key=lambda choice: choice[1])
        self.fields["verb"].choices = [("", "All actions"), *actions]
