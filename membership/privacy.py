"""A person's own data: their details, the copy of everything we hold on them, and erasure.

The account (``User``) is global: one login for every organisation on the platform. So the export
covers every organisation the person has taken part in, and erasure anonymises the account
everywhere, while each organisation keeps its records (applications, seats, acknowledgements)
so that its counts and its audit trail stay consistent.

What counts as the person's data is declared once, in ``membership.personal_data``: the text
fields of their own rows, the organisation's texts that may name them, and the free-text keys
of audit entries. The export and erasure both walk those declarations, so whatever one covers
the other covers too. A later app (meetings, feedback) adds its own models there from its
``AppConfig.ready()`` (see that module), and both the export and erasure then include them.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Cast
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from asi_wg.audit import audit_record
from asi_wg.models import AuditEntry, Organisation, User, validate_time_zone
from groups.models import ExtensionAnswer
from membership import services
from membership.models import AntitrustAcknowledgement, Application, ParticipantProfile, Seat
from membership.personal_data import (
    ERASED_LABEL,
    PersonalData,
    audit_text_keys,
    declaration_for,
    declarations,
    owned_declarations,
)

CONSENT_ACTION = "profile.consent"  # written by services.profile_save


# --- Details ----------------------------------------------------------------------------------


@transaction.atomic
def person_profile_save(
    *,
    organisation: Organisation,
    user: User,
    full_name: str,
    time_zone: str,
    data: dict[str, Any],
) -> ParticipantProfile:
    """Save the person's profile in this organisation and their name and time zone (global).

    Writes the profile through ``services.profile_save`` (which dates a consent change and
    audits the fields changed, with a ``profile.consent`` entry whenever consent is given or
    withdrawn), then the account fields with a ``person.update`` entry. Raises
    ``ValidationError`` for invalid data and changes nothing then. Queues nothing.
    """
    validate_time_zone(time_zone)
    profile = services.profile_save(organisation=organisation, user=user, data=data)
    changed = []
    if user.full_name != full_name.strip():
        user.full_name = full_name.strip()
        changed.append("full_name")
    if user.time_zone != time_zone:
        user.time_zone = time_zone
        changed.append("time_zone")
    if changed:
        user.save(update_fields=changed)
        audit_record(
            organisation=organisation,
            actor=user,
            action="person.update",
            target=user,
            data={"fields": changed},
        )
    return profile


# --- What concerns the person -----------------------------------------------------------------
# These read across tenants on purpose (the person's own rows, selected by the person): callers
# run them with scopes disabled.


def person_organisations(*, user: User) -> list[Organisation]:
    """Every organisation where the person has a profile, an application or a seat, by name:
    the ones an erasure affects. Reads across tenants on purpose (the person's own rows)."""
    with scopes_disabled():
        return list(
            Organisation.objects.filter(
                Q(profiles__user=user)
                | Q(working_groups__applications__applicant=user)
                | Q(working_groups__seats__holder=user)
            )
            .distinct()
            .order_by("name")
        )


@dataclass(frozen=True)
class _Mentions:
    """What names the person in free text: their e-mail address and their full name (not a
    name too short to tell apart from ordinary words), as whole words, in any case."""

    terms: tuple[str, ...]

    @classmethod
    def of(cls, user: User) -> _Mentions:
        name = user.full_name.strip()
        return cls(tuple(term for term in (user.email, name if len(name) >= 3 else "") if term))

    @property
    def pattern(self) -> re.Pattern[str]:
        alternatives = "|".join(re.escape(t) for t in sorted(self.terms, key=len, reverse=True))
        return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _mentioning(declaration: PersonalData, name: str, mentions: _Mentions) -> list[models.Model]:
    """Rows whose field ``name`` names the person. JSON is searched as text, both as stored by
    PostgreSQL (plain) and by SQLite (non-ASCII escaped); the pattern then decides."""
    if not mentions.terms:
        return []
    terms = list(mentions.terms)
    queryset = declaration.model._base_manager.all()
    column = name
    if isinstance(declaration.model._meta.get_field(name), models.JSONField):
        column = "_as_text"
        queryset = queryset.annotate(_as_text=Cast(name, models.TextField()))
        terms += [json.dumps(term)[1:-1] for term in terms]
    found = Q()
    for term in terms:
        found |= Q(**{f"{column}__icontains": term})
    pattern = mentions.pattern
    return [row for row in queryset.filter(found) if _names(getattr(row, name), pattern)]


def _names(value: Any, pattern: re.Pattern[str]) -> bool:
    return _redact(value, pattern) != value


def _redact(value: Any, pattern: re.Pattern[str]) -> Any:
    """``value`` with every mention of the person replaced, through lists and dicts."""
    if isinstance(value, str):
        return pattern.sub(ERASED_LABEL, value)
    if isinstance(value, list):
        return [_redact(item, pattern) for item in value]
    if isinstance(value, dict):
        return {key: _redact(item, pattern) for key, item in value.items()}
    return value


def _owned_targets(user: User) -> dict[str, set[str]]:
    """The person's own rows of every declared model, as audit targets (type -> ids)."""
    return {
        declaration.label: {
            str(pk) for pk in declaration.rows_of(user).values_list("pk", flat=True)
        }
        for declaration in owned_declarations()
    }


def _audit_entries_about(user: User) -> list[AuditEntry]:
    """Audit entries whose free text is the person's: those about one of their own rows, and
    those they wrote, unless about another person's row (that text is the other's record)."""
    owned = _owned_targets(user)
    about = Q(actor=user)
    for target_type, pks in owned.items():
        if pks:
            about |= Q(target_type=target_type, target_id__in=pks)
    entries = AuditEntry._base_manager.filter(about).order_by("created_at", "pk")
    return [
        entry
        for entry in entries
        if entry.target_id in owned.get(entry.target_type, {entry.target_id})
    ]


# --- Export -----------------------------------------------------------------------------------


@dataclass
class _Rows:
    """The person's own rows in every organisation, and what concerns them."""

    profiles: list[ParticipantProfile]
    applications: list[Application]
    seats: list[Seat]
    acknowledgements: list[AntitrustAcknowledgement]
    answers: list[ExtensionAnswer]
    consents: list[AuditEntry]
    audit: list[AuditEntry]


# Models the export shows in their own sections; other declared models go to "other_records".
_SHAPED = {User, ParticipantProfile, Application, Seat, ExtensionAnswer}


def person_data_export(*, user: User) -> dict[str, Any]:
    """Everything the platform holds on the person, in every organisation, as plain JSON data:
    every declared field of their rows, the audit entries about them with their free text, and
    the organisations' texts that name them.

    Reads across tenants on purpose (the person's own rows only, selected by the person), so it
    runs with scopes disabled. Writes nothing.
    """
    with scopes_disabled():
        rows = _read_rows(user)
        other_records = _other_records(user)
        mentioned_in = _mentions_of(user, skip={entry.pk for entry in rows.audit})
    return {
        "exported_at": _iso(timezone.now()),
        "account": _own_text(user)
        | {
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
        },
        "organisations": [
            _organisation_data(organisation, rows) for organisation in _organisations_in(rows)
        ],
        "other_records": other_records,
        "mentioned_in": mentioned_in,
    }


def _read_rows(user: User) -> _Rows:
    profiles = list(
        ParticipantProfile.objects.filter(user=user).select_related("organisation", "member")
    )
    return _Rows(
        profiles=profiles,
        applications=list(
            Application.objects.filter(applicant=user)
            .select_related("group__organisation")
            .prefetch_related("focus_areas", "offers")
            .order_by("group__organisation__name", "group__number", "pk")
        ),
        seats=list(
            Seat.objects.filter(holder=user)
            .select_related("group__organisation", "member")
            .order_by("started_at", "pk")
        ),
        acknowledgements=list(
            AntitrustAcknowledgement.objects.filter(user=user)
            .select_related("policy", "organisation")
            .order_by("acknowledged_at", "pk")
        ),
        answers=list(
            ExtensionAnswer.objects.filter(participant=user)
            .select_related("extension__group__organisation")
            .order_by("answered_at", "pk")
        ),
        consents=list(
            AuditEntry.objects.filter(
                action=CONSENT_ACTION,
                target_type=ParticipantProfile._meta.label_lower,
                target_id__in=[str(profile.pk) for profile in profiles],
            ).order_by("created_at", "pk")
        ),
        audit=_audit_entries_about(user),
    )


def _organisations_in(rows: _Rows) -> list[Organisation]:
    found: dict[int, Organisation] = {}
    for profile in rows.profiles:
        found[profile.organisation_id] = profile.organisation
    in_groups: list[Application | Seat] = [*rows.applications, *rows.seats]
    for item in in_groups:
        found[item.group.organisation_id] = item.group.organisation
    for answer in rows.answers:
        found[answer.extension.group.organisation_id] = answer.extension.group.organisation
    for ack in rows.acknowledgements:
        found[ack.organisation_id] = ack.organisation
    missing = {entry.organisation_id for entry in rows.audit} - set(found)
    for organisation in Organisation.objects.filter(pk__in=missing):
        found[organisation.pk] = organisation
    return sorted(found.values(), key=lambda organisation: organisation.name)


def _organisation_data(organisation: Organisation, rows: _Rows) -> dict[str, Any]:
    here = organisation.pk
    profile = next((p for p in rows.profiles if p.organisation_id == here), None)
    in_profile = {str(p.pk) for p in rows.profiles if p.organisation_id == here}
    return {
        "organisation": {"name": organisation.name, "address": organisation.slug},
        "profile": _profile_data(profile) if profile else None,
        "name_consent_history": [
            {"at": _iso(entry.created_at), "name_consent": entry.data.get("name_consent")}
            for entry in rows.consents
            if entry.target_id in in_profile
        ],
        "applications": [
            _application_data(a) for a in rows.applications if a.group.organisation_id == here
        ],
        "seats": [_seat_data(seat) for seat in rows.seats if seat.group.organisation_id == here],
        "antitrust_acknowledgements": [
            {
                "policy": ack.policy.title,
                "version": ack.policy.version,
                "acknowledged_at": _iso(ack.acknowledged_at),
            }
            for ack in rows.acknowledgements
            if ack.organisation_id == here
        ],
        "phase_extension_answers": [
            _answer_data(answer)
            for answer in rows.answers
            if answer.extension.group.organisation_id == here
        ],
        "audit_records": [_audit_data(e) for e in rows.audit if e.organisation_id == here],
    }


def _iso(value: datetime.datetime | datetime.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _own_text(row: models.Model) -> dict[str, Any]:
    """The declared personal fields of one of the person's rows, by field name."""
    declaration = declaration_for(row._meta.model)
    assert declaration is not None, f"{row._meta.label} is not declared in personal_data"
    return {name: getattr(row, name) for name in declaration.fields}


def _profile_data(profile: ParticipantProfile) -> dict[str, Any]:
    return {
        "taking_part_as": profile.get_affiliation_display(),
        "member": profile.member.name if profile.member else None,
        **_own_text(profile),
        "expert_invited_at": _iso(profile.expert_invited_at),
        "country": profile.country.name if profile.country else "",
        "name_consent": profile.name_consent,
        "name_consent_at": _iso(profile.name_consent_at),
        "created_at": _iso(profile.created_at),
        "updated_at": _iso(profile.updated_at),
    }


def _application_data(application: Application) -> dict[str, Any]:
    return {
        "group": application.group.name,
        "status": application.get_status_display(),
        "applied_at": _iso(application.applied_at),
        "focus_areas": [area.title for area in application.focus_areas.all()],
        **_own_text(application),
        "offers": [
            {
                "status": offer.get_status_display(),
                "offered_at": _iso(offer.offered_at),
                "expires_at": _iso(offer.expires_at),
                "responded_at": _iso(offer.responded_at),
            }
            for offer in application.offers.all()
        ],
    }


def _seat_data(seat: Seat) -> dict[str, Any]:
    return {
        "group": seat.group.name,
        "started_at": _iso(seat.started_at),
        "ended_at": _iso(seat.ended_at),
        "end_reason": seat.get_end_reason_display() if seat.end_reason else None,
        "representing": seat.member.name if seat.member else None,
        "taking_part_as": seat.get_affiliation_display(),
        **_own_text(seat),
    }


def _answer_data(answer: ExtensionAnswer) -> dict[str, Any]:
    return {
        "group": answer.extension.group.name,
        "phase": answer.extension.proposed_name,
        "answer": answer.get_answer_display(),
        **_own_text(answer),
        "answered_at": _iso(answer.answered_at),
    }


def _audit_text(entry: AuditEntry) -> dict[str, Any]:
    """The free text of an audit entry, by key (the keys its action declares as free text)."""
    return {
        key: entry.data[key] for key in sorted(audit_text_keys(entry.action)) if key in entry.data
    }


def _audit_data(entry: AuditEntry) -> dict[str, Any]:
    return {
        "at": _iso(entry.created_at),
        "action": entry.action,
        "record": entry.target_repr,
        **_audit_text(entry),
    }


def _other_records(user: User) -> dict[str, list[dict[str, Any]]]:
    """Declared models the export has no section of its own for (a later app's), by name."""
    records = {}
    for declaration in owned_declarations():
        if declaration.model in _SHAPED or not declaration.fields:
            continue
        rows = declaration.rows_of(user).order_by("pk")
        records[declaration.label] = [_own_text(row) for row in rows]
    return records


def _mentions_of(user: User, *, skip: set[int]) -> list[dict[str, Any]]:
    """The organisations' texts that name the person, outside their own rows (those are
    exported above); ``skip``: audit entries already exported with the person's records."""
    mentions = _Mentions.of(user)
    found = []
    for declaration in declarations():
        own = (
            set(declaration.rows_of(user).values_list("pk", flat=True))
            if declaration.person
            else set()
        )
        if declaration.model is AuditEntry:
            own |= skip
        for name in declaration.mentions:
            for row in _mentioning(declaration, name, mentions):
                if row.pk not in own:
                    found.append(
                        {
                            "record": str(row._meta.verbose_name),
                            "field": name,
                            "text": getattr(row, name),
                        }
                    )
    return found


# --- Erasure ----------------------------------------------------------------------------------


@transaction.atomic
def person_erase(*, organisation: Organisation, user: User, acting_user: User) -> User:
    """Erase the person: anonymise the global account and keep every group's records.

    In one transaction, in every organisation the person took part in, after locking every
    group concerned (in id order, so that this never deadlocks with seating in those groups):

    - each held seat ends with reason "erased" through ``services.seat_end`` (role revoked,
      audited; the freed seat is offered to the next person on commit), and each application
      still in play is withdrawn through ``services.application_withdraw``;
    - name consent is withdrawn and dated;
    - the free text of the audit entries about the person's rows and of those they wrote is
      blanked (the action, its time and its counts stay);
    - every field declared in ``membership.personal_data`` is blanked on the person's rows
      (their e-mail addresses are deleted), and their name and e-mail address are replaced by
      "Erased person" wherever the organisations' texts mention them;
    - the account is deactivated with an unusable password.

    Application, seat, offer, profile, answer and acknowledgement rows stay, so group counts
    and histories do not change. A ``person.erase`` entry is written in every organisation
    concerned; ``organisation`` is where the request was made (recorded in each entry).
    """
    mentions = _Mentions.of(user)  # before the name and address go
    held_seats, open_applications = _lock_what_is_in_play(user)
    involved = _organisations_involved(organisation, user, held_seats, open_applications)
    counts = _end_seats_and_withdraw(held_seats, open_applications, acting_user=acting_user)
    with scopes_disabled():
        _withdraw_name_consent(user)
        _blank_audit_free_text(user)
        _erase_declared_fields(user)
        _replace_mentions(mentions)
        _close_account(user)
        _record_erasure(organisation, user, involved, counts, acting_user=acting_user)
    return user


def _lock_what_is_in_play(user: User) -> tuple[list[Seat], list[Application]]:
    """The person's held seats and open applications, read again under the locks of their
    groups: a seat or an offer that appeared in between (another tab, the promotion job) is
    then included. Takes the profiles' row locks last."""
    locked: set[int] = set()
    with scopes_disabled():
        while True:
            held_seats = list(
                Seat.objects.filter(holder=user, ended_at__isnull=True)
                .select_related("group__organisation")
                .order_by("group_id", "pk")
            )
            open_applications = list(
                Application.objects.filter(applicant=user, status__in=Application.OPEN)
                .select_related("group__organisation")
                .order_by("group_id", "pk")
            )
            needed = {seat.group_id for seat in held_seats} | {
                application.group_id for application in open_applications
            }
            if needed <= locked:
                break
            for group_id in sorted(needed - locked):
                services.lock_group(group_id)
                locked.add(group_id)
        list(ParticipantProfile.objects.select_for_update(of=("self",)).filter(user=user))
    return held_seats, open_applications


def _organisations_involved(
    organisation: Organisation,
    user: User,
    held_seats: list[Seat],
    open_applications: list[Application],
) -> dict[int, Organisation]:
    """Where the erasure is recorded: where it was asked, and wherever the person has a
    profile, a seat, an open application or an acknowledgement."""
    involved: dict[int, Organisation] = {organisation.pk: organisation}
    with scopes_disabled():
        for profile in ParticipantProfile.objects.filter(user=user).select_related("organisation"):
            involved[profile.organisation_id] = profile.organisation
        for ack in AntitrustAcknowledgement.objects.filter(user=user).select_related(
            "organisation"
        ):
            involved[ack.organisation_id] = ack.organisation
    in_groups: list[Application | Seat] = [*held_seats, *open_applications]
    for item in in_groups:
        involved[item.group.organisation_id] = item.group.organisation
    return involved


def _end_seats_and_withdraw(
    held_seats: list[Seat], open_applications: list[Application], *, acting_user: User
) -> dict[int, dict[str, int]]:
    """End each seat and withdraw each open application through the services, each in its
    organisation's scope; returns how many of each, by organisation id."""
    counts: dict[int, dict[str, int]] = {}
    for seat in held_seats:
        tenant = seat.group.organisation
        with scope(organisation=tenant):
            services.seat_end(
                seat=seat, reason=Seat.EndReason.ERASED, note="", acting_user=acting_user
            )
        counts.setdefault(tenant.pk, {"seats": 0, "applications": 0})["seats"] += 1
    for application in open_applications:
        tenant = application.group.organisation
        with scope(organisation=tenant):
            services.application_withdraw(application=application, acting_user=acting_user)
        counts.setdefault(tenant.pk, {"seats": 0, "applications": 0})["applications"] += 1
    return counts


def _withdraw_name_consent(user: User) -> None:
    ParticipantProfile.objects.filter(user=user).update(
        name_consent=False, name_consent_at=timezone.now(), updated_at=timezone.now()
    )


def _blank_audit_free_text(user: User) -> None:
    """Blank the free-text keys of the audit entries about the person; the action, its time
    and its other data (codes, counts, ids) stay, so the history stays true but anonymous."""
    for entry in _audit_entries_about(user):
        text = _audit_text(entry)
        if any(text.values()):
            entry.data = entry.data | dict.fromkeys(text, "")
            entry.save(update_fields=["data"])


def _erase_declared_fields(user: User) -> None:
    """Every declared field of the person's rows becomes "" (or its declared erased value);
    rows declared ``delete_rows`` are deleted."""
    now = timezone.now()
    for declaration in owned_declarations():
        rows = declaration.rows_of(user)
        if declaration.delete_rows:
            rows.delete()
            continue
        if not declaration.fields:
            continue
        values: dict[str, Any] = {
            name: declaration.erased_values.get(name, lambda _user: "")(user)
            for name in declaration.fields
        }
        field_names = {f.name for f in declaration.model._meta.concrete_fields}
        if "updated_at" in field_names:
            values["updated_at"] = now
        rows.update(**values)


def _replace_mentions(mentions: _Mentions) -> None:
    """Replace the person's name and e-mail address wherever a declared text mentions them."""
    for declaration in declarations():
        for name in declaration.mentions:
            for row in _mentioning(declaration, name, mentions):
                setattr(row, name, _redact(getattr(row, name), mentions.pattern))
                row.save(update_fields=[name])


def _close_account(user: User) -> None:
    """The account, its fields already erased, is deactivated and can no longer sign in."""
    user.refresh_from_db()
    user.is_active = False
    user.set_unusable_password()
    user.save(update_fields=["is_active", "password"])


def _record_erasure(
    organisation: Organisation,
    user: User,
    involved: dict[int, Organisation],
    counts: dict[int, dict[str, int]],
    *,
    acting_user: User,
) -> None:
    for tenant in sorted(involved.values(), key=lambda o: o.pk):
        done = counts.get(tenant.pk, {})
        audit_record(
            organisation=tenant,
            actor=acting_user,
            action="person.erase",
            target=user,
            data={
                "requested_in": organisation.slug,
                "seats_ended": done.get("seats", 0),
                "applications_withdrawn": done.get("applications", 0),
            },
        )
