"""The secretariat's triage of a round: comments by criterion with their author, group and
Member, the filters, dispositions one by one and in bulk, publication, and every crafted POST
refused with a message and nothing changed."""

from __future__ import annotations

import datetime
import html
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from asi_wg.models import Organisation, User
from feedback import services
from feedback.models import Answer, Disposition, FeedbackRound, Framework
from groups.models import RevisionObjective
from membership.models import Seat
from tests.conftest import make_secretariat
from tests.factories import (
    CriterionFactory,
    DraftDocumentFactory,
    FrameworkFactory,
    RevisionObjectiveFactory,
    UserFactory,
    WorkingGroupFactory,
)
from tests.feedback.conftest import Consultation, answer, make_round
from tests.helpers.pages import without_csrf_tokens
from tests.meetings.conftest import client_for

pytestmark = pytest.mark.django_db


@dataclass
class Triage:
    c: Consultation
    nature_round: FeedbackRound
    own: Answer  # the participant's, on 5.3, technical, submitted, referred to Nature
    draft: Answer  # the second participant's, on 5.3.1, a draft
    referred: Answer  # the outsider's in Nature's round, on 5.9, referred to Circularity
    elsewhere: Answer  # the outsider's in Nature's round, not referred: not in this triage
    objective: RevisionObjective
    framework: Framework
    url: str


@pytest.fixture
def triage(consultation: Consultation, secretariat: User, org: Organisation) -> Triage:
    c = consultation
    with scopes_disabled():
        objective = RevisionObjectiveFactory.create(organisation=org, number=3, title="Circularity")
        framework = FrameworkFactory.create(organisation=org, name="ISO 59004")
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
        comment="Name the scrap-sorting step.",
        comment_type="technical",
        frameworks=[framework],
        objectives=[objective],
        referred_to=c.other_group,
    )
    draft = answer(c.round, "5.3.1", c, c.second, relevance=1, comment="Too vague.", submit=False)
    referred = answer(
        nature_round,
        "5.9",
        c,
        c.outsider,
        comment="Recycled content claims belong to Circularity.",
        comment_type="general",
        referred_to=c.group,
    )
    elsewhere = answer(nature_round, "5.3", c, c.outsider, comment="Only about biodiversity.")
    return Triage(
        c,
        nature_round,
        own,
        draft,
        referred,
        elsewhere,
        objective,
        framework,
        f"/alu/staff/feedback/rounds/{c.round.pk}/",
    )


def comments_on(page: str) -> list[str]:
    """The comment texts shown, in page order."""
    import re

    return re.findall(r'<p class="label">Comment</p><p>(.*?)</p>', page)


def test_the_triage_groups_comments_by_criterion_with_author_group_and_member(
    triage: Triage, secretariat_client: Client
) -> None:
    page = secretariat_client.get(triage.url).content.decode()
    assert comments_on(page) == [
        "Name the scrap-sorting step.",
        "Too vague.",
        "Recycled content claims belong to Circularity.",
    ]
    assert "Only about biodiversity." not in page
    assert "Referred from Nature" in page
    assert "Referred to Nature" in page
    with scopes_disabled():
        member = Seat.objects.get(holder=triage.c.participant).member
    assert member is not None
    assert member.name in page
    assert triage.c.participant.email in page
    assert "5 - very high" in page
    assert "ISO 59004" in page
    assert "3. Circularity" in page
    assert "Draft" in page
    assert "Submitted" in page
    # Natural order: 5.3, 5.3.1, 5.9 (headings).
    assert page.index(">5.3 ") < page.index(">5.3.1 ") < page.index(">5.9 ")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("type=technical", ["Name the scrap-sorting step."]),
        ("type=general", ["Recycled content claims belong to Circularity."]),
        ("referral=here", ["Recycled content claims belong to Circularity."]),
        ("referral=elsewhere", ["Name the scrap-sorting step."]),
        ("referral=none", ["Too vague."]),
        ("state=draft", ["Too vague."]),
        ("scale=relevance&min=4&max=5", ["Name the scrap-sorting step."]),
        ("scale=relevance&max=2", ["Too vague."]),
        ("disposition=none", ["Name the scrap-sorting step.", "Too vague."]),
        ("disposition=noted", ["Recycled content claims belong to Circularity."]),
        ("disposition=unpublished", ["Recycled content claims belong to Circularity."]),
        ("disposition=published", []),
    ],
)
def test_the_filters(
    triage: Triage, secretariat_client: Client, secretariat: User, query: str, expected: list[str]
) -> None:
    with scope(organisation=triage.c.group.organisation):
        services.disposition_set(
            answers=[triage.referred], status="noted", response="", acting_user=secretariat
        )
    page = secretariat_client.get(f"{triage.url}?{query}").content.decode()
    assert comments_on(page) == expected


