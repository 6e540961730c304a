"""Forms of the secretariat's feedback screens. They parse and validate; the services decide."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from feedback import selectors
from feedback.models import Answer, Disposition
from groups.models import RevisionObjective, WorkingGroup

ANY = ("", _("Any"))
RATINGS = [("", _("Any")), *((str(value), str(label)) for value, label in Answer.SCALE)]


class TriageFilterForm(forms.Form):
    """The triage's filters, read from the GET parameters. A value that is not one of the
    choices is reported and that filter alone is left out."""

    type = forms.ChoiceField(
        label=_("Type of comment"),
        required=False,
        choices=[ANY, *Answer.CommentType.choices],
    )
    group = forms.TypedChoiceField(
        label=_("Author's group"), required=False, coerce=int, empty_value=None
    )
    objective = forms.TypedChoiceField(
        label=_("Objective tag"), required=False, coerce=int, empty_value=None
    )
    scale = forms.ChoiceField(
        label=_("Rating"),
        required=False,
        choices=[
            ("", _("Any rating")),
            ("relevance", _("Relevance")),
            ("clarity", _("Clarity")),
            ("feasibility", _("Feasibility of implementation")),
        ],
    )
    min = forms.TypedChoiceField(
        label=_("From"), required=False, coerce=int, choices=RATINGS, empty_value=None
    )
    max = forms.TypedChoiceField(
        label=_("To"), required=False, coerce=int, choices=RATINGS, empty_value=None
    )
    referral = forms.ChoiceField(
        label=_("Referral"),
        required=False,
        choices=[
            ANY,
            (selectors.REFERRAL_ELSEWHERE, _("Referred to another group")),
            (selectors.REFERRAL_HERE, _("Referred here from another group")),
            (selectors.REFERRAL_NONE, _("Not referred")),
        ],
    )
    disposition = forms.ChoiceField(
        label=_("Disposition"),
        required=False,
        choices=[
            ANY,
            (selectors.DISPOSITION_NONE, _("None yet")),
            *Disposition.Status.choices,
            (selectors.DISPOSITION_UNPUBLISHED, _("Any, not published")),
            (selectors.DISPOSITION_PUBLISHED, _("Published")),
        ],
    )
    state = forms.ChoiceField(
        label=_("Draft or submitted"),
        required=False,
        choices=[
            ANY,
            (selectors.STATE_SUBMITTED, _("Submitted")),
            (selectors.STATE_DRAFT, _("Draft (not submitted)")),
        ],
    )

    def __init__(
        self,
        *args: Any,
        groups: list[WorkingGroup],
        objectives: list[RevisionObjective],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        group_field: Any = self.fields["group"]
        group_field.choices = [ANY, *((str(g.pk), g.name) for g in groups)]
        objective_field: Any = self.fields["objective"]
        objective_field.choices = [ANY, *((str(o.pk), str(o)) for o in objectives)]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        low, high = cleaned.get("min"), cleaned.get("max")
        if (low is not None or high is not None) and not cleaned.get("scale"):
            self.add_error("scale", _("Choose which rating the range is about."))
        elif low is not None and high is not None and low > high:
            self.add_error("max", _("The end of the range is below its start."))
        return cleaned

    def filters(self) -> selectors.TriageFilters:
        """The filters that are valid (all of them when the form is)."""
        self.is_valid()
        data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
        ranged = "scale" not in self.errors and "max" not in self.errors
        return selectors.TriageFilters(
            comment_type=data.get("type") or "",
            group=data.get("group"),
            objective=data.get("objective"),
            scale=(data.get("scale") or "") if ranged else "",
            rating_min=data.get("min") if ranged else None,
            rating_max=data.get("max") if ranged else None,
            referral=data.get("referral") or "",
            disposition=data.get("disposition") or "",
            state=data.get("state") or "",
        )

    @property
    def active(self) -> bool:
        return any(self.data.get(name) for name in self.fields)


class DispositionForm(forms.Form):
    """One disposition for one or several ticked comments."""

    answers = forms.CharField(required=False)  # parsed by the view from the list it was sent
    status = forms.ChoiceField(
        label=_("Disposition"),
        choices=[("", _("Choose…")), *Disposition.Status.choices],
        error_messages={
            "required": _("Choose a disposition."),
            "invalid_choice": _("Choose one of the dispositions offered."),
        },
    )
    response = forms.CharField(
        label=_("Response to the commenter"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ExtendForm(forms.Form):
    """A new closing time, entered in the staff member's own zone."""

    closes_at = forms.DateTimeField(
        label=_("New closing time"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        error_messages={
            "required": _("Choose the new closing date and time."),
            "invalid": _("Enter a date and time such as 2026-05-30 17:00."),
        },
    )

    def __init__(self, *args: Any, zone: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone
        self.fields["closes_at"].help_text = _("In your time zone, %(zone)s.") % {"zone": zone}

    def full_clean(self) -> None:
        # A time typed without a zone means the staff member's own zone (Django reads it in
        # the current one); a time that does not exist there (a DST gap) is an error.
        with timezone.override(zoneinfo.ZoneInfo(self.zone)):
            super().full_clean()


class SynopsisForm(forms.Form):
    """The introduction of a round's public synopsis, and whether to save it or publish."""

    intro = forms.CharField(
        label=_("Introduction"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "Shown above the comments: the purpose of the consultation and what happens next. "
            "Markdown: paragraphs, lists, links, emphasis."
        ),
    )
    action = forms.ChoiceField(choices=[("save", _("Save")), ("publish", _("Publish"))])
