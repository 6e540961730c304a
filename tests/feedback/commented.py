"""A closed round with comments (formula payloads among them), dispositions published and not,
a second group's round on the same document, and another tenant's comment: the data of the
ISO table and synopsis tests (the fixture ``commented``, offered by tests/feedback/conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django_scopes import scope, scopes_disabled

from asi_wg.models import Organisation, User
from feedback import services
from feedback.models import Answer, FeedbackRound
from membership.models import Member, ParticipantProfile
from tests.factories import CriterionFactory, DraftDocumentFactory, WorkingGroupFactory
from tests.feedback.conftest import Consultation, make_round
from tests.meetings.conftest import seat_person

SECRET_NAME = "Pat Secretname"  # no consent to publish the name
CONSENTING_NAME = "Sam Consenting"  # consented to their name (still never in these outputs)
MEMBER = "Alu Smelter Co"
OTHER_TENANT_COMMENT = "Other tenant comment on 5.3"


@dataclass
class Commented:
    consultation: Consultation
    round: FeedbackRound  # closed
    second_round: FeedbackRound  # the other group's, open, on the same document
    other_tenant_round: FeedbackRound
    answers: dict[str, Answer]  # by a short name


@pytest.fixture
def commented(
    consultation: Consultation,
    org: Organisation,
    other_org: Organisation,
    secretariat: User,
    other_secretariat: User,
) -> Commented:
    c = consultation
    with scopes_disabled():
        c.participant.full_name = SECRET_NAME
        c.participant.save()
        c.second.full_name = CONSENTING_NAME
        c.second.save()
        ParticipantProfile.objects.filter(user=c.second).update(name_consent=True)
        profile = ParticipantProfile.objects.get(user=c.participant, organisation=org)
        Member.objects.filter(representatives=profile).update(name=MEMBER)
        criterion_510 = c.criteria["5.10"]
    second_round = make_round(
        group=c.other_group,
        document=c.document,
        criteria=[c.criteria["5.9"], criterion_510],
        staff=secretariat,
        title="Nature's consultation",
    )
    answers: dict[str, Answer] = {}
    with scope(organisation=org):

        def say(name: str, user: User, feedback_round: FeedbackRound, ref: str, **data: str):
            answers[name] = services.answer_save(
                round=feedback_round,
                criterion=c.criteria[ref],
                user=user,
                data={"relevance": 4, **data},
                expected_version=0,
                submit=True,
            )

        say(
            "payload",
            c.participant,
            c.round,
            "5.3",
            comment="=cmd|' /C calc'!A0",
            proposed_change="@SUM(1+1)",
            comment_type="technical",
        )
        say(
            "editorial",
            c.participant,
            c.round,
            "5.9",
            comment="Typo in 5.9.",
            comment_type="editorial",
        )
        say(
            "general",
            c.second,
            c.round,
            "5.3.1",
            comment="-1+1 is how it starts.",
            comment_type="general",
            risks_opportunities="Smelters may close.",
        )
        say("nature", c.outsider, second_round, "5.10", comment="Nature's view on 5.10.")
        services.disposition_set(
            answers=[answers["payload"]],
            status="accepted",
            response="+1 we agree",
            acting_user=secretariat,
        )
        services.disposition_set(
            answers=[answers["general"]],
            status="not_accepted",
            response="Out of scope.",
            acting_user=secretariat,
        )
        services.round_close(round=c.round, acting_user=secretariat)
        services.dispositions_publish(round=c.round, acting_user=secretariat)
        # Decided after publication: a draft disposition, not yet public.
        services.disposition_set(
            answers=[answers["editorial"]],
            status="noted",
            response="Draft answer, not public yet.",
            acting_user=secretariat,
        )
    with scopes_disabled():
        other_group = WorkingGroupFactory.create(organisation=other_org, slug="water")
        other_document = DraftDocumentFactory.create(organisation=other_org)
        other_criterion = CriterionFactory.create(document=other_document, reference="5.3")
        other_round = FeedbackRound.objects.create(
            organisation=other_org,
            group=other_group,
            document=other_document,
            title="Other tenant's round",
            opens_at=c.round.opens_at,
            closes_at=c.round.closes_at,
        )
        other_round.criteria.add(other_criterion)
        stranger = seat_person(other_group, other_secretariat).holder
        Answer.objects.create(
            organisation=other_org,
            round=other_round,
            criterion=other_criterion,
            author=stranger,
            comment=OTHER_TENANT_COMMENT,
            submitted_at=c.round.opens_at,
        )
    c.round.refresh_from_db()
    return Commented(c, c.round, second_round, other_round, answers)