def test_the_group_and_objective_filters(triage: Triage, secretariat_client: Client) -> None:
    nature = secretariat_client.get(f"{triage.url}?group={triage.c.other_group.pk}")
    assert comments_on(nature.content.decode()) == [
        "Recycled content claims belong to Circularity."
    ]
    tagged = secretariat_client.get(f"{triage.url}?objective={triage.objective.pk}")
    assert comments_on(tagged.content.decode()) == ["Name the scrap-sorting step."]


def test_a_filter_it_does_not_understand_is_named_and_left_out(
    triage: Triage, secretariat_client: Client
) -> None:
    response = secretariat_client.get(f"{triage.url}?type=rude&group=x&min=3&state=draft")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Some filters were not understood" in page
    assert "Choose which rating the range is about." in page
    assert comments_on(page) == ["Too vague."]  # the valid filter still applies


def test_one_disposition_then_a_bulk_one(
    triage: Triage, secretariat_client: Client, secretariat: User
) -> None:
    response = secretariat_client.post(
        f"{triage.url}?type=technical",
        {"answers": [triage.own.pk], "status": "accepted", "response": "Done in draft 2."},
        follow=True,
    )
    page = response.content.decode()
    assert "The disposition is saved" in page
    assert response.redirect_chain[-1][0].endswith(f"?type=technical#answer-{triage.own.pk}")
    response = secretariat_client.post(
        triage.url,
        {
            "bulk": "1",
            "answers": [triage.draft.pk, triage.referred.pk],
            "status": "not_accepted",
            "response": "Out of scope.",
        },
        follow=True,
    )
    assert "The disposition is saved for 2 comments." in response.content.decode()
    with scopes_disabled():
        got = {d.answer_id: (d.status, d.response) for d in Disposition.objects.all()}
    assert got == {
        triage.own.pk: ("accepted", "Done in draft 2."),
        triage.draft.pk: ("not_accepted", "Out of scope."),
        triage.referred.pk: ("not_accepted", "Out of scope."),
    }


def _dispositions() -> list[tuple[int, str, str]]:
    with scopes_disabled():
        return sorted(Disposition.objects.values_list("answer_id", "status", "response"))


