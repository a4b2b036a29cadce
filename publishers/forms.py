from django import forms

from portal.forms import CleanInputMixin

from .models import Category, MarketplaceSort, PricingModel


class MarketplaceFilterForm(CleanInputMixin, forms.Form):
    q = forms.CharField(
        required=False,
        max_length=100,
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "App or publisher name"}),
    )
    category = forms.ChoiceField(
        required=False, choices=[("", "All categories"), *Category.choices]
    )
    pricing = forms.ChoiceField(
        required=False, label="Pricing", choices=[("", "Any pricing"), *PricingModel.choices]
    )
    sort = forms.ChoiceField(required=False, label="Sort by", choices=MarketplaceSort.choices)

    def clean_sort(self):
        return self.cleaned_data["sort"] or MarketplaceSort.NAME
