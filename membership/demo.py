"""The demo accounts (all with the password DEMO_PASSWORD), their roles, and the selection demo:
44 Members, a full Circularity group, a waiting list and open applications on two groups."""

from __future__ import annotations

import datetime
from typing import Any

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django_scopes import scope

from asi_wg.demo import Demo, demo_password_hash
from asi_wg.models import Organisation, OrganisationRole, User
from groups import services
from groups.models import GroupRole, PhaseExtension, WorkingGroup
from membership import demo_data
from membership import services as membership_services
from membership.models import (
    AntitrustPolicy,
    Application,
    Member,
    MembershipClass,
    ParticipantProfile,
    Seat,
    ValueChainSegment,
)


def _account(email: str, full_name: str, time_zone: str, *, superuser: bool = False) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create(
            email=email,
            password=demo_password_hash(),
            full_name=full_name,
            time_zone=time_zone,
            is_staff=superuser,
            is_superuser=superuser,
        )
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


@transaction.atomic
def load(loaded: Demo) -> None:
    asi, demo = loaded.organisations["asi"], loaded.organisations["demo"]
    users = {
        "platform": _account("admin@platform.example", "Platform Admin", "UTC", superuser=True),
        "asi_secretariat": _account(
            "secretariat@asi.example", "Sam Secretariat", "Australia/Melbourne"
        ),
        "asi_committee": _account("committee@asi.example", "Chris Committee", "Europe/London"),
        "asi_participant": _account("participant@asi.example", "Pat Participant", "Europe/Zurich"),
        "asi_applicant": _account("applicant@asi.example", "Alex Applicant", "America/Toronto"),
        "demo_secretariat": _account("secretariat@demo.example", "Dana Demo", "Europe/Berlin"),
    }
    grant = services.organisation_role_grant
    grant(
        organisation=asi,
        user=users["asi_secretariat"],
        role=OrganisationRole.SECRETARIAT,
        acting_user=None,
    )
    grant(
        organisation=asi,
        user=users["asi_committee"],
        role=OrganisationRole.COMMITTEE,
        acting_user=None,
    )
    grant(
        organisation=demo,
        user=users["demo_secretariat"],
        role=OrganisationRole.SECRETARIAT,
        acting_user=None,
    )
    with scope(organisation=asi), membership_services.quiet():
        _selection(asi, users)
        _extension(asi, users)
    with scope(organisation=demo), membership_services.quiet():
        _demo_tenant_members(demo)
    loaded.users.update(users)


def _lists(organisation: Organisation, classes: list[str], segments: list[str]) -> None:
    for position, name in enumerate(classes):
        MembershipClass.objects.get_or_create(
            organisation=organisation, name=name, defaults={"position": position}
        )
    for position, name in enumerate(segments):
        ValueChainSegment.objects.get_or_create(
            organisation=organisation, name=name, defaults={"position": position}
        )


def _members(organisation: Organisation) -> list[Member]:
    classes = {c.name: c for c in MembershipClass.objects.filter(organisation=organisation)}
    segments = {s.name: s for s in ValueChainSegment.objects.filter(organisation=organisation)}
    members = []
    for index, (name, cls, segs, country, size, perspective) in enumerate(demo_data.MEMBERS):
        member, created = Member.objects.get_or_create(
            organisation=organisation,
            name=name,
            defaults={
                "membership_class": classes[cls],
                "country": country,
                "size_band": size,
                "perspective": perspective,
                "is_current": name not in demo_data.FORMER_MEMBERS,
                "joined_on": datetime.date(2015 + index % 9, 1 + index % 12, 1),
            },
        )
        if created:
            member.segments.set([segments[s] for s in segs])
        members.append(member)
    return members


def _person(index: int, member: Member | None, *, affiliation: str = "member") -> User:
    first = demo_data.FIRST[index % len(demo_data.FIRST)]
    last = demo_data.LAST[(index * 7) % len(demo_data.LAST)]
    domain = slugify(member.name)[:30] if member else "ipaf"
    email = f"{slugify(first)}.{slugify(last)}@{domain}.example"
    country = str(member.country) if member else "AU"
    return _account(email, f"{first} {last}", demo_data.ZONES.get(country, "UTC"))


def _profile(
    organisation: Organisation,
    user: User,
    member: Member | None,
    *,
    affiliation: str = ParticipantProfile.Affiliation.MEMBER,
    consent: bool = False,
    expertise: str = "",
) -> ParticipantProfile:
    profile = ParticipantProfile.objects.filter(organisation=organisation, user=user).first()
    if profile is not None:
        return profile
    return membership_services.profile_save(
        organisation=organisation,
        user=user,
        data={
            "affiliation": affiliation,
            "member": member,
            "country": str(member.country) if member else "AU",
            "languages": "English",
            "expertise": expertise
            or f"Works on sustainability at {member.name if member else 'IPAF'}.",
            "name_consent": consent,
        },
    )