def test_crafted_disposition_posts_are_refused_and_change_nothing(
    triage: Triage, secretariat_client: Client, secretariat: User, other_org: Organisation
) -> None:
    with scopes_disabled():
        group = WorkingGroupFactory.create(organisation=other_org, slug="x")
        document = DraftDocumentFactory.create(organisation=other_org)
        criterion = CriterionFactory.create(document=document, reference="1.1")
        stranger = UserFactory.create()
        foreign_round = make_round(
            group=group, document=document, criteria=[criterion], staff=stranger
        )
        foreign = Answer.objects.create(
            organisation=other_org, round=foreign_round, criterion=criterion, author=stranger
        )
    before = _dispositions()
    cases = {
        "another tenant's answer": (
            {"bulk": "1", "answers": [triage.own.pk, foreign.pk], "status": "noted"},
            "not in this round's triage",
        ),
        "an answer of another round not referred here": (
            {"answers": [triage.elsewhere.pk], "status": "noted"},
            "not in this round's triage",
        ),
        "not an id": ({"answers": ["1 OR 1=1"], "status": "noted"}, "not in this round's triage"),
        # "²".isdigit() is true, and int() refuses it.
        "a superscript digit": (
            {"answers": [triage.own.pk, "²"], "status": "noted"},
            "not in this round's triage",
        ),
        "an id beyond any column": (
            {"answers": ["9" * 30], "status": "noted"},
            "not in this round's triage",
        ),
        "unknown status": (
            {"answers": [triage.own.pk], "status": "approved"},
            "Choose one of the dispositions offered.",
        ),
        "no status": ({"answers": [triage.own.pk], "status": ""}, "Choose a disposition."),
        "nothing ticked": ({"bulk": "1", "status": "noted"}, "Tick at least one comment."),
    }
    for name, (data, message) in cases.items():
        response = secretariat_client.post(triage.url, data)
        assert response.status_code == 400, name
        page = html.unescape(response.content.decode())
        assert message in page, name
        assert "Nothing was saved." in page, name
        assert _dispositions() == before, name
    # The text typed in the refused form is still there.
    response = secretariat_client.post(
        triage.url, {"answers": [triage.own.pk], "status": "", "response": "Keep this text"}
    )
    assert "Keep this text</textarea>" in response.content.decode()
    # A round of another tenant is not found, for dispositions, publication or its state.
    for action in ("publish/", "close/", "extend/"):
        assert (
            secretariat_client.post(
                f"/alu/staff/feedback/rounds/{foreign_round.pk}/{action}"
            ).status_code
            == 404
        ), action
    assert (
        secretariat_client.post(
            f"/alu/staff/feedback/rounds/{foreign_round.pk}/",
            {"answers": [foreign.pk], "status": "noted"},
        ).status_code
        == 404
    )
    assert _dispositions() == before


def _close(feedback_round: FeedbackRound, staff: User) -> None:
    with scope(organisation=feedback_round.organisation):
        services.round_close(round=feedback_round, acting_user=staff)


def test_publish_only_a_closed_round_then_published_dispositions_are_final(
    triage: Triage, secretariat_client: Client, secretariat: User
) -> None:
    with scope(organisation=triage.c.group.organisation):
        services.disposition_set(
            answers=[triage.own, triage.draft],
            status="noted",
            response="Thanks.",
            acting_user=secretariat,
        )
    publish = f"{triage.url}publish/"
    # An open round: refused, nothing published.
    page = secretariat_client.get(triage.url).content.decode()
    assert publish not in page
    response = secretariat_client.post(publish, follow=True)
    assert "published once the round has closed" in response.content.decode()
    with scopes_disabled():
        assert not Disposition.objects.filter(published_at__isnull=False).exists()

    _close(triage.c.round, secretariat)
    page = secretariat_client.get(triage.url).content.decode()
    assert "Publish dispositions (2)" in page
    confirm = secretariat_client.get(publish).content.decode()
    assert "2 dispositions</strong> will be published" in confirm
    response = secretariat_client.post(publish, follow=True)
    page = response.content.decode()
    assert "2 dispositions are published" in page
    assert "Published dispositions are final." in page
    assert f'name="answers" value="{triage.own.pk}"' not in page  # no form, no tick box
    # A crafted change of a published disposition is refused; so is publishing again.
    before = _dispositions()
    response = secretariat_client.post(
        triage.url, {"answers": [triage.own.pk], "status": "accepted", "response": "Changed"}
    )
    assert response.status_code == 400
    assert "published and no longer change" in html.unescape(response.content.decode())
    response = secretariat_client.post(
        triage.url,
        {"bulk": "1", "answers": [triage.own.pk, triage.referred.pk], "status": "accepted"},
    )
    assert response.status_code == 400
    assert _dispositions() == before
    again = secretariat_client.post(publish, follow=True).content.decode()
    assert "There is no unpublished disposition in this round." in again


