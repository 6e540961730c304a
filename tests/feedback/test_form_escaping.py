"""Script and markup typed into any free-text field shows as text on every participant page of
the feedback form: the answer's own texts, the criterion, the round, the group, the frameworks
and the secretariat's response."""

from __future__ import annotations

import pytest
from django_scopes import scope, scopes_disabled

from asi_wg.models import User
from feedback import services
from feedback.models import Framework
from tests.feedback.conftest import Consultation, make_round
from tests.meetings.conftest import client_for

pytestmark = pytest.mark.django_db

PAYLOAD = (
    "<script>alert(1)</script> <img src=x onerror=alert(1)> javascript:alert(1) "
    "[x](javascript:alert(1))"
)
RAW = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '<img src="x"')
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(1)&gt;"


def assert_shown_as_text(html: str, where: str) -> None:
    for raw in RAW:
        assert raw not in html, f"{where}: {raw!r} is markup"
    assert 'href="javascript:' not in html.lower(), where
    assert "onerror=alert(1)>" not in html, where
    assert ESCAPED in html, f"{where}: the payload is not shown as text"
    assert "[x](javascript:alert(1))" in html, where


def test_payloads_in_every_free_text_field_show_as_text_on_every_page(
    consultation: Consultation, secretariat: User
) -> None:
    org = consultation.group.organisation
    with scopes_disabled():
        group = consultation.group
        group.name = PAYLOAD
        group.save()
        for criterion in consultation.criteria.values():
            criterion.title = PAYLOAD
            criterion.text = PAYLOAD
            criterion.guidance = PAYLOAD
            criterion.save()
        framework = Framework.objects.create(organisation=org, name=PAYLOAD)
        feedback_round = consultation.round
        feedback_round.title = PAYLOAD
        feedback_round.instructions = PAYLOAD
        feedback_round.save()
    crit = consultation.criteria["5.3"]
    closed_round = make_round(
        group=consultation.group,
        document=consultation.document,
        criteria=[consultation.criteria["5.10"]],
        staff=secretariat,
        title=PAYLOAD,
        instructions=PAYLOAD,
    )
    texts = {"comment": PAYLOAD, "proposed_change": PAYLOAD, "risks_opportunities": PAYLOAD}
    with scope(organisation=org):
        services.answer_save(
            round=feedback_round,
            criterion=crit,
            user=consultation.participant,
            data={**texts, "frameworks": [framework]},
            expected_version=0,
        )
        answered = services.answer_save(
            round=closed_round,
            criterion=consultation.criteria["5.10"],
            user=consultation.participant,
            data={**texts, "frameworks": [framework]},
            expected_version=0,
            submit=True,
        )
        services.round_close(round=closed_round, acting_user=secretariat)
        services.disposition_set(
            answers=[answered], status="noted", response=PAYLOAD, acting_user=secretariat
        )
        services.dispositions_publish(round=closed_round, acting_user=secretariat)

    client = client_for(consultation.participant)
    base = f"/alu/feedback/rounds/{feedback_round.pk}/"
    answer_url = f"{base}criteria/{crit.pk}/"
    closed_answer = (
        f"/alu/feedback/rounds/{closed_round.pk}/criteria/{consultation.criteria['5.10'].pk}/"
    )
    pages = {
        "list": client.get("/alu/feedback/"),
        "overview": client.get(base),
        "answer": client.get(answer_url),
        "next criterion": client.get(f"{base}criteria/{consultation.criteria['5.3.1'].pk}/"),
        "closed overview": client.get(f"/alu/feedback/rounds/{closed_round.pk}/"),
        "read-only answer with response": client.get(closed_answer),
        "group page": client.get(f"/alu/groups/{consultation.group.slug}/"),
        # A conflict: both versions on the page, and in the autosave's fragment.
        "conflict": client.post(answer_url, {"version": "0", **texts, "save": "1"}),
        "autosave conflict": client.post(
            f"{answer_url}autosave/", {"version": "0", **texts}, HTTP_HX_REQUEST="true"
        ),
    }
    for where, response in pages.items():
        assert response.status_code in (200, 409), where
        html = response.content.decode()
        if where == "group page":
            # The group page shows the round's title (and the group's name).
            assert ESCAPED in html
            for raw in RAW:
                assert raw not in html
            continue
        assert_shown_as_text(html, where)
    assert "Noted" in pages["read-only answer with response"].content.decode()
