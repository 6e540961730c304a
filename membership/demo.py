"""The demo accounts (all with the password DEMO_PASSWORD) and their roles."""

from __future__ import annotations

import datetime

from allauth.account.models import EmailAddress
from django.db import transaction
from django_scopes import scope

from groups import services
from groups.models import GroupRole, Organisation, OrganisationRole, PhaseExtension, WorkingGroup
from membership.models import User

DEMO_PASSWORD = "wg-demo-2025"  # noqa: S105 - published demo password, see README


def _account(email: str, full_name: str, time_zone: str, *, superuser: bool = False) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        factory = User.objects.create_superuser if superuser else User.objects.create_user
        user = factory(email, DEMO_PASSWORD, full_name=full_name, time_zone=time_zone)
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


@transaction.atomic
def load(organisations: dict[str, Organisation]) -> dict[str, User]:
    asi, demo = organisations["asi"], organisations["demo"]
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
    with scope(organisation=asi):
        circularity = WorkingGroup.objects.get(organisation=asi, slug="circularity")
        services.group_role_grant(
            group=circularity,
            user=users["asi_participant"],
            role=GroupRole.PARTICIPANT,
            acting_user=None,
        )
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
                starts_on=datetime.date(2027, 2, 1),
                ends_on=datetime.date(2027, 11, 30),
                meetings_min=4,
                meetings_max=6,
                answers_due_on=datetime.date(2026, 12, 18),
                acting_user=users["asi_secretariat"],
            )
    return users
