"""Services on roles, phases and extensions: each audited, each refusing what the rules refuse."""

from __future__ import annotations

import datetime

import pytest
from django_scopes import scope, scopes_disabled

from asi_wg.errors import DomainError
from asi_wg.models import AuditEntry, Organisation, OrganisationRole
from groups import services
from groups.models import ExtensionAnswer, GroupRole, Phase, PhaseExtension
from tests.factories import PhaseFactory, UserFactory, WorkingGroupFactory

pytestmark = pytest.mark.django_db


def audit_actions(organisation: Organisation) -> list[str]:
    with scope(organisation=organisation):
        return list(AuditEntry.objects.order_by("id").values_list("action", flat=True))


def test_organisation_role_grant_gives_the_permission_once_and_audits_it(org: Organisation) -> None:
    user, staff = UserFactory.create(), UserFactory.create()
    assert not user.has_perm("asi_wg.act_as_secretariat", org)

    granted = services.organisation_role_grant(
        organisation=org, user=user, role=OrganisationRole.SECRETARIAT, acting_user=staff
    )
    again = services.organisation_role_grant(
        organisation=org, user=user, role=OrganisationRole.SECRETARIAT, acting_user=staff
    )

    assert (granted, again) == (True, False)
    user = type(user).objects.get(pk=user.pk)  # a fresh object: guardian caches per instance
    assert user.has_perm("asi_wg.act_as_secretariat", org)
    assert not user.has_perm("asi_wg.act_as_committee", org)
    assert audit_actions(org) == ["role.grant"]


def test_role_in_one_organisation_gives_nothing_in_another(
    org: Organisation, other_org: Organisation
) -> None:
    user = UserFactory.create()
    services.organisation_role_grant(
        organisation=org, user=user, role=OrganisationRole.SECRETARIAT, acting_user=None
    )
    assert not user.has_perm("asi_wg.act_as_secretariat", other_org)
    assert audit_actions(other_org) == []


def test_organisation_role_revoke_takes_it_away_and_audits(org: Organisation) -> None:
    user = UserFactory.create()
    services.organisation_role_grant(
        organisation=org, user=user, role=OrganisationRole.COMMITTEE, acting_user=None
    )
    assert services.organisation_role_revoke(
        organisation=org, user=user, role=OrganisationRole.COMMITTEE, acting_user=None
    )
    assert not services.organisation_role_revoke(
        organisation=org, user=user, role=OrganisationRole.COMMITTEE, acting_user=None
    )
    user = type(user).objects.get(pk=user.pk)
    assert not user.has_perm("asi_wg.act_as_committee", org)
    assert audit_actions(org) == ["role.grant", "role.revoke"]


def test_group_role_is_per_group(org: Organisation) -> None:
    circularity = WorkingGroupFactory.create(organisation=org)
    nature = WorkingGroupFactory.create(organisation=org)
    user = UserFactory.create()
    services.group_role_grant(
        group=circularity, user=user, role=GroupRole.PARTICIPANT, acting_user=None
    )
    assert user.has_perm("groups.participate_workinggroup", circularity)
    assert not user.has_perm("groups.participate_workinggroup", nature)
    assert not user.has_perm("groups.chair_workinggroup", circularity)
    assert services.group_role_revoke(
        group=circularity, user=user, role=GroupRole.PARTICIPANT, acting_user=None
    )
    user = type(user).objects.get(pk=user.pk)
    assert not user.has_perm("groups.participate_workinggroup", circularity)


def test_superuser_grant_is_still_recorded(org: Organisation) -> None:
    admin = UserFactory.create(is_superuser=True, is_staff=True)
    assert services.organisation_role_grant(
        organisation=org, user=admin, role=OrganisationRole.SECRETARIAT, acting_user=None
    )


def test_phase_status_follows_the_calendar_and_is_idempotent(org: Organisation) -> None:
    phase = PhaseFactory.create(
        group=WorkingGroupFactory.create(organisation=org),
        starts_on=datetime.date(2025, 4, 1),
        ends_on=datetime.date(2025, 12, 31),
    )
    with scope(organisation=org):
        assert (
            services.phase_status_refresh(organisation=org, today=datetime.date(2025, 3, 31)) == 0
        )
        assert services.phase_status_refresh(organisation=org, today=datetime.date(2025, 4, 1)) == 1
        assert services.phase_status_refresh(organisation=org, today=datetime.date(2025, 4, 2)) == 0
        phase.refresh_from_db()
        assert phase.status == Phase.Status.ACTIVE
        assert services.phase_status_refresh(organisation=org, today=datetime.date(2026, 1, 1)) == 1
        phase.refresh_from_db()
        assert phase.status == Phase.Status.COMPLETED
    assert audit_actions(org) == ["phase.status", "phase.status"]


def test_phase_status_refresh_leaves_other_tenants_alone(
    org: Organisation, other_org: Organisation
) -> None:
    theirs = PhaseFactory.create(group=WorkingGroupFactory.create(organisation=other_org))
    with scope(organisation=org):
        services.phase_status_refresh(organisation=org, today=datetime.date(2025, 6, 1))
    with scopes_disabled():
        theirs.refresh_from_db()
    assert theirs.status == Phase.Status.PLANNED


