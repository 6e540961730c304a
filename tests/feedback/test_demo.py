"""The feedback demo: frameworks, a draft Performance Standard V4, an open Circularity round, and
a closed round with a few hundred answers and dispositions, some published."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django_scopes import scopes_disabled

from asi_wg.models import Organisation, User
from feedback.demo import CLOSED_TITLE, OPEN_TITLE
from feedback.models import Answer, Criterion, Disposition, FeedbackRound, Framework
from meetings.selectors import seated_group_ids

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_draft_with_criteria_an_open_round_and_a_closed_round(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo")
    asi = Organisation.objects.get(slug="asi")
    with scopes_disabled():
        counts = {
            "answers": Answer.objects.count(),
            "dispositions": Disposition.objects.count(),
            "rounds": FeedbackRound.objects.count(),
        }
    call_command("load_demo")  # safe to run again: nothing added twice
    with scopes_disabled():
        assert counts == {
            "answers": Answer.objects.count(),
            "dispositions": Disposition.objects.count(),
            "rounds": FeedbackRound.objects.count(),
        }
        assert Framework.objects.filter(organisation=asi).count() == 10
        criteria = Criterion.objects.filter(organisation=asi)
        assert criteria.count() >= 30
        assert not FeedbackRound.objects.filter(organisation__slug="demo").exists()

        open_round = FeedbackRound.objects.get(organisation=asi, title=OPEN_TITLE)
        assert open_round.group.slug == "circularity"
        assert open_round.is_open()
        drafted = Answer.objects.filter(round=open_round, author__email="participant@asi.example")
        assert drafted.count() == 2
        # One of them rewritten after an early disposition: the triage flags it.
        early = Disposition.objects.get(answer__round=open_round)
        assert early.published_at is None
        assert early.answer.updated_at > early.decided_at

        closed = FeedbackRound.objects.get(organisation=asi, title=CLOSED_TITLE)
        assert not closed.is_open()
        assert closed.document_id == open_round.document_id
        assert 15 <= closed.criteria.count() <= 30
        answers = Answer.objects.filter(round=closed)
        assert answers.count() >= 200
        # Only the group's seated participants answered.
        for author in User.objects.filter(feedback_answers__round=closed).distinct():
            assert closed.group_id in seated_group_ids(organisation=asi, user=author)
        assert answers.filter(author__email="participant@asi.example").exists()
        assert answers.filter(submitted_at__isnull=True).exists()  # some drafts
        assert not answers.filter(submitted_at__gt=closed.closes_at).exists()
        assert answers.filter(referred_to__isnull=False).exclude(referred_to=closed.group).exists()
        assert not answers.filter(referred_to=closed.group).exists()
        assert len(set(answers.values_list("comment_type", flat=True))) >= 3
        assert len(set(answers.values_list("relevance", flat=True))) >= 5
        assert answers.filter(frameworks__isnull=False).exists()
        assert answers.filter(objectives__isnull=False).exists()
        assert len(set(answers.exclude(comment="").values_list("comment", flat=True))) >= 50

        dispositions = Disposition.objects.filter(answer__round=closed)
        commented = answers.exclude(comment="").filter(submitted_at__isnull=False).count()
        assert dispositions.count() > commented / 2  # most comments have a response
        published = dispositions.filter(published_at__isnull=False)
        assert 0 < published.count() < dispositions.count()
        assert len(set(published.values_list("published_at", flat=True))) == 1  # one batch
        assert not dispositions.filter(response="").exists()
    # Loading the demo (its round publications included) e-mails nobody about feedback.
    assert not [m for m in mail.outbox if "feedback" in str(m.subject).lower()]


def test_the_closed_demo_round_has_a_published_synopsis_once(
    django_capture_on_commit_callbacks: Any,
) -> None:
    from feedback.models import Synopsis
    from membership.models import Member

    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo")
    call_command("load_demo")
    with scopes_disabled():
        published = Synopsis.objects.get(
            round__title=CLOSED_TITLE, round__organisation__slug="asi", published_at__isnull=False
        )
        named = set(Member.objects.filter(name_in_publications=True).values_list("name", flat=True))
    assert published.version == 1
    # The tests' demo typesets no PDF (DEMO_PDF_SUMMARY); test_synopsis reads one back.
    assert not published.pdf
    assert published.content["comments"] > 100
    assert named
    client = Client()
    page = client.get(f"/asi/synopses/{published.pk}/").content.decode()
    assert CLOSED_TITLE in page
    assert any(name in page for name in named)
