"""The committee's summary pages over HTTP: who may see them, what they show, that every free
text shows as text, and a query count that does not grow with the answers."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.test import Client
from django_scopes import scope, scopes_disabled

from asi_wg.models import Organisation, OrganisationRole, User
from feedback import services
from feedback.models import Answer, Criterion, DraftDocument, FeedbackRound
from groups import services as group_services
from groups.models import WorkingGroup
from membership.models import Member, ParticipantProfile
from tests.factories import FrameworkFactory, RevisionObjectiveFactory, UserFactory
from tests.feedback.conftest import Consultation
from tests.feedback.test_summaries import populate
from tests.helpers.pages import rendering, without_csrf_tokens
from tests.meetings.conftest import client_for

pytestmark = pytest.mark.django_db


def make_committee(organisation: Organisation, **kwargs: Any) -> User:
    user = UserFactory.create(**kwargs)
    group_services.organisation_role_grant(
        organisation=organisation, user=user, role=OrganisationRole.COMMITTEE, acting_user=None
    )
    return user


@pytest.fixture
def committee(org: Organisation) -> User:
    return make_committee(org, email="committee@alu.example")


def urls(c: Consultation) -> list[str]:
    return [
        "/alu/committee/summaries/",
        f"/alu/committee/summaries/rounds/{c.round.pk}/",
        f"/alu/committee/summaries/groups/{c.group.slug}/documents/{c.document.pk}/",
        f"/alu/committee/summaries/documents/{c.document.pk}/",
    ]


def answer(c: Consultation, ref: str, user: User, **data: Any) -> Answer:
    with scope(organisation=c.round.organisation):
        return services.answer_save(
            round=c.round,
            criterion=c.criteria[ref],
            user=user,
            data=data,
            expected_version=0,
            submit=data.pop("submit", True) if "submit" in data else True,
        )


def test_committee_and_secretariat_see_every_summary(
    consultation: Consultation, committee: User, secretariat: User
) -> None:
    for user in (committee, secretariat):
        client = client_for(user)
        for url in urls(consultation):
            response = client.get(url)
            assert response.status_code == 200, url
            assert "Summaries" in response.content.decode()


def test_a_visitor_is_sent_to_sign_in(consultation: Consultation) -> None:
    for url in urls(consultation):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_participants_and_another_tenants_committee_are_refused(
    consultation: Consultation, other_org: Organisation, other_secretariat: User
) -> None:
    stranger = make_committee(other_org, email="committee@other.example")
    for user in (consultation.participant, stranger, other_secretariat):
        client = client_for(user)
        for url in urls(consultation):
            response = client.get(url)
            assert response.status_code == 403, (user, url)
            assert "Only the Standards Committee and the secretariat" in response.content.decode()
    # The participant's pages carry no link to the summaries.
    page = client_for(consultation.participant).get("/alu/meetings/").content.decode()
    assert "/alu/committee/summaries/" not in page


def test_another_tenants_objects_are_not_found(
    consultation: Consultation, committee: User, other_org: Organisation
) -> None:
    client = client_for(committee)
    with scopes_disabled():
        other_document = DraftDocument.objects.create(
            organisation=other_org,
            standard=consultation.document.standard,  # crafted: only the id matters
            version_label="Theirs",
        )
    for url in (
        f"/alu/committee/summaries/documents/{other_document.pk}/",
        f"/alu/committee/summaries/rounds/{consultation.round.pk + 1000}/",
        f"/alu/committee/summaries/groups/{consultation.group.slug}/documents/{other_document.pk}/",
        f"/alu/committee/summaries/groups/no-such-group/documents/{consultation.document.pk}/",
        # A group of the tenant that was never asked about the document.
        f"/alu/committee/summaries/groups/{consultation.other_group.slug}/documents/"
        f"{consultation.document.pk}/",
        f"/other/committee/summaries/rounds/{consultation.round.pk}/",
    ):
        assert client.get(url).status_code in (403, 404), url
    own = f"/alu/committee/summaries/rounds/{consultation.round.pk}/"
    assert client.get(own).status_code == 200


def test_the_round_summary_shows_counts_charts_comments_and_dispositions(
    consultation: Consultation, committee: User, secretariat: User
) -> None:
    c = consultation
    own = answer(c, "5.3", c.participant, relevance=5, comment="Name the sorting step.")
    answer(c, "5.3", c.second, relevance=2, clarity=0, proposed_change="Say recycled.")
    answer(c, "5.9", c.second, relevance=1, comment="Still drafting.", submit=False)
    with scope(organisation=c.round.organisation):
        services.disposition_set(
            answers=[own], status="accepted", response="We will.", acting_user=secretariat
        )
    page = client_for(committee).get(urls(c)[1]).content.decode()
    for ref in ("5.3", "5.3.1", "5.9"):
        assert f'id="criterion-{c.criteria[ref].pk}"' in page
    assert "<dt>Respondents</dt><dd>2</dd>" in page
    assert "<dt>Answers</dt><dd>2</dd>" in page
    assert page.count('role="img"') == 9  # three scales for three criteria
    assert "Relevance, 5.3" in page
    assert "Name the sorting step." in page
    assert "Say recycled." in page
    assert "Still drafting." not in page  # drafts are not the committee's
    assert "Disposition: Accepted" in page
    assert "Not yet published" in page
    assert "We will." in page
    # Names without consent never appear, nor e-mail addresses.
    for person in (c.participant, c.second):
        assert html.escape(person.full_name) not in page
        assert person.email not in page


def test_a_consenting_persons_name_is_shown(consultation: Consultation, committee: User) -> None:
    c = consultation
    with scopes_disabled():
        ParticipantProfile.objects.filter(user=c.participant).update(name_consent=True)
    answer(c, "5.3", c.participant, comment="Named.")
    answer(c, "5.3", c.second, comment="Not named.")
    page = client_for(committee).get(urls(c)[1]).content.decode()
    assert html.escape(c.participant.full_name) in page
    assert html.escape(c.second.full_name) not in page


def test_every_change_shows_on_the_next_reading_of_a_cached_summary(
    consultation: Consultation, committee: User, secretariat: User, org: Organisation
) -> None:
    """The pages come from a cache while the summary is unchanged: a new answer, a disposition,
    a consent given and the round closing each show on the very next request."""
    c = consultation
    client = client_for(committee)
    round_url = urls(c)[1]

    def reading() -> str:
        return client.get(round_url).content.decode()

    assert "Name the sorting step." not in reading()
    own = answer(c, "5.3", c.participant, comment="Name the sorting step.")
    page = reading()
    assert "Name the sorting step." in page
    assert "Thanks, noted." not in page
    with scope(organisation=org):
        services.disposition_set(
            answers=[own], status="noted", response="Thanks, noted.", acting_user=secretariat
        )
    page = reading()
    assert "Thanks, noted." in page
    assert html.escape(c.participant.full_name) not in page
    with scopes_disabled():
        ParticipantProfile.objects.filter(user=c.participant).update(name_consent=True)
    page = reading()
    assert html.escape(c.participant.full_name) in page
    assert '<span class="badge badge-ok">Open</span>' in page
    with scope(organisation=org):
        services.round_close(round=c.round, acting_user=secretariat)
    page = reading()
    assert '<span class="badge badge-declined">Closed</span>' in page


def test_a_cached_summary_follows_the_readers_time_zone(
    consultation: Consultation, committee: User
) -> None:
    c = consultation
    answer(c, "5.3", c.participant, comment="Name the sorting step.")
    client = client_for(committee)
    assert "(Europe/London)" in client.get(urls(c)[1]).content.decode()
    with scopes_disabled():
        User.objects.filter(pk=committee.pk).update(time_zone="Asia/Tokyo")
    assert "(Asia/Tokyo)" in client.get(urls(c)[1]).content.decode()


PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(2)">',
    '<a href="javascript:alert(3)">click</a>',
    "[link](javascript:alert(4))",
]


def test_every_free_text_shows_as_text(
    consultation: Consultation, committee: User, secretariat: User, org: Organisation
) -> None:
    c = consultation
    payload = " ".join(PAYLOADS)
    with scopes_disabled():
        framework = FrameworkFactory.create(organisation=org, name=PAYLOADS[0][:100])
        objective = RevisionObjectiveFactory.create(organisation=org, number=9, title=payload[:200])
        Criterion.objects.filter(pk=c.criteria["5.3"].pk).update(title=payload[:300], text=payload)
        FeedbackRound.objects.filter(pk=c.round.pk).update(title=payload[:200])
        DraftDocument.objects.filter(pk=c.document.pk).update(version_label=payload[:200])
        WorkingGroup.objects.filter(pk=c.other_group.pk).update(name=PAYLOADS[1][:120])
        profile = ParticipantProfile.objects.get(user=c.participant)
        profile.name_consent = True
        profile.save()
        User.objects.filter(pk=c.participant.pk).update(full_name=PAYLOADS[2][:200])
        assert profile.member_id is not None
        Member.objects.filter(pk=profile.member_id).update(name=PAYLOADS[3][:200])
        ParticipantProfile.objects.filter(user=c.second).update(
            affiliation="expert", member=None, expert_organisation=PAYLOADS[1][:200]
        )
    with scopes_disabled():
        other_group = WorkingGroup.objects.get(pk=c.other_group.pk)
    own = answer(
        c,
        "5.3",
        c.participant,
        comment=payload,
        proposed_change=payload,
        risks_opportunities=payload,
        frameworks=[framework],
        objectives=[objective],
        referred_to=other_group,
    )
    answer(c, "5.3", c.second, comment=payload)
    with scope(organisation=org):
        services.disposition_set(
            answers=[own], status="noted", response=payload, acting_user=secretariat
        )
    client = client_for(committee)
    for url in urls(c):
        page = client.get(url).content.decode()
        assert "<script>alert" not in page, url
        assert "<img src=x" not in page, url
        assert 'href="javascript:' not in page, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url
        assert not re.search(r"<a[^>]+href=\"javascript", page)


@pytest.mark.parametrize("size", [10, 300])
def test_the_pages_query_counts_do_not_grow_with_the_answers(
    consultation: Consultation,
    committee: User,
    org: Organisation,
    size: int,
    django_assert_num_queries: Any,
) -> None:
    populate(consultation, org, size)
    client = client_for(committee)
    index, round_url, group_url, document_url = urls(consultation)
    with rendering(), django_assert_num_queries(5):
        assert client.get(index).status_code == 200
    # The first reading builds and renders the summary, the next ones take it from the cache
    # after the fingerprint's four queries.
    for url in (round_url, group_url, document_url):
        with rendering(), django_assert_num_queries(12):
            first = client.get(url).content.decode()
        with rendering(), django_assert_num_queries(7):
            again = client.get(url).content.decode()
        assert first.count('class="comment committee-comment"') == size
        assert without_csrf_tokens(again) == without_csrf_tokens(first)
