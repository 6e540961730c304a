"""Forms of the secretariat's selection workbench. Each parses and validates; the services decide.

``BulkActionForm.apply`` orders the chosen applications as the proposed slate does and hands
them to ``services.applications_bulk_decide`` (one transaction per application).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from asi_wg.models import User
from asi_wg.parsing import is_id
from membership import services
from membership.models import Application, Seat
from membership.selection import verification
from membership.selection.workbench import Workbench

SEAT = services.BULK_SEAT
WAITLIST = services.BULK_WAITLIST
DECLINE = services.BULK_DECLINE


def person(application: Application) -> str:
    """How the workbench names an applicant: their name, and the Member they represent."""
    name = application.applicant.full_name or application.applicant.email
    member = application.profile.member
    return f"{name} ({member.name})" if member is not None else name


class BulkActionForm(forms.Form):
    """Seat, wait-list or decline the ticked applicants of one group."""

    applications: forms.ModelMultipleChoiceField[Application] = forms.ModelMultipleChoiceField(
        queryset=Application.objects.none(),
        label=gettext_lazy("Applicants"),
        error_messages={
            "required": gettext_lazy("Tick at least one applicant."),
            "invalid_choice": gettext_lazy(
                "One or more of the chosen applications are not open to selection in this "
                "group. Nothing was changed."
            ),
            "invalid_pk_value": gettext_lazy(
                "One or more of the chosen applications are not open to selection in this "
                "group. Nothing was changed."
            ),
        },
    )
    action = forms.ChoiceField(
        label=gettext_lazy("Action"),
        widget=forms.RadioSelect,
        choices=[
            (SEAT, gettext_lazy("Seat")),
            (WAITLIST, gettext_lazy("Put on the waiting list")),
            (DECLINE, gettext_lazy("Decline (not selected)")),
        ],
        error_messages={"required": gettext_lazy("Choose what to do with them.")},
    )
    override_reason = forms.CharField(
        label=gettext_lazy("Reason for an override"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Needed when seating someone breaks the one-per-Member rule or the per-Member group "
            "limit. It is recorded on each seat that needs it."
        ),
    )
    decline_reason = forms.CharField(
        label=gettext_lazy("Note on a decline"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Kept in the audit trail."),
    )

    def __init__(self, *args: Any, workbench: Workbench, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.workbench = workbench
        field = self.fields["applications"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        # Only this group's applications that staff can still act on: an id of another group or
        # another tenant (the manager is scoped) is an invalid choice, and nothing is done.
        field.queryset = Application.objects.filter(
            group=workbench.group, status__in=Application.ACTIONABLE
        ).select_related("applicant", "profile__member")

    def selected_ids(self) -> set[int]:
        """The ticked ids as sent (for re-showing the form); only valid ones after cleaning."""
        if hasattr(self, "cleaned_data") and "applications" in self.cleaned_data:
            return {a.pk for a in self.cleaned_data["applications"]}
        values = self.data.getlist("applications") if hasattr(self.data, "getlist") else []
        return {int(v) for v in values if is_id(v)}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        chosen = cleaned.get("applications")
        if cleaned.get("action") != SEAT or not chosen:
            return cleaned
        data, slate = self.workbench.data, self.workbench.slate
        order = verification.seating_order(data, slate, [a.pk for a in chosen])
        needed = verification.overrides_needed(data, order)
        if needed and not cleaned.get("override_reason", "").strip():
            by_id = {a.pk: a for a in chosen}
            names = "; ".join(
                f"{person(by_id[pk])}: {' '.join(c.message for c in checks)}"
                for pk, checks in needed.items()
            )
            self.add_error(
                "override_reason",
                _("Seating them needs an override, so give a written reason. %(who)s")
                % {"who": names},
            )
        return cleaned

    def apply(self, *, acting_user: User) -> list[services.BulkOutcome]:
        """Hand the chosen applications to the service, in the proposed slate's order."""
        chosen = {a.pk: a for a in self.cleaned_data["applications"]}
        order = verification.seating_order(self.workbench.data, self.workbench.slate, list(chosen))
        return services.applications_bulk_decide(
            applications=[chosen[pk] for pk in order],
            action=self.cleaned_data["action"],
            acting_user=acting_user,
            override_reason=self.cleaned_data["override_reason"],
            decline_reason=self.cleaned_data["decline_reason"],
        )


class ReorderForm(forms.Form):
    """A new waiting-list priority for one applicant, and why (kept in the audit trail)."""

    priority = forms.IntegerField(
        label=gettext_lazy("Priority"),
        min_value=-999,
        max_value=999,
        help_text=gettext_lazy("Higher first; equal priorities wait in the order they applied."),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=500,
        error_messages={"required": gettext_lazy("Say why the waiting-list order changes.")},
    )


class SeatEndForm(forms.Form):
    """End a seat: why, and a note (needed for "other")."""

    reason = forms.ChoiceField(
        label=gettext_lazy("Why the seat ends"),
        # Erasure ends seats through the data-erasure process, not from here.
        choices=[(v, label) for v, label in Seat.EndReason.choices if v != Seat.EndReason.ERASED],
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("reason") == Seat.EndReason.OTHER and not cleaned.get("note", "").strip():
            self.add_error("note", _("Say why the seat ends."))
        return cleaned


class SeatCapForm(forms.Form):
    seat_cap = forms.IntegerField(
        label=gettext_lazy("Seat cap"),
        min_value=1,
        max_value=500,
        help_text=gettext_lazy("At most this many participants hold a seat or an offer at once."),
    )


def form_errors(form: forms.Form) -> str:
    """A form's errors as one sentence, for a message on the page it returns to."""
    return " ".join(str(error) for errors in form.errors.values() for error in errors)