@pytest.fixture
def extension_setup(org: Organisation) -> dict:
    group = WorkingGroupFactory.create(organisation=org, name="Circularity")
    phase = PhaseFactory.create(group=group)
    staff = UserFactory.create()
    participants = [UserFactory.create() for _ in range(3)]
    for person in participants:
        services.group_role_grant(
            group=group, user=person, role=GroupRole.PARTICIPANT, acting_user=staff
        )
    with scope(organisation=org):
        extension = services.phase_extension_propose(
            phase=phase,
            need="The consultation drafts need a second round of review.",
            name="Phase 2",
            starts_on=datetime.date(2026, 1, 15),
            ends_on=datetime.date(2026, 12, 15),
            meetings_min=4,
            meetings_max=6,
            answers_due_on=datetime.date(2025, 12, 1),
            acting_user=staff,
        )
    return {
        "group": group,
        "phase": phase,
        "staff": staff,
        "people": participants,
        "ext": extension,
    }


def test_extension_approved_with_participants_agreement_creates_the_phase(
    org: Organisation, extension_setup: dict
) -> None:
    s = extension_setup
    with scope(organisation=org):
        services.phase_extension_answer(
            extension=s["ext"], participant=s["people"][0], answer=ExtensionAnswer.Answer.AGREE
        )
        services.phase_extension_answer(
            extension=s["ext"], participant=s["people"][1], answer=ExtensionAnswer.Answer.AGREE
        )
        services.phase_extension_answer(
            extension=s["ext"],
            participant=s["people"][2],
            answer=ExtensionAnswer.Answer.DISAGREE,
            comment="I cannot commit another year.",
        )
        decided = services.phase_extension_decide(
            extension=s["ext"], approve=True, note="Agreed at meeting 8.", acting_user=s["staff"]
        )
        assert decided.status == PhaseExtension.Status.APPROVED
        assert decided.new_phase is not None
        assert decided.new_phase.number == 2
        assert decided.new_phase.meetings_range == "4–6"
        assert list(s["group"].phases.values_list("name", flat=True)) == ["Phase 1", "Phase 2"]
        entry = AuditEntry.objects.get(action="phase_extension.decide")
        assert entry.data["tally"] == {"agree": 2, "disagree": 1, "abstain": 0}
        # Each participant's answer stays recorded with the decision.
        assert decided.answers.count() == 3


def test_extension_cannot_be_approved_without_agreement(
    org: Organisation, extension_setup: dict
) -> None:
    s = extension_setup
    with scope(organisation=org):
        services.phase_extension_answer(
            extension=s["ext"], participant=s["people"][0], answer=ExtensionAnswer.Answer.DISAGREE
        )
        with pytest.raises(services.ExtensionNotAgreed, match="0 agree and 1 do not"):
            services.phase_extension_decide(
                extension=s["ext"], approve=True, note="", acting_user=s["staff"]
            )
        s["ext"].refresh_from_db()
        assert s["ext"].status == PhaseExtension.Status.OPEN
        assert Phase.objects.filter(group=s["group"]).count() == 1


def test_only_participants_answer_and_only_while_open(
    org: Organisation, extension_setup: dict
) -> None:
    s = extension_setup
    with scope(organisation=org):
        with pytest.raises(services.NotAParticipant):
            services.phase_extension_answer(
                extension=s["ext"],
                participant=UserFactory.create(),
                answer=ExtensionAnswer.Answer.AGREE,
            )
        services.phase_extension_decide(
            extension=s["ext"], approve=False, note="Not needed.", acting_user=s["staff"]
        )
        with pytest.raises(services.ExtensionNotOpen):
            services.phase_extension_answer(
                extension=s["ext"], participant=s["people"][0], answer=ExtensionAnswer.Answer.AGREE
            )
        assert ExtensionAnswer.objects.count() == 0


def test_changing_an_answer_keeps_one_answer_per_participant(
    org: Organisation, extension_setup: dict
) -> None:
    s = extension_setup
    with scope(organisation=org):
        for answer in (ExtensionAnswer.Answer.DISAGREE, ExtensionAnswer.Answer.AGREE):
            services.phase_extension_answer(
                extension=s["ext"], participant=s["people"][0], answer=answer
            )
        assert list(s["ext"].answers.values_list("answer", flat=True)) == ["agree"]


def test_second_open_extension_of_a_phase_is_refused(
    org: Organisation, extension_setup: dict
) -> None:
    s = extension_setup
    with scope(organisation=org), pytest.raises(DomainError, match="already open"):
        services.phase_extension_propose(
            phase=s["phase"],
            need="Again",
            name="Phase 2b",
            starts_on=datetime.date(2026, 1, 1),
            ends_on=datetime.date(2026, 6, 1),
            meetings_min=1,
            meetings_max=2,
            answers_due_on=datetime.date(2025, 12, 1),
            acting_user=s["staff"],
        )


def test_extension_with_end_before_start_is_refused(org: Organisation) -> None:
    phase = PhaseFactory.create(group=WorkingGroupFactory.create(organisation=org))
    with scope(organisation=org), pytest.raises(services.InvalidPhaseDates):
        services.phase_extension_propose(
            phase=phase,
            need="Needed",
            name="Phase 2",
            starts_on=datetime.date(2026, 6, 1),
            ends_on=datetime.date(2026, 1, 1),
            meetings_min=1,
            meetings_max=2,
            answers_due_on=datetime.date(2025, 12, 1),
            acting_user=UserFactory.create(),
        )
    with scope(organisation=org):
        assert PhaseExtension.objects.count() == 0
