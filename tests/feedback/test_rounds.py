"""Staff open, close and extend rounds; dispositions are set in bulk and published in one batch."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from asi_wg.errors import DomainError
from asi_wg.models import AuditEntry, Organisation, User
from feedback import selectors, services
from feedback.models import Answer, Disposition, FeedbackRound
from tests.feedback.conftest import Consultation, make_round

pytestmark = pytest.mark.django_db


def test_a_round_is_created_only_with_its_own_documents_criteria_and_sane_times(
    consultation: Consultation, secretariat: User
) -> None:
    other_document_criterion = consultation.criteria["5.3"]
    now = timezone.now()
    with pytest.raises(DomainError, match="closes after it opens"):
        make_round(
            group=consultation.group,
            document=consultation.document,
            criteria=[other_document_criterion],
            staff=secretariat,
            opens_at=now,
            closes_at=now,
        )
    from tests.factories import DraftDocumentFactory

    elsewhere = DraftDocumentFactory.create(organisation=consultation.group.organisation)
    with pytest.raises(DomainError, match="Not criteria of"):
        make_round(
            group=consultation.group,
            document=elsewhere,
            criteria=[other_document_criterion],
            staff=secretariat,
        )
    with scopes_disabled():
        assert FeedbackRound.objects.count() == 1


def test_open_close_and_extend(
    consultation: Consultation, secretariat: User, org: Organisation
) -> None:
    now = timezone.now()
    scheduled = make_round(
        group=consultation.group,
        document=consultation.document,
        criteria=[consultation.criteria["5.9"]],
        staff=secretariat,
        opens_at=now + datetime.timedelta(days=2),
        closes_at=now + datetime.timedelta(days=9),
    )
    with scope(organisation=org):
        assert scheduled.state() == FeedbackRound.State.SCHEDULED
        assert selectors.rounds_open_for_user(organisation=org, user=consultation.participant) == [
            consultation.round
        ]
        opened = services.round_open(round=scheduled, acting_user=secretariat)
        assert opened.is_open()
        with pytest.raises(DomainError, match="already open"):
            services.round_open(round=opened, acting_user=secretariat)
        assert (
            len(selectors.rounds_open_for_user(organisation=org, user=consultation.participant))
            == 2
        )
        assert selectors.rounds_open_for_user(organisation=org, user=consultation.outsider) == []

        closed = services.round_close(round=opened, acting_user=secretariat)
        assert closed.state() == FeedbackRound.State.CLOSED
        with pytest.raises(services.RoundNotOpen):
            services.round_close(round=closed, acting_user=secretariat)
        with pytest.raises(DomainError, match="extend it to open it again"):
            services.round_open(round=closed, acting_user=secretariat)
        with pytest.raises(DomainError, match="later than both now and the current one"):
            services.round_extend(round=closed, closes_at=closed.closes_at, acting_user=secretariat)
        later = closed.closes_at + datetime.timedelta(days=7)
        extended = services.round_extend(round=closed, closes_at=later, acting_user=secretariat)
    assert extended.is_open()
    assert extended.closes_at == later
    with scopes_disabled():
        actions = list(
            AuditEntry.objects.filter(target_id=str(scheduled.pk), action__startswith="round.")
            .order_by("id")
            .values_list("action", flat=True)
        )
        entry = AuditEntry.objects.get(action="round.extend")
    assert actions == ["round.create", "round.open", "round.close", "round.extend"]
    assert entry.data["reopened"] is True


def _answer(consultation: Consultation, user: User, ref: str) -> Answer:
    with scope(organisation=consultation.round.organisation):
        return services.answer_save(
            round=consultation.round,
            criterion=consultation.criteria[ref],
            user=user,
            data={"comment": f"On {ref}"},
            expected_version=0,
        )


def test_bulk_dispositions_stay_private_until_published_in_one_batch(
    consultation: Consultation, secretariat: User, org: Organisation
) -> None:
    a = _answer(consultation, consultation.participant, "5.3")
    b = _answer(consultation, consultation.second, "5.3")
    c = _answer(consultation, consultation.participant, "5.9")
    with scope(organisation=org):
        done = services.disposition_set(
            answers=[a, b],
            status=Disposition.Status.NOTED,
            response="Thank you: considered for draft 2.",
            acting_user=secretariat,
        )
        assert len(done) == 2
        assert all(d.published_at is None for d in done)
        with pytest.raises(services.RoundNotOpen, match="once the round has closed"):
            services.dispositions_publish(round=consultation.round, acting_user=secretariat)
        services.round_close(round=consultation.round, acting_user=secretariat)
        # A change before publication is fine: the last word counts.
        services.disposition_set(
            answers=[b], status=Disposition.Status.ACCEPTED, response="", acting_user=secretariat
        )
        assert services.dispositions_publish(round=consultation.round, acting_user=secretariat) == 2
        with pytest.raises(services.DispositionPublished, match="Nothing was saved"):
            services.disposition_set(
                answers=[c, a],
                status=Disposition.Status.NOT_ACCEPTED,
                response="",
                acting_user=secretariat,
            )
        assert not Disposition.objects.filter(answer=c).exists()  # all or nothing
        with pytest.raises(DomainError, match="does not open again"):
            services.round_extend(
                round=consultation.round,
                closes_at=timezone.now() + datetime.timedelta(days=30),
                acting_user=secretariat,
            )
        services.disposition_set(
            answers=[c],
            status=Disposition.Status.REFERRED,
            response="To Nature.",
            acting_user=secretariat,
        )
        assert services.dispositions_publish(round=consultation.round, acting_user=secretariat) == 1
        with pytest.raises(DomainError, match="no unpublished disposition"):
            services.dispositions_publish(round=consultation.round, acting_user=secretariat)
        statuses = dict(Disposition.objects.values_list("answer_id", "status"))
        published = Disposition.objects.filter(published_at__isnull=False).count()
    assert statuses == {a.pk: "noted", b.pk: "accepted", c.pk: "referred"}
    assert published == 3
