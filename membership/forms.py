"""Forms of the participant pages: profile, application, antitrust acknowledgement, erasure."""

from __future__ import annotations

import functools
import zoneinfo
from typing import Any

from allauth.core import ratelimit
from django import forms
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from asi_wg.models import Organisation, User
from groups.models import FocusArea, WorkingGroup
from membership import selectors
from membership.models import Member, ParticipantProfile

Affiliation = ParticipantProfile.Affiliation


@functools.cache
def time_zone_choices() -> list[tuple[str, str]]:
    zones = sorted(zone for zone in zoneinfo.available_timezones() if "/" in zone)
    return [("UTC", "UTC"), *((zone, zone.replace("_", " ")) for zone in zones)]


class MemberChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Member) -> str:
        return f"{obj.name} ({obj.country.name})" if obj.country else obj.name


class ProfileForm(forms.Form):
    """Whom the person represents and what they bring; name and time zone are on the account,
    the same in every organisation."""

    full_name = forms.CharField(
        label=_("Your name"),
        max_length=200,
        help_text=_("The secretariat sees it; it is published only with your consent below."),
    )
    affiliation = forms.ChoiceField(
        label=_("You take part as"), choices=Affiliation.choices, widget=forms.RadioSelect
    )
    member = MemberChoiceField(
        label=_("Member you represent"),
        queryset=Member.objects.none(),
        required=False,
        empty_label=_("Choose a Member"),
        help_text=_("Only current Members are listed."),
    )
    expert_organisation = forms.CharField(
        label=_("Your organisation (for technical experts)"), max_length=200, required=False
    )
    job_title = forms.CharField(label=_("Role or job title"), max_length=200, required=False)
    country = forms.ChoiceField(label=_("Country where you work"))
    time_zone = forms.ChoiceField(
        label=_("Your time zone"),
        help_text=_("Meeting times and deadlines are shown to you in this zone, everywhere."),
    )
    languages = forms.CharField(
        label=_("Languages you work in"),
        max_length=200,
        required=False,
        help_text=_("For example: English, Spanish."),
    )
    interpretation_needs = forms.CharField(
        label=_("Interpretation you need"),
        max_length=200,
        required=False,
        help_text=_(
            "Meetings are mostly in English; interpretation may be available on request. "
            "Leave empty if you follow meetings in English."
        ),
    )
    expertise = forms.CharField(
        label=_("Your expertise"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What you know of the topics of the groups: the secretariat selects on it."),
    )
    name_consent = forms.BooleanField(
        label=_("My name may be published"),
        required=False,
        help_text=_(
            "Public pages and committee material show your organisation or stakeholder category. "
            "Tick this only if your name may be shown with it. You can change your mind at any "
            "time; the date of your choice is kept."
        ),
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        member_field = self.fields["member"]
        assert isinstance(member_field, MemberChoiceField)
        member_field.queryset = selectors.current_members(organisation=organisation)
        country_field = self.fields["country"]
        assert isinstance(country_field, forms.ChoiceField)
        country_field.choices = [("", _("Choose a country")), *countries]
        zone_field = self.fields["time_zone"]
        assert isinstance(zone_field, forms.ChoiceField)
        zone_field.choices = time_zone_choices()

    @classmethod
    def initial_for(cls, *, user: User, profile: ParticipantProfile | None) -> dict[str, Any]:
        initial: dict[str, Any] = {"full_name": user.full_name, "time_zone": user.time_zone}
        if profile is not None:
            initial.update(
                affiliation=profile.affiliation,
                member=profile.member_id,
                expert_organisation=profile.expert_organisation,
                job_title=profile.job_title,
                country=str(profile.country) if profile.country else "",
                languages=profile.languages,
                interpretation_needs=profile.interpretation_needs,
                expertise=profile.expertise,
                name_consent=profile.name_consent,
            )
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        affiliation = data.get("affiliation")
        if affiliation == Affiliation.MEMBER and not data.get("member"):
            self.add_error("member", _("Choose the Member you represent."))
        if affiliation == Affiliation.EXPERT and not data.get("expert_organisation", "").strip():
            self.add_error(
                "expert_organisation", _("Name the organisation you work for, or “independent”.")
            )
        return data

    def profile_data(self) -> dict[str, Any]:
        """The profile's fields, as ``services.profile_save`` takes them."""
        data = self.cleaned_data
        is_member = data["affiliation"] == Affiliation.MEMBER
        is_expert = data["affiliation"] == Affiliation.EXPERT
        return {
            "affiliation": data["affiliation"],
            "member": data["member"] if is_member else None,
            "expert_organisation": data["expert_organisation"].strip() if is_expert else "",
            "job_title": data["job_title"].strip(),
            "country": data["country"],
            "languages": data["languages"].strip(),
            "interpretation_needs": data["interpretation_needs"].strip(),
            "expertise": data["expertise"].strip(),
            "name_consent": data["name_consent"],
        }


class ApplicationForm(forms.Form):
    focus_areas: forms.ModelMultipleChoiceField[FocusArea] = forms.ModelMultipleChoiceField(
        label=_("The focus areas your expertise covers"),
        queryset=FocusArea.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one focus area."),
            "invalid_choice": _("Choose focus areas of this group."),
            "invalid_pk_value": _("Choose focus areas of this group."),
        },
    )
    statement = forms.CharField(
        label=_("Your statement"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "A few lines on the expertise and perspective you would bring to this group "
            "(at most 4,000 characters)."
        ),
        error_messages={"required": _("Write a few lines on what you would bring to the group.")},
    )

    def __init__(
        self, *args: Any, group: WorkingGroup, areas: list[FocusArea], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.areas = areas
        field = self.fields["focus_areas"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = FocusArea.objects.filter(group=group)
        # A group without focus areas takes applications all the same.
        field.required = bool(areas)

    @property
    def selected_ids(self) -> set[str]:
        value = self["focus_areas"].value() or []
        return {str(pk) for pk in value}


class AntitrustAcknowledgeForm(forms.Form):
    """Names the version the person read, so that a version published meanwhile is not taken
    as acknowledged by a click on the old text."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class EraseForm(forms.Form):
    """Erasure needs the person's password, and guessing it is limited like signing in:
    allauth's ``login_failed`` rate (``ACCOUNT_RATE_LIMITS``: 5 per 5 minutes for this account,
    20 per 5 minutes from one address, the address's count shared with sign-in). Past the
    limit the password is not checked at all, so a right guess cannot be told from a wrong one.
    """

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    understood = forms.BooleanField(
        label=_("I understand that this erases my account everywhere and cannot be undone."),
        error_messages={"required": _("Tick the box to confirm that you understand.")},
    )

    def __init__(self, *args: Any, user: User, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.request = request

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password = cleaned.get("password")
        if password is None or not cleaned.get("understood"):
            return cleaned  # nothing to check yet: no attempt is counted
        # Counted before the check, as allauth counts sign-ins, so that parallel guesses cannot
        # all pass; a right password erases the account, so it need not be given back.
        key = f"person-erase:{self.user.pk}"
        if not ratelimit.consume(self.request, action="login_failed", key=key):
            self.add_error(
                "password",
                _("Too many wrong passwords. Wait a few minutes, then try again."),
            )
        elif not self.user.check_password(password):
            self.add_error("password", _("That is not your password."))
        return cleaned
