from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.forms.renderers import TemplatesSetting
from django.template.loader import render_to_string

from .audit import action_words
from .models import AuditEvent, Role, User
from .tasks import send_email


class FormRenderer(TemplatesSetting):
    """Fields render through templates/forms/field.html (`{{ field.as_field_group }}`)."""

    field_template_name = "forms/field.html"


def login_username(request, credentials=None) -> str:
    """The login throttle's key: the e-mail as typed, lower-cased (Admin@ is admin@)."""
    source = credentials if credentials else request.POST
    return (source.get("username") or "").strip().lower()


class LoginForm(AuthenticationForm):
    """Log in with the e-mail address (in a field still named `username`)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That e-mail address and password do not match an account.",
    }
    username = forms.EmailField(
        label="E-mail address",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )


class ResetForm(PasswordResetForm):
    """Password reset, also for people invited who never chose a password.

    The e-mail goes out from a task, so the page answers alike whether or not the address
    has an account, and a slow mail server holds up no one.
    """

    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
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


class MemberAddForm(forms.Form):
    email = forms.EmailField(label="E-mail address", max_length=254)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, label="Actor", max_length=254)
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

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data
