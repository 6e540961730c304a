"""Group services handed another tenant's organisation, group, phase or extension refuse it with
``OtherTenant`` and write nothing: no permission, no phase, no extension, no answer, no audit."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django_scopes import scope, scopes_disabled
from guardian.models import UserObjectPermission

from asi_wg.errors import OtherTenant
from asi_wg.models import (
    AuditEntry,
    Organisation,
    OrganisationRole,
    OrganisationUserObjectPermission,
)
from groups import services
from groups.models import (
    ExtensionAnswer,
    GroupRole,
    Phase,
    PhaseExtension,
    WorkingGroupUserObjectPermission,
)
from tests.factories import PhaseFactory, UserFactory, WorkingGroupFactory

pytestmark = pytest.mark.django_db

WRITTEN = (
    AuditEntry,
    Phase,
    PhaseExtension,
    ExtensionAnswer,
    OrganisationUserObjectPermission,
    WorkingGroupUserObjectPermission,
    UserObjectPermission,
)


def rows() -> dict[str, list[Any]]:
    with scopes_disabled():
        found: dict[str, list[Any]] = {
            model.__name__: sorted(model.objects.values_list("pk", flat=True)) for model in WRITTEN
        }
        found["phases"] = sorted(Phase.objects.values_list("pk", "status"))
        found["extensions"] = sorted(PhaseExtension.objects.values_list("pk", "status"))
    return found


def refused(call: Callable[[], object], thing: str) -> None:
    message = (
        "This is not the organisation you are working in."
        if thing == "organisation"
        else f"This {thing} belongs to another organisation."
    )
    before = rows()
    with pytest.raises(OtherTenant, match=message):
        call()
    assert rows() == before


@pytest.fixture
def theirs(other_org: Organisation) -> dict[str, Any]:
    """The other tenant's group, a phase, a participant and an open extension."""
    group = WorkingGroupFactory.create(organisation=other_org)
    phase = PhaseFactory.create(group=group)
    staff, participant = UserFactory.create(), UserFactory.create()
    services.group_role_grant(
        group=group, user=participant, role=GroupRole.PARTICIPANT, acting_user=staff
    )
    with scope(organisation=other_org):
        extension = services.phase_extension_propose(
            phase=phase,
            need="More review.",
            name="Phase 2",
            starts_on=datetime.date(2026, 1, 15),
            ends_on=datetime.date(2026, 12, 15),
            meetings_min=4,
            meetings_max=6,
            answers_due_on=datetime.date(2025, 12, 1),
            acting_user=staff,
        )
    return {"group": group, "phase": phase, "participant": participant, "extension": extension}


def test_role_services_refuse_another_tenant(
    org: Organisation, other_org: Organisation, theirs: dict[str, Any]
) -> None:
    person, staff = UserFactory.create(), UserFactory.create()
    secretariat = OrganisationRole.SECRETARIAT
    with scope(organisation=org):
        refused(
            lambda: services.organisation_role_grant(
                organisation=other_org, user=person, role=secretariat, acting_user=staff
            ),
            "organisation",
        )
        refused(
            lambda: services.group_role_grant(
                group=theirs["group"], user=person, role=GroupRole.CHAIR, acting_user=staff
            ),
            "working group",
        )
        refused(
            lambda: services.group_role_revoke(
                group=theirs["group"],
                user=theirs["participant"],
                role=GroupRole.PARTICIPANT,
                acting_user=staff,
            ),
            "working group",
        )


def test_phase_and_extension_services_refuse_another_tenants(
    org: Organisation, other_org: Organisation, theirs: dict[str, Any]
) -> None:
    staff = UserFactory.create()
    with scope(organisation=org):
        refused(
            lambda: services.phase_extension_propose(
                phase=theirs["phase"],
                need="Again.",
                name="Phase 3",
                starts_on=datetime.date(2027, 1, 1),
                ends_on=datetime.date(2027, 6, 1),
                meetings_min=1,
                meetings_max=2,
                answers_due_on=datetime.date(2026, 12, 1),
                acting_user=staff,
            ),
            "phase",
        )
        refused(
            lambda: services.phase_extension_answer(
                extension=theirs["extension"],
                participant=theirs["participant"],
                answer=ExtensionAnswer.Answer.AGREE,
            ),
            "phase extension",
        )
        refused(
            lambda: services.phase_extension_decide(
                extension=theirs["extension"], approve=False, note="No.", acting_user=staff
            ),
            "phase extension",
        )
        refused(
            lambda: services.phase_status_refresh(
                organisation=other_org, today=datetime.date(2026, 6, 1)
            ),
            "organisation",
        )