def test_only_the_tenants_secretariat_reaches_the_triage(
    triage: Triage, other_org: Organisation, org: Organisation
) -> None:
    from asi_wg.models import OrganisationRole
    from groups import services as group_services

    committee = UserFactory.create()
    group_services.organisation_role_grant(
        organisation=org, user=committee, role=OrganisationRole.COMMITTEE, acting_user=None
    )
    other_staff = make_secretariat(other_org, email="staff@other.example")
    urls = [
        "/alu/staff/feedback/",
        triage.url,
        f"{triage.url}publish/",
        f"{triage.url}extend/",
        f"{triage.url}close/",
    ]
    for who, client in {
        "participant": client_for(triage.c.participant),
        "committee": client_for(committee),
        "another tenant's secretariat": client_for(other_staff),
    }.items():
        for url in urls:
            assert client.get(url).status_code == 404, (who, url)
        response = client.post(triage.url, {"answers": [triage.own.pk], "status": "noted"})
        assert response.status_code == 404, who
        assert client.post(f"{triage.url}close/").status_code == 404, who
    for url in urls:
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    # Another tenant's secretariat, at its own prefix, does not find this round either.
    assert (
        client_for(other_staff)
        .get(f"/other/staff/feedback/rounds/{triage.c.round.pk}/")
        .status_code
        == 404
    )
    with scopes_disabled():
        assert not Disposition.objects.exists()
        assert FeedbackRound.objects.get(pk=triage.c.round.pk).closed_early_at is None


# --- Query counts -----------------------------------------------------------------------------


def populate(triage: Triage, size: int, staff: User) -> None:
    """``size`` more comments in the triage: a third referred from Nature's round, a third with
    a disposition (some of them published), frameworks and objectives on each."""
    c = triage.c
    org = c.group.organisation
    criteria = [c.criteria["5.3"], c.criteria["5.3.1"], c.criteria["5.9"]]
    with scopes_disabled():
        people = User.objects.bulk_create(
            [
                User(email=f"commenter{n}@alu.example", full_name=f"Commenter {n}")
                for n in range(size)
            ]
        )
        answers = Answer.objects.bulk_create(
            [
                Answer(
                    organisation=org,
                    round=triage.nature_round if n % 3 == 0 else c.round,
                    referred_to=c.group if n % 3 == 0 else None,
                    criterion=criteria[n % 3],
                    author=person,
                    relevance=n % 6,
                    comment=f"Comment {n}",
                    comment_type="technical",
                    submitted_at=timezone.now(),
                )
                for n, person in enumerate(people)
            ]
        )
        Answer.frameworks.through.objects.bulk_create(
            [Answer.frameworks.through(answer=a, framework=triage.framework) for a in answers]
        )
        Answer.objectives.through.objects.bulk_create(
            [
                Answer.objectives.through(answer=a, revisionobjective=triage.objective)
                for a in answers
            ]
        )
        Disposition.objects.bulk_create(
            [
                Disposition(
                    organisation=org,
                    answer=item,
                    status="noted",
                    response="Thanks",
                    published_at=timezone.now() - datetime.timedelta(hours=1) if n % 2 else None,
                )
                for n, item in enumerate(answers)
                if n % 3 == 1
            ]
        )


def _queries(client: Client, url: str) -> tuple[int, str]:
    client.get(url)  # warms the session
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


@pytest.mark.parametrize(("size", "expected"), [(10, 11), (300, 11)])
def test_the_triage_costs_the_same_for_10_or_300_comments(
    triage: Triage, secretariat: User, size: int, expected: int
) -> None:
    populate(triage, size, secretariat)
    count, page = _queries(client_for(secretariat), triage.url)
    assert f"Comments ({size + 3})" in page
    assert page.count('<article class="comment') == min(size + 3, 25)
    assert "Referred from Nature" in page
    assert count == expected
    filtered, page = _queries(
        client_for(secretariat),
        f"{triage.url}?type=technical&disposition=unpublished&scale=relevance&min=0"
        f"&objective={triage.objective.pk}&page=2",
    )
    assert filtered == expected


