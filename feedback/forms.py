"""The participant's answer form: one criterion, only the questions the round asks, every choice
from the tenant's own lists (a framework, objective or group of another tenant is "not one of
the available choices")."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import ModelChoiceIterator
from django.utils.translation import gettext_lazy as _

from feedback.models import Answer, FeedbackRound, Framework
from feedback.participant_selectors import answer_choices, referral_groups
from feedback.services import MANY_TO_MANY, QUESTION_FIELDS, answer_content
from groups.models import RevisionObjective, WorkingGroup

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

# The scale as the form shows it: 1 to 5, then "No view" last (the stored value is 0).
SCALE_CHOICES = [(str(value), label) for value, label in Answer.SCALE if value] + [
    (str(Answer.NO_VIEW), _("No view"))
]
TEXT_LIMIT = 10_000


class _ListedIterator(ModelChoiceIterator):
    """The choices from the rows the form read once, instead of a query per rendering."""

    def __iter__(self) -> Iterator[Any]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for row in self._rows():
            yield self.choice(row)

    def __len__(self) -> int:
        return len(self._rows()) + (self.field.empty_label is not None)

    def _rows(self) -> list[Any]:
        return cast(list[Any], getattr(self.field, "rows", []))


class _Listed:
    """A model choice field over a list read once: rendering, validating and naming the chosen
    rows cost that one query. The list is read when first needed (``set_loader``): an autosave
    that sends no choice for the field does not read it at all."""

    iterator: Any = _ListedIterator
    _rows: list[Any] | None = None
    _by_key: dict[str, Any]
    _load: Callable[[], tuple[Any, list[Any]]] | None = None

    def set_rows(self, queryset: Any, rows: list[Any] | None = None) -> None:
        """The choices: ``rows`` when given (read earlier, or cached), else ``queryset``'s."""
        self._rows = list(queryset) if rows is None else rows
        self.queryset = queryset  # type: ignore[attr-defined]
        self._by_key = {str(row.pk): row for row in self._rows}

    def set_loader(self, load: Callable[[], tuple[Any, list[Any]]]) -> None:
        """The choices, as ``set_rows`` takes them, from ``load()`` when first needed."""
        self._rows, self._load = None, load

    @property
    def rows(self) -> list[Any]:
        if self._rows is None:
            if self._load is None:
                self.set_rows(self.queryset)  # type: ignore[attr-defined]
            else:
                self.set_rows(*self._load())
        assert self._rows is not None
        return self._rows

    @property
    def by_key(self) -> dict[str, Any]:
        self.rows  # noqa: B018 (read them)
        return self._by_key

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        # Django's copy clones the (empty) queryset for each form; the rows are the form's own.
        result = forms.Field.__deepcopy__(self, memo)  # type: ignore[attr-defined]
        result.widget.choices = result.choices  # an iterator of its own (Django's #11183)
        return result

    def _row(self, value: Any) -> Any:
        row = self.by_key.get(str(value))
        if row is None:
            raise ValidationError(
                self.error_messages["invalid_choice"],  # type: ignore[attr-defined]
                code="invalid_choice",
                params={"value": value},
            )
        return row


