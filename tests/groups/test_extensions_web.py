"""Extending a group into a further phase, through the pages people use: the secretariat asks in
its admin, each participant answers on the group page, the secretariat records the decision."""

from __future__ import annotations

import pytest
from django.test import Client
from django_scopes import scopes_disabled

from asi_wg.models import Organisation, User
from groups import services
from groups.models import ExtensionAnswer, GroupRole, Phase, PhaseExtension
from tests.factories import PhaseFactory, UserFactory, WorkingGroupFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def circularity(org: Organisation):
    group = WorkingGroupFactory.create(organisation=org, name="Circularity", slug="circularity")
    PhaseFactory.create(group=group)
    return group


@pytest.fixture
def participant(circularity) -> User:
    person = UserFactory.create(email="pat@member.example")
    services.group_role_grant(
        group=circularity, user=person, role=GroupRole.PARTICIPANT, acting_user=None
    )
    return person


def propose(client: Client, circularity) -> PhaseExtension:
    with scopes_disabled():
        phase = Phase.objects.get(group=circularity)
    response = client.post(
        f"/alu/admin/groups/phase/{phase.pk}/extend/",
        {
            "need": "A second consultation draft needs review.",
            "name": "Phase 2",
            "starts_on": "2027-02-01",
            "ends_on": "2027-11-30",
            "meetings_min": 4,
            "meetings_max": 6,
            "answers_due_on": "2026-12-18",
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    with scopes_disabled():
        return PhaseExtension.objects.get(group=circularity)


def test_whole_extension_flow(
    secretariat_client: Client, circularity, participant: User, client: Client
) -> None:
    extension = propose(secretariat_client, circularity)

    client.force_login(participant)
    page = client.get("/alu/groups/circularity/").content.decode()
    assert "Should this group continue into Phase 2?" in page
    answer_url = f"/alu/groups/circularity/extensions/{extension.pk}/"
    assert answer_url in page

    form = client.get(answer_url).content.decode()
    assert "1 February 2027 to 30 November 2027" in form
    response = client.post(answer_url, {"answer": "agree", "comment": "Happy to continue."})
    assert response.status_code == 302
    assert (
        "You answered “I agree to continue”"
        in client.get("/alu/groups/circularity/").content.decode()
    )

    decide_url = f"/alu/admin/groups/phaseextension/{extension.pk}/decide/"
    tally_page = secretariat_client.get(decide_url).content.decode()
    assert "<td>1</td><td>0</td><td>0</td><td>1</td>" in tally_page
    response = secretariat_client.post(decide_url, {"decision": "approve", "note": "Agreed."})
    assert response.status_code == 302
    with scopes_disabled():
        extension.refresh_from_db()
        assert extension.status == PhaseExtension.Status.APPROVED
        assert list(circularity.phases.values_list("name", flat=True)) == ["Phase 1", "Phase 2"]
    # Once decided, the participant is no longer asked.
    assert (
        "Should this group continue" not in client.get("/alu/groups/circularity/").content.decode()
    )


def test_approval_without_agreement_is_refused_with_a_message(
    secretariat_client: Client, circularity, participant: User
) -> None:
    extension = propose(secretariat_client, circularity)
    response = secretariat_client.post(
        f"/alu/admin/groups/phaseextension/{extension.pk}/decide/",
        {"decision": "approve", "note": ""},
    )
    assert response.status_code == 200
    assert "The participants have not agreed: 0 agree and 0 do not." in response.content.decode()
    with scopes_disabled():
        extension.refresh_from_db()
    assert extension.status == PhaseExtension.Status.OPEN


def test_non_participant_and_other_tenant_get_404(
    secretariat_client: Client,
    circularity,
    participant: User,
    client: Client,
    other_secretariat_client: Client,
) -> None:
    extension = propose(secretariat_client, circularity)
    url = f"/alu/groups/circularity/extensions/{extension.pk}/"
    client.force_login(UserFactory.create())
    assert client.get(url).status_code == 404
    assert client.post(url, {"answer": "agree"}).status_code == 404
    assert other_secretariat_client.post(url, {"answer": "agree"}).status_code == 404
    assert (
        other_secretariat_client.post(
            f"/alu/admin/groups/phaseextension/{extension.pk}/decide/", {"decision": "reject"}
        ).status_code
        == 404
    )
    with scopes_disabled():
        assert ExtensionAnswer.objects.count() == 0
        extension.refresh_from_db()
    assert extension.status == PhaseExtension.Status.OPEN


def test_anonymous_visitor_is_asked_to_sign_in(
    secretariat_client: Client, circularity, participant: User, client: Client
) -> None:
    extension = propose(secretariat_client, circularity)
    response = client.get(f"/alu/groups/circularity/extensions/{extension.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_bad_answer_is_refused_and_changes_nothing(
    secretariat_client: Client, circularity, participant: User, client: Client
) -> None:
    extension = propose(secretariat_client, circularity)
    client.force_login(participant)
    response = client.post(
        f"/alu/groups/circularity/extensions/{extension.pk}/", {"answer": "maybe"}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    with scopes_disabled():
        assert ExtensionAnswer.objects.count() == 0


def test_proposal_with_end_before_start_shows_the_error(
    secretariat_client: Client, circularity
) -> None:
    with scopes_disabled():
        phase = Phase.objects.get(group=circularity)
    response = secretariat_client.post(
        f"/alu/admin/groups/phase/{phase.pk}/extend/",
        {
            "need": "Needed.",
            "name": "Phase 2",
            "starts_on": "2027-06-01",
            "ends_on": "2027-01-01",
            "meetings_min": 6,
            "meetings_max": 4,
            "answers_due_on": "2026-12-18",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "The phase ends on or after the day it starts." in page
    assert "The most meetings is at least the fewest." in page
    with scopes_disabled():
        assert PhaseExtension.objects.count() == 0
