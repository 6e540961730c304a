"""Forms of the participant's meeting page: apologies and interpretation."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from meetings.models import Meeting, language_name


class ApologyForm(forms.Form):
    note = forms.CharField(
        label=_("Note to the secretariat"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class InterpretationForm(forms.Form):
    language = forms.ChoiceField(label=_("Interpretation into"))

    def __init__(self, *args: Any, meeting: Meeting, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["language"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(code, language_name(code)) for code in meeting.interpretation_languages]
