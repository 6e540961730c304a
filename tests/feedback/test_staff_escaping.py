"""Script and markup typed into any free-text field shows as text on the secretariat's feedback
pages: never a tag, an event handler or a javascript: link."""

from __future__ import annotations

import html

import pytest
from django.test import Client
from django_scopes import scope, scopes_disabled

from asi_wg.models import Organisation, User
from feedback import services
from feedback.models import Criterion, DraftDocument, FeedbackRound, Framework
from groups.models import RevisionObjective, WorkingGroup
from membership.models import Member
from tests.factories import FrameworkFactory, RevisionObjectiveFactory
from tests.feedback.conftest import Consultation
from tests.feedback.test_staff_triage import answer

pytestmark = pytest.mark.django_db

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "[x](javascript:alert(1))",
]
EVIL = " ".join(PAYLOADS)


def test_payloads_in_every_free_text_field_show_as_text(
    consultation: Consultation, secretariat: User, secretariat_client: Client, org: Organisation
) -> None:
    c = consultation
    with scopes_disabled():
        WorkingGroup.objects.filter(pk=c.group.pk).update(name=EVIL[:120])
        WorkingGroup.objects.filter(pk=c.other_group.pk).update(name=("2 " + EVIL)[:120])
        Criterion.objects.filter(document=c.document).update(title=EVIL, text=EVIL, guidance=EVIL)
        DraftDocument.objects.filter(pk=c.document.pk).update(version_label=EVIL)
        FeedbackRound.objects.filter(pk=c.round.pk).update(title=EVIL, instructions=EVIL)
        Member.objects.filter(seats__holder=c.participant).update(name=EVIL)
        User.objects.filter(pk=c.participant.pk).update(full_name=EVIL)
        framework = FrameworkFactory.create(organisation=org, name=EVIL[:120])
        objective = RevisionObjectiveFactory.create(organisation=org, number=1, title=EVIL)
        c.round.refresh_from_db()
        c.group.refresh_from_db()
        c.participant.refresh_from_db()
        assert Framework.objects.count() == 1
        assert RevisionObjective.objects.count() == 1
    given = answer(
        c.round,
        "5.3",
        c,
        c.participant,
        comment=EVIL,
        proposed_change=EVIL,
        risks_opportunities=EVIL,
        comment_type="general",
        frameworks=[framework],
        objectives=[objective],
        referred_to=c.other_group,
    )
    with scope(organisation=org):
        services.disposition_set(
            answers=[given], status="noted", response=EVIL, acting_user=secretariat
        )
    base = f"/alu/staff/feedback/rounds/{c.round.pk}/"
    pages = {
        "rounds": secretariat_client.get("/alu/staff/feedback/"),
        "triage": secretariat_client.get(base),
        "triage refused": secretariat_client.post(
            base, {"answers": [given.pk], "status": "", "response": EVIL}
        ),
        "close": secretariat_client.get(base + "close/"),
        "extend": secretariat_client.get(base + "extend/"),
        "publish": secretariat_client.get(base + "publish/"),
    }
    with scope(organisation=org):
        services.round_close(round=c.round, acting_user=secretariat)
        services.dispositions_publish(round=c.round, acting_user=secretariat)
    pages["triage published"] = secretariat_client.get(base)
    pages["after a message"] = secretariat_client.post(base + "publish/", follow=True)
    for name, response in pages.items():
        page = response.content.decode()
        assert "<script>alert" not in page, name
        assert "<img src=x" not in page, name
        assert 'href="javascript:' not in page, name
        assert "onerror=alert(1)>" not in page, name
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, name
    triage = pages["triage published"].content.decode()
    # Shown, as text, in every field of the comment and its published response.
    assert html.unescape(triage).count("[x](javascript:alert(1))") >= 8