class _FixedChoices:
    """Choices no form changes: each form's copy of the field shares them. Django copies them
    deeply for every form, which was most of the cost of making one. A form may give its copy
    other choices (``field.choices = ...``, a list of its own), never change the shared list in
    place."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return forms.Field.__deepcopy__(self, memo)  # type: ignore[attr-defined]


class FixedChoiceField(_FixedChoices, forms.ChoiceField):
    pass


class FixedTypedChoiceField(_FixedChoices, forms.TypedChoiceField):
    pass


class ListedMultipleChoiceField(_Listed, forms.ModelMultipleChoiceField):
    def clean(self, value: Any) -> Any:
        if not value and not self.required:
            return []  # not the field's ``queryset.none()``, which costs a query's building
        return super().clean(value)

    def _check_values(self, value: Any) -> Any:
        return [self._row(item) for item in value]


class ListedChoiceField(_Listed, forms.ModelChoiceField):
    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        return self._row(value)


def _scale(label: str | _StrPromise, help_text: str | _StrPromise) -> forms.TypedChoiceField:
    return FixedTypedChoiceField(
        label=label,
        help_text=help_text,
        choices=SCALE_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )


def _text(
    label: str | _StrPromise, help_text: str | _StrPromise = "", rows: int = 4
) -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=help_text,
        required=False,
        max_length=TEXT_LIMIT,
        strip=False,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class AnswerForm(forms.Form):
    relevance = _scale(_("Relevance"), _("Does the criterion address what matters?"))
    clarity = _scale(_("Clarity"), _("Is it clear what the criterion asks?"))
    feasibility = _scale(
        _("Feasibility of implementation"), _("Can it be implemented across the value chain?")
    )
    comment = _text(_("Comment"))
    proposed_change = _text(_("Proposed change"), _("The wording you would use instead."))
    comment_type = FixedChoiceField(
        label=_("Type of comment"),
        choices=Answer.CommentType.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    frameworks = ListedMultipleChoiceField(
        label=_("Alignment or gaps against other frameworks"),
        help_text=_("The frameworks your comment relates to."),
        queryset=Framework.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    risks_opportunities = _text(
        _("Risks and opportunities"),
        _("Broader perspectives, longer-term risks and opportunities."),
    )
    objectives = ListedMultipleChoiceField(
        label=_("Revision objectives"),
        help_text=_("The objectives of the revision your comment bears on."),
        queryset=RevisionObjective.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    referred_to = ListedChoiceField(
        label=_("Refer this point to another working group"),
        help_text=_("For a cross-cutting point that another group should also consider."),
        queryset=WorkingGroup.objects.none(),
        required=False,
        empty_label=_("No referral"),
    )
    version = forms.IntegerField(
        min_value=0,
        widget=forms.HiddenInput,
        error_messages={
            "required": _("This page is out of date: reload it and try again."),
            "invalid": _("This page is out of date: reload it and try again."),
            "min_value": _("This page is out of date: reload it and try again."),
        },
    )

    def __init__(self, *args: Any, round: FeedbackRound, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.round = round
        organisation_id = round.organisation_id
        asked = {name for key in round.questions for name in QUESTION_FIELDS.get(key, ())}
        for name in list(self.fields):
            if name != "version" and name not in asked:
                del self.fields[name]
        # The tenant's lists, read (from the cache) when a field first needs them: validating a
        # choice, rendering the field, naming a choice.
        choices = functools.cache(lambda: answer_choices(round))
        loaders: dict[str, Callable[[], tuple[Any, list[Any]]]] = {
            "frameworks": lambda: (
                Framework.objects.filter(organisation_id=organisation_id),
                choices().frameworks,
            ),
            "objectives": lambda: (
                RevisionObjective.objects.filter(organisation_id=organisation_id),
                choices().objectives,
            ),
            "referred_to": lambda: (
                referral_groups(round),
                choices().referral_groups(round),
            ),
        }
        for name, load in loaders.items():
            field = self.fields.get(name)
            if field is not None:
                assert isinstance(field, _Listed)
                field.set_loader(load)

    def label_of(self, name: str, pk: Any) -> str:
        field = self.fields.get(name)
        row = field.by_key.get(str(pk)) if isinstance(field, _Listed) else None
        return str(row) if row is not None else "?"

    @property
    def question_fields(self) -> list[str]:
        return [name for name in self.fields if name != "version"]

    def data_for_service(self) -> dict[str, Any]:
        """The cleaned answers in the shape ``feedback.services.answer_save`` takes."""
        data: dict[str, Any] = {}
        for name in self.question_fields:
            value = self.cleaned_data.get(name)
            if name in MANY_TO_MANY:
                value = list(value or [])
            elif name in ("comment", "proposed_change", "risks_opportunities", "comment_type"):
                value = value or ""
            data[name] = value
        return data

    def typed_content(self) -> dict[str, Any]:
        """What the person typed (a valid form), in the shape of ``services.answer_content``."""
        content: dict[str, Any] = {}
        for name, value in self.data_for_service().items():
            if name in MANY_TO_MANY:
                content[name] = [item.pk for item in value]
            elif name == "referred_to":
                content[name] = value.pk if value is not None else None
            else:
                content[name] = value
        return content

    @staticmethod
    def initial_from(answer: Answer | None) -> dict[str, Any]:
        if answer is None:
            return {"version": 0}
        initial = _content_as_initial(answer_content_cheap(answer))
        initial["version"] = answer.version
        return initial

    def describe(self, content: dict[str, Any]) -> list[tuple[str, str]]:
        """An answer's content as (question, text) rows for the page: the saved version beside a
        conflict, the read-only answers after the round closes."""
        rows: list[tuple[str, str]] = []
        scale = dict(SCALE_CHOICES)
        for name in self.question_fields:
            value = content.get(name)
            label = str(self.fields[name].label)
            if name in Answer.SCALES:
                text = "" if value is None else str(scale.get(str(value), value))
            elif name == "comment_type":
                text = str(Answer.CommentType(value).label) if value else ""
            elif name in MANY_TO_MANY:
                text = ", ".join(self.label_of(name, pk) for pk in value or [])
            elif name == "referred_to":
                text = self.label_of(name, value) if value else ""
            else:
                text = value or ""
            rows.append((label, text))
        return rows


class _SharedFields(dict[str, forms.Field]):
    """Declared fields that Django's deep copy for each form copies only in part: the lists
    (``_Listed``: each form loads its tenant's rows into its own copy) are copied, the others
    are shared between the forms."""

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, forms.Field]:
        return {
            name: copy.deepcopy(field, memo) if isinstance(field, _Listed) else field
            for name, field in self.items()
        }


class SavingAnswerForm(AnswerForm):
    """The ``AnswerForm`` an autosave validates and never renders. Its fields are shared with
    the other saving forms, but for the tenant's lists (``_SharedFields``): copying the eleven
    of them for each save was a tenth of an autosave's time. Validating reads a field and never
    changes it; code that would change one (its choices, its widget) uses ``AnswerForm``,
    whose forms each have copies of their own."""


SavingAnswerForm.base_fields = _SharedFields(SavingAnswerForm.base_fields)


def answer_content_cheap(answer: Answer) -> dict[str, Any]:
    """``services.answer_content`` from the answer's prefetched frameworks and objectives."""
    content: dict[str, Any] = {}
    prefetched = getattr(answer, "_prefetched_objects_cache", {})
    for name in QUESTION_FIELDS_ALL:
        if name in MANY_TO_MANY:
            if name in prefetched:
                content[name] = sorted(item.pk for item in getattr(answer, name).all())
            else:
                content[name] = answer_content(answer)[name]
        elif name == "referred_to":
            content[name] = answer.referred_to_id
        else:
            content[name] = getattr(answer, name)
    return content


QUESTION_FIELDS_ALL = tuple(name for fields in QUESTION_FIELDS.values() for name in fields)


def _content_as_initial(content: dict[str, Any]) -> dict[str, Any]:
    initial = dict(content)
    for name in Answer.SCALES:
        if initial.get(name) is not None:
            initial[name] = str(initial[name])
    return initial