@pytest.mark.parametrize(("size", "expected"), [(1, 5), (30, 5)])
def test_the_rounds_list_costs_the_same_for_1_or_30_rounds(
    triage: Triage, secretariat: User, size: int, expected: int
) -> None:
    for n in range(size - 1):
        make_round(
            group=triage.c.group,
            document=triage.c.document,
            criteria=[triage.c.criteria["5.9"]],
            staff=secretariat,
            title=f"Round {n}",
        )
    populate(triage, 20, secretariat)
    count, page = _queries(client_for(secretariat), "/alu/staff/feedback/")
    assert page.count("/triage") == 0
    assert page.count('<tr id="round-') == size + 1
    assert count == expected


def _seen(page: str, answer: Answer) -> str:
    """The value of the hidden "seen" field of the answer's own disposition form."""
    form = page[page.index(f'name="answers" value="{answer.pk}"') :]
    start = form.index(f'name="seen-{answer.pk}" value="') + len(f'name="seen-{answer.pk}" value="')
    return form[start : form.index('"', start)]


def test_a_page_opened_before_a_colleagues_decision_does_not_silently_replace_it(
    triage: Triage, secretariat_client: Client, org: Organisation
) -> None:
    colleague = client_for(make_secretariat(org, email="bob@alu.example"))
    mine = secretariat_client.get(triage.url).content.decode()
    theirs = colleague.get(triage.url).content.decode()
    key = triage.own.pk
    careful = "A careful two-paragraph response that took half an hour."
    saved = secretariat_client.post(
        triage.url,
        {
            "answers": [key],
            f"seen-{key}": _seen(mine, triage.own),
            "status": "accepted_modified",
            "response": careful,
        },
    )
    assert saved.status_code == 302

    # Bob's page still shows no disposition: his save is refused, and says what Alice chose.
    stale = {"answers": [key], f"seen-{key}": _seen(theirs, triage.own), "status": "noted"}
    refused = colleague.post(triage.url, {**stale, "response": "Noted."})
    assert refused.status_code == 400
    page = html.unescape(refused.content.decode())
    assert "after you opened the page" in page
    assert careful in page
    assert "Nothing was saved." in page
    with scopes_disabled():
        assert Disposition.objects.get(answer=triage.own).response == careful
    # His text is kept, and the refreshed page knows Alice's decision: saving again replaces it.
    assert "Noted.</textarea>" in refused.content.decode()
    again = {"answers": [key], f"seen-{key}": _seen(refused.content.decode(), triage.own)}
    assert (
        colleague.post(triage.url, {**again, "status": "noted", "response": "Noted."}).status_code
        == 302
    )
    with scopes_disabled():
        assert Disposition.objects.get(answer=triage.own).response == "Noted."

    # In bulk too: all or nothing.
    bulk = {"bulk": "1", "answers": [key], f"seen-{key}": _seen(mine, triage.own)}
    assert secretariat_client.post(triage.url, {**bulk, "status": "rejected"}).status_code == 400
    with scopes_disabled():
        assert Disposition.objects.get(answer=triage.own).status == "noted"


# --- Each comment rendered once for what it shows (feedback/triage_fragments.py) ---------------


def _comment_renders(response: Any) -> int:
    return sum(t.name == "feedback/staff/_comment.html" for t in response.templates)


def test_a_comment_is_rendered_once_then_taken_from_the_cache(
    triage: Triage, secretariat_client: Client, org: Organisation
) -> None:
    first = secretariat_client.get(triage.url)
    assert _comment_renders(first) == 3
    again = secretariat_client.get(triage.url)
    assert _comment_renders(again) == 0
    colleague = client_for(make_secretariat(org, email="bob@alu.example"))
    assert _comment_renders(colleague.get(triage.url)) == 0
    # The same comments; only the CSRF tokens differ.
    assert without_csrf_tokens(again.content.decode()) == without_csrf_tokens(
        first.content.decode()
    )


