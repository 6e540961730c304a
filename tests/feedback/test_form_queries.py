"""The participant's pages cost the same number of queries for a round of 10 criteria and of 300,
with the person's answers on every one of them (no per-criterion query)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scopes_disabled

from asi_wg.models import Organisation, User
from feedback.models import Answer, Criterion, Disposition
from tests.factories import FrameworkFactory, RevisionObjectiveFactory
from tests.feedback.conftest import Consultation, make_round
from tests.meetings.conftest import client_for

pytestmark = pytest.mark.django_db


def big_round(consultation: Consultation, secretariat: User, size: int) -> Any:
    org = consultation.group.organisation
    with scopes_disabled():
        criteria = Criterion.objects.bulk_create(
            Criterion(
                organisation=org,
                document=consultation.document,
                reference=f"7.{n}",
                sort_key=f"7.{n:06d}",
                title=f"Criterion {n}",
                text="The entity shall…",
                guidance="Some guidance.",
            )
            for n in range(1, size + 1)
        )
        framework = FrameworkFactory.create(organisation=org)
        objective = RevisionObjectiveFactory.create(organisation=org)
    feedback_round = make_round(
        group=consultation.group,
        document=consultation.document,
        criteria=criteria,
        staff=secretariat,
        title="Big round",
    )
    with scopes_disabled():
        answers = Answer.objects.bulk_create(
            Answer(
                organisation=org,
                round=feedback_round,
                criterion=criterion,
                author=consultation.participant,
                comment=f"On {criterion.reference}",
                relevance=3,
                submitted_at=timezone.now() if n % 2 else None,
            )
            for n, criterion in enumerate(criteria)
        )
        for answer in answers:
            answer.frameworks.add(framework)
            answer.objectives.add(objective)
        Disposition.objects.bulk_create(
            Disposition(organisation=org, answer=answer, status="noted") for answer in answers
        )
    return feedback_round, criteria


def count(client: Client, url: str, method: str = "get", **kw: Any) -> tuple[int, Any]:
    getattr(client, method)(url, **kw)  # warm the session and the caches
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url, **kw)
    return len(queries), response


@pytest.mark.parametrize("size", [10, 300])
def test_the_overview_costs_the_same_for_10_or_300_criteria(
    consultation: Consultation, secretariat: User, org: Organisation, size: int
) -> None:
    feedback_round, _criteria = big_round(consultation, secretariat, size)
    queries, response = count(
        client_for(consultation.participant), f"/alu/feedback/rounds/{feedback_round.pk}/"
    )
    assert response.status_code == 200
    assert response.content.decode().count("Draft</span>") == size // 2
    # user, the round with the person's seat and antitrust acknowledgement, criteria, answer
    # states, and the navigation's roles (the tenant and the session are cached)
    assert queries == 5


@pytest.mark.parametrize("size", [10, 300])
def test_the_answer_page_costs_the_same_for_10_or_300_criteria(
    consultation: Consultation, secretariat: User, size: int
) -> None:
    feedback_round, criteria = big_round(consultation, secretariat, size)
    url = f"/alu/feedback/rounds/{feedback_round.pk}/criteria/{criteria[size // 2].pk}/"
    client = client_for(consultation.participant)
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    queries = len(captured)
    assert response.status_code == 200
    assert f"On {criteria[size // 2].reference}" in response.content.decode()
    # user, the round with the person's seat and antitrust acknowledgement, outline, criterion,
    # answer states, the answer with its frameworks and objectives, and the navigation's roles
    # (the session, the tenant and the lists of choices are cached)
    assert queries == 9, "\n".join(q["sql"] for q in captured.captured_queries)


@pytest.mark.parametrize("size", [10, 300])
def test_the_autosave_costs_the_same_for_10_or_300_criteria(
    consultation: Consultation, secretariat: User, size: int
) -> None:
    feedback_round, criteria = big_round(consultation, secretariat, size)
    url = f"/alu/feedback/rounds/{feedback_round.pk}/criteria/{criteria[size // 2].pk}/autosave/"
    client = client_for(consultation.participant)
    client.post(url, {"version": "1", "comment": "warm"}, HTTP_HX_REQUEST="true")
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            url, {"version": "2", "comment": "Typed on."}, HTTP_HX_REQUEST="true"
        )
    assert response.status_code == 200, response.content.decode()
    assert 'value="3"' in response.content.decode()
    # The user, then in a transaction (BEGIN and COMMIT): the round and its criterion in one row
    # under a share lock on the round (a close waits for the save, or the save for the close),
    # with the person's seat and antitrust acknowledgement; the locked answer with whether it
    # links any framework or objective (none are sent, none are linked: their rows are not
    # read); the update and the audit entry. The view reads nothing else: the form is built
    # from the round the service read.
    assert len(queries) == 7, "\n".join(q["sql"] for q in queries.captured_queries)


@pytest.mark.parametrize("size", [10, 300])
def test_the_list_costs_the_same_for_10_or_300_criteria(
    consultation: Consultation, secretariat: User, size: int
) -> None:
    big_round(consultation, secretariat, size)
    queries, response = count(client_for(consultation.participant), "/alu/feedback/")
    assert response.status_code == 200
    assert f"{size} of {size}</strong> criteria answered" in response.content.decode()
    # user (the session is cached), seats, the rounds with their counts, the navigation's roles
    assert queries == 4


def test_the_forms_lists_come_from_the_cache_and_show_a_change_at_once(
    consultation: Consultation, org: Organisation
) -> None:
    criterion = consultation.criteria["5.3"]
    url = f"/alu/feedback/rounds/{consultation.round.pk}/criteria/{criterion.pk}/"
    client = client_for(consultation.participant)
    assert "GRI 303" not in client.get(url).content.decode()
    framework = FrameworkFactory.create(organisation=org, name="GRI 303")
    assert "GRI 303" in client.get(url).content.decode()
    objective = RevisionObjectiveFactory.create(organisation=org, title="Raise the bar")
    assert "Raise the bar" in client.get(url).content.decode()
    with scopes_disabled():
        consultation.other_group.name = "Nature and Biodiversity"
        consultation.other_group.save()
    assert "Nature and Biodiversity" in client.get(url).content.decode()
    # The autosave validates against the same lists: the new rows are valid choices.
    response = client.post(
        f"{url}autosave/",
        {"version": "0", "frameworks": [framework.pk], "objectives": [objective.pk]},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200, response.content.decode()
    with scopes_disabled():
        saved = Answer.objects.get(author=consultation.participant)
        assert list(saved.frameworks.all()) == [framework]
