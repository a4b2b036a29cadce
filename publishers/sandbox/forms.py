"""What the sandbox publisher's pages post: one change to one subscription, checked only as
far as it must be to make the API call (the API says the rest), and how its webhook receiver
answers."""

from django import forms

from .models import Answer


class ChangeForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("plan", "Change plan"), ("quantity", "Change quantity"), ("cancel", "Cancel")]
    )
    subscription = forms.UUIDField()
    plan = forms.CharField(required=False, max_length=50)
    quantity = forms.IntegerField(required=False)

    def clean(self):
        data = super().clean()
        if data.get("action") == "plan" and not data.get("plan"):
            self.add_error("plan", "Choose the new plan.")
        if data.get("action") == "quantity" and data.get("quantity") is None:
            self.add_error("quantity", "Enter the new number of licenses.")
        return data

    def refusal(self) -> str:
        """What is wrong, in one sentence for the page."""
        if "subscription" in self.errors or "action" in self.errors:
            return "That is not a change this page makes."
        return " ".join(message for messages in self.errors.values() for message in messages)


class AnswerForm(forms.Form):
    """The switch on the webhooks page: how the receiver answers a change it is asked about."""

    answer = forms.ChoiceField(choices=Answer.choices, widget=forms.RadioSelect)