@pytest.mark.parametrize(
    ("change", "shown"),
    [
        ("comment", "Name the sorting step, and the melt loss."),
        ("proposed_change", "Add a line on melt loss."),
        ("author", "Renamed Person"),
        ("member", "Renamed Member Ltd"),
        ("framework", "ISO 59020"),
        ("group", "Nature and land"),
        ("disposition", "Seen and noted, with thanks."),
    ],
)
def test_whatever_changes_in_a_comment_shows_at_once_even_written_behind_the_services_back(
    triage: Triage, secretariat_client: Client, change: str, shown: str
) -> None:
    from membership.models import Member

    secretariat_client.get(triage.url)  # the comments are in the cache now
    own = triage.own
    with scopes_disabled():
        # Bulk updates: no signal, no version, nothing a cache could be told by.
        if change in ("comment", "proposed_change"):
            Answer.objects.filter(pk=own.pk).update(**{change: shown})
        elif change == "author":
            User.objects.filter(pk=own.author_id).update(full_name=shown)
        elif change == "member":
            seat = Seat.objects.select_related("member").get(
                holder=own.author_id, group=triage.c.group
            )
            assert seat.member is not None
            Member.objects.filter(pk=seat.member.pk).update(name=shown)
        elif change == "framework":
            Framework.objects.filter(pk=triage.framework.pk).update(name=shown)
        elif change == "group":
            type(triage.c.other_group).objects.filter(pk=triage.c.other_group.pk).update(name=shown)
        else:
            Disposition.objects.create(
                organisation=own.organisation, answer=own, status="noted", response=shown
            )
    page = html.unescape(secretariat_client.get(triage.url).content.decode())
    assert shown in page


def test_the_forms_of_cached_comments_carry_the_askers_token_and_the_pages_filters(
    triage: Triage, secretariat: User, org: Organisation
) -> None:
    alice = Client(enforce_csrf_checks=True)
    alice.force_login(secretariat)
    alice.get(triage.url)  # renders and caches the comments
    bob = Client(enforce_csrf_checks=True)
    bob.force_login(make_secretariat(org, email="bob@alu.example"))
    url = f"{triage.url}?type=technical"
    page = bob.get(url).content.decode()
    form = page[page.index(f'id="answer-{triage.own.pk}"') :]
    form = form[form.index('<form method="post"') : form.index("</form>")]
    assert f'action="{html.escape(url)}"' in form
    token = form.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    saved = bob.post(
        url,
        {
            "csrfmiddlewaretoken": token,
            "answers": [triage.own.pk],
            f"seen-{triage.own.pk}": "",
            "status": "accepted",
            "response": "Bob's answer.",
        },
    )
    assert saved.status_code == 302, saved.content.decode()[:500]
    with scopes_disabled():
        assert Disposition.objects.get(answer=triage.own).response == "Bob's answer."


CHANGED = "Changed after the disposition was written"


def test_a_comment_changed_after_its_disposition_is_flagged_until_decided_again(
    triage: Triage, secretariat_client: Client, secretariat: User
) -> None:
    with scope(organisation=triage.c.round.organisation):
        services.disposition_set(
            answers=[triage.own], status="accepted", response="Agreed.", acting_user=secretariat
        )
    assert CHANGED not in secretariat_client.get(triage.url).content.decode()

    # The round is still open: the participant rewrites the comment the decision was about.
    with scope(organisation=triage.c.round.organisation):
        own = services.answer_save(
            round=triage.c.round,
            criterion=triage.c.criteria["5.3"],
            user=triage.c.participant,
            data={"comment": "Actually: name the shredding step."},
            expected_version=triage.own.version,
        )
    page = secretariat_client.get(triage.url).content.decode()
    assert page.count(CHANGED) == 1
    flagged = page[page.index(f'id="answer-{own.pk}"') :]
    assert CHANGED in flagged[: flagged.index("</article>")]

    with scope(organisation=triage.c.round.organisation):
        services.disposition_set(
            answers=[own], status="not_accepted", response="Out of scope.", acting_user=secretariat
        )
    assert CHANGED not in secretariat_client.get(triage.url).content.decode()