def _apply(group: WorkingGroup, profile: ParticipantProfile, index: int, text: str) -> Application:
    existing = Application.objects.filter(group=group, applicant=profile.user).first()
    if existing is not None:
        return existing
    areas = list(group.focus_areas.filter(parent__isnull=True).order_by("position"))
    chosen = [areas[i % len(areas)] for i in (index, index + 2)] if areas else []
    application = membership_services.application_submit(
        group=group, user=profile.user, focus_areas=chosen, statement=text
    )
    # Spread the demo's application times over the spring of 2025, in a stable order.
    Application.objects.filter(pk=application.pk).update(
        applied_at=timezone.make_aware(datetime.datetime(2025, 3, 3))
        + datetime.timedelta(hours=index)
    )
    application.refresh_from_db()
    return application


def _selection(asi: Organisation, users: dict[str, User]) -> None:
    _lists(asi, demo_data.CLASSES, demo_data.SEGMENTS)
    members = _members(asi)
    current = [m for m in members if m.is_current]
    staff = users["asi_secretariat"]
    groups = {g.slug: g for g in WorkingGroup.objects.filter(organisation=asi)}
    circularity = groups["circularity"]

    policy = AntitrustPolicy.objects.filter(organisation=asi).order_by("version").first()
    if policy is None:
        policy = membership_services.antitrust_policy_publish(
            organisation=asi,
            title=demo_data.ANTITRUST_TITLE,
            body=demo_data.ANTITRUST_BODY,
            acting_user=staff,
        )

    # Circularity: full, 30 seats from 30 different Members, participant@asi.example first.
    if not Seat.objects.filter(group=circularity).exists():
        seated_people = [(users["asi_participant"], current[0])]
        seated_people += [(_person(i, m), m) for i, m in enumerate(current[1:30], start=1)]
        for index, (user, member) in enumerate(seated_people):
            profile = _profile(asi, user, member, consent=index % 3 == 0)
            application = _apply(
                circularity, profile, index, f"{member.name} works on circularity in practice."
            )
            membership_services.seat_take(application=application, acting_user=staff)
            # All but two have acknowledged the antitrust policy, so both states can be seen.
            if index not in (7, 19):
                membership_services.antitrust_acknowledge(
                    organisation=asi, user=user, policy=policy
                )

    # Its waiting list: applicant@asi.example first, then an IPAF participant, a second
    # representative of a seated Member, and a representative of a Member not yet seated.
    waiting: list[tuple[User, Member | None, str]] = [
        (users["asi_applicant"], current[30], ParticipantProfile.Affiliation.MEMBER),
        (_person(40, None), None, ParticipantProfile.Affiliation.IPAF),
        (_person(41, current[3]), current[3], ParticipantProfile.Affiliation.MEMBER),
        (_person(42, current[31]), current[31], ParticipantProfile.Affiliation.MEMBER),
    ]
    for index, (user, waiting_member, affiliation) in enumerate(waiting, start=30):
        profile = _profile(asi, user, waiting_member, affiliation=affiliation)
        application = _apply(
            circularity, profile, index, "Experience with scrap sorting and alloy quality."
        )
        if application.status == Application.Status.SUBMITTED:
            membership_services.application_waitlist(application=application, acting_user=staff)

    # Open applications awaiting selection on Climate Change (8) and Chain of Custody (6).
    for slug, count, offset in (("climate-change", 8, 2), ("chain-of-custody-and-claims", 6, 12)):
        group = groups[slug]
        for n in range(count):
            member = current[(offset + n * 3) % len(current)]
            user = _person(50 + offset + n, member)
            profile = _profile(asi, user, member)
            _apply(group, profile, n, f"{member.name}'s perspective on {group.name.lower()}.")


def _extension(asi: Organisation, users: dict[str, User]) -> None:
    circularity = WorkingGroup.objects.get(organisation=asi, slug="circularity")
    phase_1 = circularity.phases.get(number=1)
    if not PhaseExtension.objects.filter(from_phase=phase_1).exists():
        services.phase_extension_propose(
            phase=phase_1,
            need=(
                "The consultation drafts on circularity criteria for Industrial Users and on "
                "pre-consumer scrap need a further round of review before the second public "
                "consultation."
            ),
            name="Phase 2",
            starts_on=phase_1.ends_on + datetime.timedelta(days=1),
            ends_on=phase_1.ends_on + datetime.timedelta(days=300),
            meetings_min=4,
            meetings_max=6,
            answers_due_on=timezone.localdate() + datetime.timedelta(days=19),
            acting_user=users["asi_secretariat"],
        )
    # Seating granted the participant role; the extension asks the seated participants.
    assert (
        users["asi_participant"].has_perm(f"groups.{GroupRole.PARTICIPANT.value}", circularity)
        or not Seat.objects.filter(group=circularity).exists()
    )


def _demo_tenant_members(demo: Organisation) -> None:
    _lists(demo, ["Producers", "Buyers", "NGOs"], ["Utilities", "Food and drink", "Other"])
    producers = MembershipClass.objects.get(organisation=demo, name="Producers")
    rows: list[tuple[str, str, str, str]] = [
        ("Riverbend Water Utility", "NL", "large", "industry"),
        ("Clearspring Bottlers", "KE", "medium", "industry"),
        ("Watershed Watch", "PE", "small", "civil_society"),
    ]
    for name, country, size, perspective in rows:
        defaults: dict[str, Any] = {
            "membership_class": producers,
            "country": country,
            "size_band": size,
            "perspective": perspective,
        }
        Member.objects.get_or_create(organisation=demo, name=name, defaults=defaults)
