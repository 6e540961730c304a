"""A person's own data: their details, the copy of everything we hold on them, and erasure.

The account (``User``) is global: one login for every organisation on the platform. So the export
covers every organisation the person has taken part in, and erasure anonymises the account
everywhere, while each organisation keeps its records (applications, seats, acknowledgements)
so that its counts and its audit trail stay consistent.
"""

from __future__ import annotations

import datetime
from typing import Any

from allauth.account.models import EmailAddress
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from asi_wg.audit import audit_record
from asi_wg.models import AuditEntry, Organisation, User, validate_time_zone
from groups.models import ExtensionAnswer
from membership import services
from membership.models import AntitrustAcknowledgement, Application, Offer, ParticipantProfile, Seat

ERASED_LABEL = "Erased person"
CONSENT_ACTION = "profile.consent"  # written by services.profile_save
# Applications still in play: erasure withdraws them (a seated one ends with its seat instead).
OPEN_APPLICATION = (
    Application.Status.SUBMITTED,
    Application.Status.WAITING,
    Application.Status.OFFERED,
)


def erased_email(user: User) -> str:
    return f"erased-{user.pk}@invalid.example"


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


# --- Export -----------------------------------------------------------------------------------


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


def _iso(value: datetime.datetime | datetime.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def person_data_export(*, user: User) -> dict[str, Any]:
    """Everything the platform holds on the person, in every organisation, as plain JSON data.

    Reads across tenants on purpose (the person's own rows only, selected by the person), so it
    runs with scopes disabled. Writes nothing.
    """
    with scopes_disabled():
        profiles = list(
            ParticipantProfile.objects.filter(user=user).select_related("organisation", "member")
        )
        applications = list(
            Application.objects.filter(applicant=user)
            .select_related("group__organisation")
            .prefetch_related("focus_areas", "offers")
            .order_by("group__organisation__name", "group__number", "pk")
        )
        seats = list(
            Seat.objects.filter(holder=user)
            .select_related("group__organisation", "member")
            .order_by("started_at", "pk")
        )
        acknowledgements = list(
            AntitrustAcknowledgement.objects.filter(user=user)
            .select_related("policy", "organisation")
            .order_by("acknowledged_at", "pk")
        )
        consents = list(
            AuditEntry.objects.filter(
                action=CONSENT_ACTION,
                target_type=ParticipantProfile._meta.label_lower,
                target_id__in=[str(profile.pk) for profile in profiles],
            ).order_by("created_at", "pk")
        )
        answers = list(
            ExtensionAnswer.objects.filter(participant=user)
            .select_related("extension__group__organisation")
            .order_by("answered_at", "pk")
        )

    organisations: dict[int, Organisation] = {}
    for profile in profiles:
        organisations[profile.organisation_id] = profile.organisation
    for application in applications:
        organisations[application.group.organisation_id] = application.group.organisation
    for seat in seats:
        organisations[seat.group.organisation_id] = seat.group.organisation
    for answer in answers:
        organisations[answer.extension.group.organisation_id] = answer.extension.group.organisation
    for ack in acknowledgements:
        organisations[ack.organisation_id] = ack.organisation

    def tenant_of(item: Any) -> int:
        if isinstance(item, ExtensionAnswer):
            return item.extension.group.organisation_id
        return int(item.group.organisation_id)

    by_profile = {str(profile.pk): profile.organisation_id for profile in profiles}
    tenants = []
    for organisation in sorted(organisations.values(), key=lambda o: o.name):
        own = next((p for p in profiles if p.organisation_id == organisation.pk), None)
        tenants.append(
            {
                "organisation": {"name": organisation.name, "address": organisation.slug},
                "profile": _profile_data(own) if own else None,
                "name_consent_history": [
                    {"at": _iso(entry.created_at), "name_consent": entry.data.get("name_consent")}
                    for entry in consents
                    if by_profile.get(entry.target_id) == organisation.pk
                ],
                "applications": [
                    _application_data(application)
                    for application in applications
                    if tenant_of(application) == organisation.pk
                ],
                "seats": [
                    {
                        "group": seat.group.name,
                        "started_at": _iso(seat.started_at),
                        "ended_at": _iso(seat.ended_at),
                        "end_reason": seat.get_end_reason_display() if seat.end_reason else None,
                        "representing": seat.member.name if seat.member else None,
                        "taking_part_as": seat.get_affiliation_display(),
                    }
                    for seat in seats
                    if tenant_of(seat) == organisation.pk
                ],
                "antitrust_acknowledgements": [
                    {
                        "policy": ack.policy.title,
                        "version": ack.policy.version,
                        "acknowledged_at": _iso(ack.acknowledged_at),
                    }
                    for ack in acknowledgements
                    if ack.organisation_id == organisation.pk
                ],
                "phase_extension_answers": [
                    {
                        "group": answer.extension.group.name,
                        "phase": answer.extension.proposed_name,
                        "answer": answer.get_answer_display(),
                        "comment": answer.comment,
                        "answered_at": _iso(answer.answered_at),
                    }
                    for answer in answers
                    if tenant_of(answer) == organisation.pk
                ],
            }
        )
    return {
        "exported_at": _iso(timezone.now()),
        "account": {
            "email": user.email,
            "full_name": user.full_name,
            "time_zone": user.time_zone,
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
        },
        "organisations": tenants,
    }


def _profile_data(profile: ParticipantProfile) -> dict[str, Any]:
    return {
        "taking_part_as": profile.get_affiliation_display(),
        "member": profile.member.name if profile.member else None,
        "expert_organisation": profile.expert_organisation,
        "expert_invited_at": _iso(profile.expert_invited_at),
        "job_title": profile.job_title,
        "country": profile.country.name if profile.country else "",
        "languages": profile.languages,
        "interpretation_needs": profile.interpretation_needs,
        "expertise": profile.expertise,
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
        "statement": application.statement,
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


# --- Erasure ----------------------------------------------------------------------------------


@transaction.atomic
def person_erase(*, organisation: Organisation, user: User, acting_user: User) -> User:
    """Erase the person: anonymise the global account and keep every group's records.

    In one transaction, in every organisation the person took part in:

    - each held seat ends with reason "erased" through ``services.seat_end`` (group locked, role
      revoked, audited; the freed seat is offered to the next person on commit);
    - each application still in play (received, waiting, offered) is withdrawn through
      ``services.application_withdraw`` (an open offer is withdrawn and the seat moves on);
    - profiles lose their personal fields (expertise, languages, job title, interpretation
      needs), name consent is withdrawn and dated, application statements are blanked;
    - the person's name and address are replaced in the audit trail's descriptions of their
      own rows;

    and then the account gets an ``erased-<id>@invalid.example`` address, no name, an unusable
    password, is deactivated, and its allauth e-mail addresses are deleted. Application, seat,
    offer, profile and acknowledgement rows stay, so group counts and histories do not change.
    A ``person.erase`` entry is written in every organisation concerned. ``organisation`` is
    where the request was made (recorded in each entry). All groups concerned are locked first,
    in id order, so that this never deadlocks with seating in those groups.
    """
    now = timezone.now()
    old_email, old_name = user.email, user.full_name
    with scopes_disabled():
        locked: set[int] = set()
        while True:
            # Read, lock the groups concerned, and read again under the locks: a seat or an
            # offer that appeared in between (another tab, the promotion job) is then included.
            held_seats = list(
                Seat.objects.filter(holder=user, ended_at__isnull=True)
                .select_related("group__organisation")
                .order_by("group_id", "pk")
            )
            open_applications = list(
                Application.objects.filter(applicant=user, status__in=OPEN_APPLICATION)
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
        profiles = list(
            ParticipantProfile.objects.select_for_update(of=("self",))
            .filter(user=user)
            .select_related("organisation")
        )
        involved: dict[int, Organisation] = {organisation.pk: organisation}
        for profile in profiles:
            involved[profile.organisation_id] = profile.organisation
        for seat in held_seats:
            involved[seat.group.organisation_id] = seat.group.organisation
        for application in open_applications:
            involved[application.group.organisation_id] = application.group.organisation
        for ack in AntitrustAcknowledgement.objects.filter(user=user).select_related(
            "organisation"
        ):
            involved[ack.organisation_id] = ack.organisation

    counts: dict[int, dict[str, int]] = {pk: {"seats": 0, "applications": 0} for pk in involved}
    for seat in held_seats:
        tenant = seat.group.organisation
        with scope(organisation=tenant):
            services.seat_end(
                seat=seat, reason=Seat.EndReason.ERASED, note="", acting_user=acting_user
            )
        counts[tenant.pk]["seats"] += 1
    for application in open_applications:
        tenant = application.group.organisation
        with scope(organisation=tenant):
            services.application_withdraw(application=application, acting_user=acting_user)
        counts[tenant.pk]["applications"] += 1

    with scopes_disabled():
        for profile in profiles:
            profile.expertise = ""
            profile.languages = ""
            profile.job_title = ""
            profile.interpretation_needs = ""
            profile.name_consent = False
            profile.name_consent_at = now
            profile.save(
                update_fields=[
                    "expertise",
                    "languages",
                    "job_title",
                    "interpretation_needs",
                    "name_consent",
                    "name_consent_at",
                    "updated_at",
                ]
            )
        Application.objects.filter(applicant=user).update(statement="", updated_at=now)
        _scrub_audit_descriptions(user=user, profiles=profiles, names=[old_email, old_name])

        user.email = erased_email(user)
        user.full_name = ""
        user.time_zone = "UTC"
        user.is_active = False
        user.set_unusable_password()
        user.save(update_fields=["email", "full_name", "time_zone", "is_active", "password"])
        EmailAddress.objects.filter(user=user).delete()

        for tenant in sorted(involved.values(), key=lambda o: o.pk):
            audit_record(
                organisation=tenant,
                actor=acting_user,
                action="person.erase",
                target=user,
                data={
                    "requested_in": organisation.slug,
                    "seats_ended": counts[tenant.pk]["seats"],
                    "applications_withdrawn": counts[tenant.pk]["applications"],
                },
            )
    return user


def _scrub_audit_descriptions(
    *, user: User, profiles: list[ParticipantProfile], names: list[str]
) -> None:
    """Replace the person's name and address in the descriptions of audit entries about their
    own rows (the account, profiles, applications, seats, offers). Runs with scopes disabled."""
    targets = {
        User._meta.label_lower: [user.pk],
        ParticipantProfile._meta.label_lower: [profile.pk for profile in profiles],
        Application._meta.label_lower: list(
            Application.objects.filter(applicant=user).values_list("pk", flat=True)
        ),
        Seat._meta.label_lower: list(Seat.objects.filter(holder=user).values_list("pk", flat=True)),
        Offer._meta.label_lower: list(
            Offer.objects.filter(application__applicant=user).values_list("pk", flat=True)
        ),
    }
    about_person = Q()
    for target_type, pks in targets.items():
        if pks:
            about_person |= Q(target_type=target_type, target_id__in=[str(pk) for pk in pks])
    names = [name for name in names if name.strip()]
    for entry in AuditEntry.objects.filter(about_person):
        scrubbed = entry.target_repr
        for name in names:
            scrubbed = scrubbed.replace(name, ERASED_LABEL)
        if scrubbed != entry.target_repr:
            entry.target_repr = scrubbed
            entry.save(update_fields=["target_repr"])
