"""The committee's summary data: what it counts, whom it names, what it covers, its fingerprint,
and a query count that does not grow with the answers."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from asi_wg.errors import OtherTenant
from asi_wg.models import Organisation, User
from feedback import services, summaries
from feedback.models import Answer, Disposition, FeedbackRound, Framework
from membership.models import Member, MembershipClass, ParticipantProfile, Seat
from tests.factories import (
    CriterionFactory,
    DraftDocumentFactory,
    FrameworkFactory,
    RevisionObjectiveFactory,
    UserFactory,
    WorkingGroupFactory,
)
from tests.feedback.conftest import Consultation, answer, make_round

pytestmark = pytest.mark.django_db


@dataclass
class Data:
    c: Consultation
    nature_round: FeedbackRound
    framework: Framework
    own: Answer
    second: Answer
    draft: Answer
    referred: Answer


@pytest.fixture
def data(consultation: Consultation, secretariat: User, org: Organisation) -> Data:
    c = consultation
    with scopes_disabled():
        objective = RevisionObjectiveFactory.create(organisation=org, number=3, title="Circularity")
        framework = FrameworkFactory.create(organisation=org, name="ISO 59004")
        other_framework = FrameworkFactory.create(organisation=org, name="GHG Protocol")
        profile = ParticipantProfile.objects.get(user=c.participant)
        profile.name_consent = True
        profile.save()
    nature_round = make_round(
        group=c.other_group,
        document=c.document,
        criteria=[c.criteria["5.3"], c.criteria["5.9"]],
        staff=secretariat,
        title="Nature round",
    )
    own = answer(
        c.round,
        "5.3",
        c,
        c.participant,
        relevance=5,
        clarity=2,
        feasibility=0,
        comment="Name the scrap-sorting step.",
        comment_type="technical",
        frameworks=[framework, other_framework],
        objectives=[objective],
        referred_to=c.other_group,
    )
    second = answer(
        c.round,
        "5.3",
        c,
        c.second,
        relevance=3,
        clarity=2,
        frameworks=[framework],
        proposed_change="Say 'post-consumer'.",
    )
    answer(c.round, "5.9", c, c.second, relevance=4)  # ratings only: counted, not a comment
    draft = answer(c.round, "5.3.1", c, c.second, relevance=1, comment="Too vague.", submit=False)
    referred = answer(
        nature_round,
        "5.9",
        c,
        c.outsider,
        comment="Recycled content claims belong to Circularity.",
        referred_to=c.group,
    )
    with scope(organisation=org):
        services.disposition_set(
            answers=[own], status="accepted", response="Will do.", acting_user=secretariat
        )
    return Data(c, nature_round, framework, own, second, draft, referred)


def test_a_rounds_summary_counts_submitted_answers_only(data: Data, org: Organisation) -> None:
    with scope(organisation=org):
        summary = summaries.summary_for_round(data.c.round)
    assert summary.kind == "round"
    assert summary.title == "First consultation"
    assert summary.organisation == "Aluminium Body"
    assert [r.title for r in summary.rounds] == ["First consultation"]
    assert summary.respondents == 2
    assert summary.answers == 3  # the draft is not counted
    assert [(t.label, t.respondents, t.answers) for t in summary.by_group] == [
        ("Circularity", 2, 3)
    ]
    assert sum(t.answers for t in summary.by_class) == 3
    assert sum(t.answers for t in summary.by_region) == 3
    assert {t.label for t in summary.by_region} == {"Europe"}  # the factories' Members are in DE
    assert [c.reference for c in summary.criteria] == ["5.3", "5.3.1", "5.9"]
    first, middle, last = summary.criteria
    assert first.answers == 2
    relevance, clarity, feasibility = first.ratings
    assert relevance.counts == (0, 0, 1, 0, 1)
    assert relevance.mean == 4.0
    assert clarity.counts == (0, 2, 0, 0, 0)
    assert clarity.mean == 2.0
    assert feasibility.counts == (0, 0, 0, 0, 0)
    assert feasibility.no_view == 1
    assert feasibility.mean is None
    assert [(f.name, f.count) for f in first.frameworks] == [("ISO 59004", 2), ("GHG Protocol", 1)]
    assert [(f.name, f.count) for f in summary.frameworks] == [
        ("ISO 59004", 2),
        ("GHG Protocol", 1),
    ]
    assert middle.answers == 0
    assert middle.comments == ()
    assert last.answers == 1
    assert last.comments == ()
    assert summary.comments == 2
    own, second = first.comments
    assert own.comment == "Name the scrap-sorting step."
    assert own.comment_type_label == "Technical"
    assert own.frameworks == ("GHG Protocol", "ISO 59004")  # the tenant's list order
    assert own.objectives == ("3. Circularity",)
    assert own.referred_to == "Nature"
    assert own.disposition is not None
    assert own.disposition.status_label == "Accepted"
    assert own.disposition.response == "Will do."
    assert not own.disposition.published
    assert second.proposed_change == "Say 'post-consumer'."
    assert second.disposition is None
    # Referred out to Nature, and in from Nature's round.
    assert {(r.from_group, r.to_group, r.count) for r in summary.referrals} == {
        ("Circularity", "Nature", 1),
        ("Nature", "Circularity", 1),
    }
    assert sum(p.answers for p in summary.participation) == 3
    assert sum(p.respondents for p in summary.participation) == 2


def test_attribution_names_the_member_class_and_region(data: Data, org: Organisation) -> None:
    with scopes_disabled():
        member = Seat.objects.get(holder=data.c.participant).member
        assert member is not None
        klass = member.membership_class.name
    with scope(organisation=org):
        summary = summaries.summary_for_round(data.c.round)
    attribution = summary.criteria[0].comments[0].attribution
    assert attribution.organisation == member.name
    assert attribution.membership_class == klass
    assert attribution.region == "Europe"
    assert attribution.person == data.c.participant.full_name


def test_no_name_appears_without_consent(data: Data, org: Organisation) -> None:
    """The participant consented, the second person did not: only the first is named, in the
    comments and in the annex; no e-mail address anywhere."""
    with scope(organisation=org):
        built = [
            summaries.summary_for_round(data.c.round),
            summaries.summary_for_group(data.c.group, data.c.document),
            summaries.summary_for_document(data.c.document),
        ]
    for summary in built:
        text = repr(summary)
        assert data.c.second.full_name not in text
        assert data.c.outsider.full_name not in text
        assert data.c.participant.full_name in text
        for person in (data.c.participant, data.c.second, data.c.outsider):
            assert person.email not in text
        names = [name for p in summary.participation for name in p.names]
        assert names == [data.c.participant.full_name]
    # Withdrawn consent: the name is gone.
    with scopes_disabled():
        ParticipantProfile.objects.filter(user=data.c.participant).update(name_consent=False)
    with scope(organisation=org):
        summary = summaries.summary_for_document(data.c.document)
    assert data.c.participant.full_name not in repr(summary)


def test_ipaf_participants_and_experts_are_counted_by_affiliation(
    data: Data, org: Organisation
) -> None:
    with scopes_disabled():
        ParticipantProfile.objects.filter(user=data.c.participant).update(
            affiliation="ipaf", member=None, country="BR"
        )
        ParticipantProfile.objects.filter(user=data.c.second).update(
            affiliation="expert", member=None, expert_organisation="Lab X", country="JP"
        )
    with scope(organisation=org):
        summary = summaries.summary_for_round(data.c.round)
    assert {(t.label, t.answers) for t in summary.by_class} == {
        ("Indigenous Peoples Advisory Forum", 1),
        ("Technical expert", 2),
    }
    assert {(t.label, t.answers) for t in summary.by_region} == {
        ("Latin America and the Caribbean", 1),
        ("Asia", 2),
    }
    assert {(p.organisation, p.membership_class) for p in summary.participation} == {
        ("Indigenous Peoples Advisory Forum", "Indigenous Peoples Advisory Forum"),
        ("Lab X", "Technical expert"),
    }


def test_group_and_document_summaries_cover_their_rounds(data: Data, org: Organisation) -> None:
    with scope(organisation=org):
        group = summaries.summary_for_group(data.c.other_group, data.c.document)
        document = summaries.summary_for_document(data.c.document)
    assert group.kind == "group"
    assert group.group_slug == "nature"
    assert [r.title for r in group.rounds] == ["Nature round"]
    assert [c.reference for c in group.criteria] == ["5.3", "5.9"]
    assert group.answers == 1
    assert group.criteria[1].comments[0].comment == (
        "Recycled content claims belong to Circularity."
    )
    assert document.kind == "document"
    assert {r.title for r in document.rounds} == {"First consultation", "Nature round"}
    # Every criterion of the document, in natural order, asked or not.
    assert [c.reference for c in document.criteria] == ["5.3", "5.3.1", "5.9", "5.10"]
    assert document.answers == 4
    assert document.respondents == 3
    assert {(t.label, t.answers) for t in document.by_group} == {
        ("Circularity", 3),
        ("Nature", 1),
    }


def test_a_summary_of_another_tenants_round_is_refused(data: Data, other_org: Organisation) -> None:
    with scope(organisation=other_org), pytest.raises(OtherTenant):
        summaries.summary_for_round(data.c.round)
    with scope(organisation=other_org), pytest.raises(OtherTenant):
        summaries.summary_fingerprint("document", data.c.document)


def test_another_tenants_answers_never_count(
    data: Data, org: Organisation, other_org: Organisation
) -> None:
    with scope(organisation=org):
        before = summaries.summary_for_document(data.c.document)
    with scopes_disabled():
        # A row of another tenant pointing at this document (as a bug elsewhere might make).
        stranger = UserFactory.create()
        Answer.objects.create(
            organisation=other_org,
            round=data.c.round,
            criterion=data.c.criteria["5.3"],
            author=stranger,
            relevance=1,
            comment="Not yours.",
            submitted_at=timezone.now(),
        )
    with scope(organisation=org):
        after = summaries.summary_for_document(data.c.document)
    assert after.answers == before.answers
    assert "Not yours." not in repr(after)


def fp(kind: str, obj: Any, org: Organisation) -> str:
    with scope(organisation=org):
        return summaries.summary_fingerprint(kind, obj)


def test_the_fingerprint_is_the_summarys_and_moves_with_what_it_shows(
    data: Data, org: Organisation, secretariat: User
) -> None:
    c = data.c
    with scope(organisation=org):
        summary = summaries.summary_for_round(c.round)
    first = fp("round", c.round, org)
    assert len(first) == 64
    assert summary.fingerprint == first
    assert fp("round", c.round, org) == first  # stable
    group_first = fp("group", (c.group, c.document), org)
    document_first = fp("document", c.document, org)

    seen = {first}

    def changed() -> str:
        value = fp("round", c.round, org)
        assert value not in seen
        seen.add(value)
        return value

    # An answer edited.
    with scope(organisation=org):
        services.answer_save(
            round=c.round,
            criterion=c.criteria["5.3"],
            user=c.second,
            data={"comment": "Changed my mind."},
            expected_version=data.second.version,
            submit=True,
        )
    changed()
    # A draft submitted.
    with scope(organisation=org):
        services.answer_save(
            round=c.round,
            criterion=c.criteria["5.3.1"],
            user=c.second,
            data={},
            expected_version=data.draft.version,
            submit=True,
        )
    changed()
    # A disposition written, then changed, then published.
    with scope(organisation=org):
        services.disposition_set(
            answers=[data.second], status="noted", response="Noted.", acting_user=secretariat
        )
    changed()
    with scope(organisation=org):
        services.disposition_set(
            answers=[data.second], status="accepted", response="Yes.", acting_user=secretariat
        )
    changed()
    # A criterion's text.
    with scopes_disabled():
        criterion = c.criteria["5.9"]
        criterion.text = "A sharper text."
        criterion.save()
    changed()
    # Consent given by the second person.
    with scopes_disabled():
        profile = ParticipantProfile.objects.get(user=c.second)
        profile.name_consent = True
        profile.save()
    changed()
    # A round's closing time.
    with scope(organisation=org):
        services.round_extend(
            round=c.round,
            closes_at=c.round.closes_at + datetime.timedelta(days=1),
            acting_user=secretariat,
        )
    changed()
    # The round closed early, then its dispositions published.
    with scope(organisation=org):
        services.round_close(round=c.round, acting_user=secretariat)
    changed()
    with scope(organisation=org):
        services.dispositions_publish(round=c.round, acting_user=secretariat)
    changed()
    assert fp("group", (c.group, c.document), org) != group_first
    assert fp("document", c.document, org) != document_first


def test_the_fingerprint_ignores_drafts_and_other_rounds(data: Data, org: Organisation) -> None:
    c = data.c
    before = fp("round", c.round, org)
    with scope(organisation=org):
        services.answer_save(
            round=c.round,
            criterion=c.criteria["5.3.1"],
            user=c.second,
            data={"comment": "Still drafting."},
            expected_version=data.draft.version,
        )
        services.answer_save(
            round=data.nature_round,
            criterion=c.criteria["5.3"],
            user=c.outsider,
            data={"comment": "Nature's own business."},
            expected_version=0,
            submit=True,
        )
    assert fp("round", c.round, org) == before


# --- Query counts: the same for 10 answers and for 300 ------------------------------------


def populate(consultation: Consultation, org: Organisation, answers: int) -> None:
    """``answers`` submitted answers with comments, frameworks, objectives and dispositions, by
    people of three Members (one of them consenting), IPAF participants and experts."""
    c = consultation
    with scopes_disabled():
        klass = MembershipClass.objects.create(organisation=org, name="Producers")
        members = [
            Member.objects.create(
                organisation=org,
                name=f"Bulk Member {i}",
                membership_class=klass,
                country=country,
                size_band="large",
                perspective="industry",
            )
            for i, country in enumerate(("DE", "BR", "CN"))
        ]
        framework = FrameworkFactory.create(organisation=org, name="IRMA")
        objective = RevisionObjectiveFactory.create(organisation=org, number=7, title="Fair")
        criteria = [c.criteria["5.3"], c.criteria["5.3.1"], c.criteria["5.9"]]
        people = -(-answers // len(criteria))
        users = [UserFactory.create(email=f"bulk{i}@example.org") for i in range(people)]
        for i, user in enumerate(users):
            kind = ("member", "member", "ipaf", "expert")[i % 4]
            ParticipantProfile.objects.create(
                organisation=org,
                user=user,
                affiliation=kind,
                member=members[i % 3] if kind == "member" else None,
                expert_organisation="Lab" if kind == "expert" else "",
                country="KE",
                name_consent=i % 5 == 0,
            )
        now = timezone.now()
        rows = []
        for i in range(answers):
            rows.append(
                Answer(
                    organisation=org,
                    round=c.round,
                    criterion=criteria[i % 3],
                    author=users[i // 3],
                    relevance=i % 6,
                    clarity=(i + 1) % 6,
                    feasibility=None,
                    comment=f"Comment {i}",
                    comment_type="technical",
                    referred_to=c.other_group if i % 7 == 0 else None,
                    submitted_at=now,
                )
            )
        stored = Answer.objects.bulk_create(rows)
        Answer.frameworks.through.objects.bulk_create(
            [Answer.frameworks.through(answer_id=a.pk, framework_id=framework.pk) for a in stored]
        )
        Answer.objectives.through.objects.bulk_create(
            [
                Answer.objectives.through(answer_id=a.pk, revisionobjective_id=objective.pk)
                for a in stored
            ]
        )
        Disposition.objects.bulk_create(
            [
                Disposition(organisation=org, answer=a, status="noted", response="Thanks.")
                for a in stored[::2]
            ]
        )


@pytest.mark.parametrize("size", [10, 300])
def test_the_summaries_query_count_does_not_grow_with_the_answers(
    consultation: Consultation, org: Organisation, size: int, django_assert_num_queries: Any
) -> None:
    populate(consultation, org, size)
    c = consultation
    with scope(organisation=org):
        feedback_round = FeedbackRound.objects.select_related("group", "document").get(
            pk=c.round.pk
        )
        with django_assert_num_queries(10):
            summary = summaries.summary_for_round(feedback_round)
        assert summary.answers == size
        assert summary.comments == size
        with django_assert_num_queries(10):
            summaries.summary_for_group(c.group, c.document)
        with django_assert_num_queries(10):
            summaries.summary_for_document(c.document)
        with django_assert_num_queries(4):
            summaries.summary_fingerprint("document", c.document)


def test_an_empty_round_has_an_empty_summary(org: Organisation, secretariat: User) -> None:
    with scopes_disabled():
        group = WorkingGroupFactory.create(organisation=org, name="Empty", slug="empty")
        document = DraftDocumentFactory.create(organisation=org)
        criterion = CriterionFactory.create(document=document, reference="1.1")
    feedback_round = make_round(
        group=group, document=document, criteria=[criterion], staff=secretariat
    )
    with scope(organisation=org):
        summary = summaries.summary_for_round(feedback_round)
    assert summary.answers == 0
    assert summary.respondents == 0
    assert summary.participation == ()
    assert [c.reference for c in summary.criteria] == ["1.1"]
    assert summary.criteria[0].answers == 0
    assert summary.criteria[0].ratings[0].mean is None
