from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from groups.models import ExtensionAnswer


class DateInput(forms.DateInput):
    input_type = "date"


class ExtensionProposeForm(forms.Form):
    need = forms.CharField(
        label=_("Why a further phase is needed"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
    )
    name = forms.CharField(label=_("Name of the new phase"), max_length=120, initial="Phase 2")
    starts_on = forms.DateField(label=_("Starts on"), widget=DateInput)
    ends_on = forms.DateField(label=_("Ends on"), widget=DateInput)
    meetings_min = forms.IntegerField(label=_("Fewest meetings"), min_value=1, max_value=50)
    meetings_max = forms.IntegerField(label=_("Most meetings"), min_value=1, max_value=50)
    answers_due_on = forms.DateField(label=_("Participants answer by"), widget=DateInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", _("The phase ends on or after the day it starts."))
        if (
            data.get("meetings_min")
            and data.get("meetings_max")
            and data["meetings_max"] < data["meetings_min"]
        ):
            self.add_error("meetings_max", _("The most meetings is at least the fewest."))
        return data


class ExtensionAnswerForm(forms.Form):
    answer = forms.ChoiceField(
        label=_("Do you agree to continue into this phase?"),
        choices=ExtensionAnswer.Answer.choices,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ExtensionDecideForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Extend the group")), ("reject", _("Do not extend"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note for the record"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
