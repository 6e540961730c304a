"""``option_input`` renders exactly what Django's ``BoundWidget.tag()`` renders for the radios and
checkboxes of a form, so that a page may use the fast one without changing a character."""

from __future__ import annotations

import pytest
from django import forms

from asi_wg.templatetags.platform import option_input

CHOICES = [("1", "One"), ("", "None"), ('a"<&>', "Quoted <b>"), ("0", "No view")]


class Sample(forms.Form):
    scale = forms.ChoiceField(choices=CHOICES, widget=forms.RadioSelect, required=False)
    required_scale = forms.ChoiceField(
        choices=CHOICES, widget=forms.RadioSelect, help_text="Why it matters."
    )
    many = forms.MultipleChoiceField(
        choices=CHOICES,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "tick", "data-x": 'q"'}),
        required=False,
    )
    locked = forms.ChoiceField(choices=CHOICES, widget=forms.RadioSelect, disabled=True)


@pytest.mark.parametrize(
    "form",
    [
        Sample(),
        Sample(initial={"scale": "1", "many": ["", 'a"<&>'], "locked": "0"}),
        Sample(data={"scale": "nope", "many": ["1", "0"]}),  # bound, with errors
        Sample(data={"scale": 'a"<&>', "required_scale": "1"}, prefix="p"),
    ],
    ids=["unbound", "initial", "errors", "prefixed"],
)
def test_every_option_renders_as_tag_renders_it(form: Sample) -> None:
    form.is_bound and form.is_valid()
    compared = 0
    for field in form:
        for choice in field:
            assert option_input(choice) == choice.tag()
            compared += 1
    assert compared == 4 * len(CHOICES)


def test_a_select_falls_back_to_the_widget_itself() -> None:
    class WithSelect(forms.Form):
        pick = forms.ChoiceField(choices=CHOICES)

    for choice in WithSelect()["pick"]:
        assert option_input(choice) == choice.tag()
