"""The labels of a model field's choices, made text once for a page of rows.

A model's ``get_FOO_display()`` rebuilds the field's choices as a dict on every call, hashing
each lazily translated label (a translation lookup each): on a list of a hundred rows it costs
more than the rest of the row. Look the labels up once per page instead.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Model


class Labels(dict[Any, str]):
    """A choice field's labels by value; an unknown value shows as itself and None as "" (as
    ``get_FOO_display`` does)."""

    def __missing__(self, value: Any) -> str:
        return "" if value is None else str(value)


def choice_labels(model: type[Model], field_name: str) -> Labels:
    """The labels of ``model.field_name``'s choices in the active language."""
    field = model._meta.get_field(field_name)
    return Labels({value: str(label) for value, label in field.flatchoices})  # type: ignore[union-attr]


def form_choices(form_class: type[forms.Form], field_name: str) -> list[tuple[Any, str]]:
    """A form field's choices with their labels made text once, for a page that lists them in
    every row's form (a lazy label is translated again at each rendering)."""
    field = form_class.base_fields[field_name]
    return [(value, str(label)) for value, label in field.choices]  # type: ignore[attr-defined]
