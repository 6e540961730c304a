"""The participant's feedback pages: their rounds, a round's overview, the answer form (with and
without JavaScript), conflicts, signed-out posts, the read-only state after the round closes."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from asi_wg.models import Organisation, User
from feedback import services
from feedback.models import Answer, FeedbackRound
from feedback.participant_selectors import round_for_participant
from membership import services as membership_services
from membership.models import Seat
from tests.factories import FrameworkFactory, RevisionObjectiveFactory
from tests.feedback.conftest import Consultation, make_round
from tests.meetings.conftest import client_for

pytestmark = pytest.mark.django_db

HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}


def answer_url(consultation: Consultation, ref: str = "5.3", feedback_round: Any = None) -> str:
    feedback_round = feedback_round or consultation.round
    criterion = consultation.criteria[ref]
    return f"/alu/feedback/rounds/{feedback_round.pk}/criteria/{criterion.pk}/"


def round_url(consultation: Consultation) -> str:
    return f"/alu/feedback/rounds/{consultation.round.pk}/"


def the_answer(consultation: Consultation, ref: str = "5.3", user: User | None = None) -> Any:
    with scopes_disabled():
        return (
            Answer.objects.filter(
                round=consultation.round,
                criterion=consultation.criteria[ref],
                author=user or consultation.participant,
            )
            .prefetch_related("frameworks", "objectives")
            .first()
        )


def save(consultation: Consultation, data: dict[str, Any], version: int, **kw: Any) -> Answer:
    with scope(organisation=consultation.round.organisation):
        return services.answer_save(
            round=consultation.round,
            criterion=consultation.criteria[kw.pop("ref", "5.3")],
            user=kw.pop("user", consultation.participant),
            data=data,
            expected_version=version,
            **kw,
        )


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def participant(consultation: Consultation) -> Client:
    return client_for(consultation.participant)


# --- The list and the overview ------------------------------------------------------------------


def test_the_list_shows_the_open_round_with_progress_and_closing_time_in_the_persons_zone(
    consultation: Consultation, participant: Client
) -> None:
    with scopes_disabled():
        User.objects.filter(pk=consultation.participant.pk).update(time_zone="Asia/Tokyo")
    save(consultation, {"comment": "A draft."}, 0)
    page = text(participant.get("/alu/feedback/"))
    assert "First consultation" in page
    assert "1 of 3</strong> criteria answered" in page
    closes = timezone.localtime(consultation.round.closes_at, datetime.UTC).astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Tokyo")
    )
    assert closes.strftime("%H:%M") in page
    assert "(Asia/Tokyo time)" in page


def test_the_list_has_nothing_for_another_groups_participant_or_the_secretariat(
    consultation: Consultation, secretariat: User
) -> None:
    for user in (consultation.outsider, secretariat):
        page = text(client_for(user).get("/alu/feedback/"))
        assert "First consultation" not in page
        assert "There is no feedback round for you yet" in page


def test_the_overview_lists_criteria_in_natural_order_with_each_ones_state(
    consultation: Consultation, participant: Client
) -> None:
    save(consultation, {"comment": "A draft."}, 0, ref="5.9")
    save(consultation, {"comment": "Done."}, 0, ref="5.3.1", submit=True)
    page = text(participant.get(round_url(consultation)))
    refs = re.findall(r'<span class="ref">([\d.]+)</span>', page)
    assert refs == ["5.3", "5.3.1", "5.9"]  # 5.10 is not in the round
    states = re.findall(r'<span class="badge[^"]*">([^<]+)</span>', page)
    assert states == ["Not started", "Submitted", "Draft"]
    assert "2 of 3</strong> criteria answered, 1 submitted" in page
    assert '<progress max="3" value="2"' in page


def test_a_round_of_another_group_or_tenant_is_a_404(
    consultation: Consultation, other_org: Organisation
) -> None:
    outsider = client_for(consultation.outsider)
    assert outsider.get(round_url(consultation)).status_code == 404
    assert outsider.get(answer_url(consultation)).status_code == 404
    # Another tenant's address for the same round.
    participant = client_for(consultation.participant)
    url = f"/other/feedback/rounds/{consultation.round.pk}/"
    assert participant.get(url).status_code == 404


# --- The answer form without JavaScript ---------------------------------------------------------


def form_data(version: int, **fields: Any) -> dict[str, Any]:
    return {"version": version, **fields}


def test_the_form_shows_the_criterion_and_only_the_questions_the_round_asks(
    consultation: Consultation, secretariat: User
) -> None:
    with scopes_disabled():
        criterion = consultation.criteria["5.10"]
        criterion.guidance = "Guidance about scrap."
        criterion.save()
    narrow = make_round(
        group=consultation.group,
        document=consultation.document,
        criteria=[criterion],
        staff=secretariat,
        title="Narrow",
        questions=["clarity", "comment"],
    )
    url = f"/alu/feedback/rounds/{narrow.pk}/criteria/{criterion.pk}/"
    page = text(client_for(consultation.participant).get(url))
    assert criterion.text in page
    assert "Guidance about scrap." in page
    assert "<legend>Clarity</legend>" in page
    assert 'name="comment"' in page
    assert 'name="comment_type"' in page
    assert "<legend>Relevance</legend>" not in page
    assert 'name="frameworks"' not in page
    assert 'name="referred_to"' not in page


def test_save_draft_keeps_a_draft_and_comes_back_to_the_form(
    consultation: Consultation, participant: Client, org: Organisation
) -> None:
    objective = RevisionObjectiveFactory.create(organisation=org, title="Circularity")
    framework = FrameworkFactory.create(organisation=org, name="ISO 59004")
    response = participant.post(
        answer_url(consultation),
        form_data(
            0,
            relevance="4",
            clarity="0",
            comment="Name the sorting step.",
            comment_type="technical",
            frameworks=[framework.pk],
            objectives=[objective.pk],
            referred_to=consultation.other_group.pk,
            save="draft",
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == answer_url(consultation)
    answer = the_answer(consultation)
    assert (answer.relevance, answer.clarity, answer.comment) == (4, 0, "Name the sorting step.")
    assert answer.comment_type == "technical"
    assert [f.pk for f in answer.frameworks.all()] == [framework.pk]
    assert [o.pk for o in answer.objectives.all()] == [objective.pk]
    assert answer.referred_to_id == consultation.other_group.pk
    assert answer.submitted_at is None
    page = text(participant.get(response["Location"]))
    assert "Draft saved" in page
    assert 'value="1" id="id_version"' in page or 'id="id_version" value="1"' in page.replace(
        'type="hidden" name="version" ', ""
    )
    assert "Name the sorting step." in page


def test_submit_moves_on_to_the_next_criterion_and_the_last_one_to_the_overview(
    consultation: Consultation, participant: Client
) -> None:
    response = participant.post(
        answer_url(consultation, "5.3"), form_data(0, comment="x", submit="1")
    )
    assert response["Location"] == answer_url(consultation, "5.3.1")
    assert the_answer(consultation).submitted_at is not None
    response = participant.post(
        answer_url(consultation, "5.9"), form_data(0, comment="y", submit="1")
    )
    assert response["Location"] == round_url(consultation)
    assert "is submitted" in text(participant.get(response["Location"]))


def test_a_double_submit_makes_one_answer(consultation: Consultation, participant: Client) -> None:
    data = form_data(0, comment="Twice.", submit="1")
    first = participant.post(answer_url(consultation), data)
    second = participant.post(answer_url(consultation), data)
    assert first.status_code == second.status_code == 302
    with scopes_disabled():
        assert Answer.objects.count() == 1
        assert Answer.objects.get().version == 1


def test_submitting_what_the_autosave_already_saved_is_not_a_conflict(
    consultation: Consultation, participant: Client
) -> None:
    participant.post(answer_url(consultation) + "autosave/", form_data(0, comment="Typed."), **HTMX)
    response = participant.post(
        answer_url(consultation), form_data(0, comment="Typed.", submit="1")
    )
    assert response.status_code == 302
    assert the_answer(consultation).submitted_at is not None


def test_a_stale_version_shows_both_versions_and_overwrites_nothing(
    consultation: Consultation, participant: Client
) -> None:
    save(consultation, {"comment": "Saved in tab A."}, 0)
    response = participant.post(
        answer_url(consultation), form_data(0, comment="Typed in tab B.", save="draft")
    )
    assert response.status_code == 409
    page = text(response)
    assert "Changed in another tab or window" in page
    assert "Saved in tab A." in page  # the saved version
    assert page.count("Typed in tab B.") >= 2  # in the form and in the comparison
    assert re.search(r'name="version" value="1"', page)
    assert the_answer(consultation).comment == "Saved in tab A."
    # Saving again from the page is the deliberate choice to replace the saved version.
    again = participant.post(
        answer_url(consultation), form_data(1, comment="Typed in tab B.", save="draft")
    )
    assert again.status_code == 302
    assert the_answer(consultation).comment == "Typed in tab B."


# --- Autosave -----------------------------------------------------------------------------------


def test_autosave_saves_a_draft_and_answers_with_the_saved_state_and_new_version(
    consultation: Consultation, participant: Client
) -> None:
    url = answer_url(consultation) + "autosave/"
    response = participant.post(url, form_data(0, comment="Typing…", relevance="3"), **HTMX)
    assert response.status_code == 200
    page = text(response)
    assert 'data-state="saved"' in page
    assert "Saved " in page
    assert "· draft" in page
    assert 'name="version" value="1" id="id_version" hx-swap-oob="true"' in page
    response = participant.post(url, form_data(1, comment="Typing more", relevance="3"), **HTMX)
    assert 'value="2"' in text(response)
    answer = the_answer(consultation)
    assert (answer.version, answer.comment, answer.submitted_at) == (2, "Typing more", None)


def test_autosave_conflict_returns_both_versions_and_never_overwrites(
    consultation: Consultation, participant: Client
) -> None:
    save(consultation, {"comment": "The other tab's text."}, 0)
    response = participant.post(
        answer_url(consultation) + "autosave/", form_data(0, comment="Mine."), **HTMX
    )
    assert response.status_code == 409
    page = text(response)
    assert 'data-state="conflict"' in page
    assert "The other tab&#x27;s text." in page
    assert "Mine." in page
    assert 'data-fb-action="keep-mine" data-version="1"' in page
    assert 'hx-swap-oob="true" name="version"' not in page
    assert 'id="id_version"' not in page
    assert the_answer(consultation).comment == "The other tab's text."


def test_autosave_for_a_signed_out_person_is_a_401_fragment_not_a_login_page(
    consultation: Consultation,
) -> None:
    response = Client().post(
        answer_url(consultation) + "autosave/", form_data(0, comment="Lost?"), **HTMX
    )
    assert response.status_code == 401
    page = text(response)
    assert "You were signed out." in page
    assert 'target="_blank"' in page
    assert "Sign in again (opens a new tab)" in page
    assert "/accounts/login/?next=" in page
    assert the_answer(consultation) is None


def test_a_signed_out_post_keeps_the_text_for_after_signing_in(
    consultation: Consultation,
) -> None:
    client = Client()
    response = client.post(
        answer_url(consultation), form_data(0, comment="Typed before the session expired.")
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert the_answer(consultation) is None
    client.force_login(consultation.participant)  # keeps the anonymous session's data
    page = text(client.get(answer_url(consultation)))
    assert "Typed before the session expired." in page
    assert "It is not saved yet" in page
    # Shown once: the next visit is the server's (empty) answer.
    assert "Typed before the session expired." not in text(client.get(answer_url(consultation)))


def test_text_kept_while_signed_out_waits_for_a_new_antitrust_policy_to_be_acknowledged(
    consultation: Consultation, org: Organisation
) -> None:
    c = consultation
    client = Client()
    typed = "A long comment typed before the session expired."
    assert client.post(answer_url(c), form_data(0, comment=typed)).status_code == 302
    with scope(organisation=org):
        policy = membership_services.antitrust_policy_publish(
            organisation=org, title="Antitrust policy v2", body="Still none.", acting_user=None
        )
    client.force_login(c.participant)
    # The form is read-only until the new version is acknowledged: the text is not shown...
    first = text(client.get(answer_url(c)))
    assert "antitrust" in first.lower()
    assert typed not in first
    with scope(organisation=org):
        membership_services.antitrust_acknowledge(
            organisation=org, user=c.participant, policy=policy
        )
    # ...nor lost: it is there once the form can take it.
    assert typed in text(client.get(answer_url(c)))


# --- Crafted requests ---------------------------------------------------------------------------


def both_urls(url: str) -> list[tuple[str, dict[str, Any]]]:
    return [(url, {}), (url + "autosave/", HTMX)]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"relevance": "7"}, "Select a valid choice"),
        ({"relevance": "abc"}, "Select a valid choice"),
        ({"comment_type": "rant"}, "Select a valid choice"),
        ({"frameworks": ["999999"]}, "Select a valid choice"),
        ({"frameworks": ["abc"]}, "Select a valid choice"),
        ({"objectives": ["999999"]}, "Select a valid choice"),
        ({"referred_to": "abc"}, "Select a valid choice"),
        ({"version": "abc"}, "out of date"),
        ({"version": "-1"}, "out of date"),
        ({"comment": "x" * 10_001}, "at most 10000 characters"),
    ],
)
def test_garbage_and_out_of_range_values_are_refused_and_change_nothing(
    consultation: Consultation, participant: Client, fields: dict[str, Any], message: str
) -> None:
    save(consultation, {"comment": "Kept."}, 0)
    for url, headers in both_urls(answer_url(consultation)):
        data = {"version": "1", "comment": "Changed?", **fields}
        response = participant.post(url, data, **headers)
        assert response.status_code == 400, url
        assert message in response.content.decode().replace("10,000", "10000"), url
    answer = the_answer(consultation)
    assert (answer.version, answer.comment) == (1, "Kept.")


def test_another_tenants_framework_objective_or_group_is_refused(
    consultation: Consultation, participant: Client, other_org: Organisation
) -> None:
    with scopes_disabled():
        from tests.factories import WorkingGroupFactory

        theirs = {
            "frameworks": [FrameworkFactory.create(organisation=other_org).pk],
            "objectives": [RevisionObjectiveFactory.create(organisation=other_org).pk],
            "referred_to": WorkingGroupFactory.create(organisation=other_org).pk,
        }
    for name, value in theirs.items():
        for url, headers in both_urls(answer_url(consultation)):
            response = participant.post(url, {"version": "0", name: value}, **headers)
            assert response.status_code == 400
            assert "Select a valid choice" in response.content.decode()
    # Referring a point to the round's own group is no referral either.
    response = participant.post(
        answer_url(consultation), {"version": "0", "referred_to": consultation.group.pk}
    )
    assert response.status_code == 400
    assert the_answer(consultation) is None


def test_a_closed_round_refuses_with_a_message_and_changes_nothing(
    consultation: Consultation, participant: Client, secretariat: User
) -> None:
    save(consultation, {"comment": "Final words."}, 0)
    with scope(organisation=consultation.round.organisation):
        services.round_close(round=consultation.round, acting_user=secretariat)
    for url, headers in both_urls(answer_url(consultation)):
        response = participant.post(url, {"version": "1", "comment": "Too late"}, **headers)
        assert response.status_code in (400, 403)
        assert "This feedback round is closed" in response.content.decode()
    assert the_answer(consultation).comment == "Final words."


def test_crafted_posts_to_rounds_and_criteria_one_may_not_answer_are_404s(
    consultation: Consultation, other_org: Organisation, other_secretariat: User
) -> None:
    from tests.factories import CriterionFactory, DraftDocumentFactory, WorkingGroupFactory
    from tests.meetings.conftest import seat_person

    with scopes_disabled():
        group = WorkingGroupFactory.create(organisation=other_org)
        seat_person(group, other_secretariat)
        criterion = CriterionFactory.create(
            document=DraftDocumentFactory.create(organisation=other_org)
        )
    theirs = make_round(
        group=group, document=criterion.document, criteria=[criterion], staff=other_secretariat
    )
    outsider = client_for(consultation.outsider)
    participant = client_for(consultation.participant)
    cases = [
        (outsider, answer_url(consultation)),  # another group's round
        (participant, f"/alu/feedback/rounds/{theirs.pk}/criteria/{criterion.pk}/"),
        (participant, f"/other/feedback/rounds/{theirs.pk}/criteria/{criterion.pk}/"),
        (participant, answer_url(consultation, "5.10")),  # not in the round
        (
            participant,
            f"/alu/feedback/rounds/{consultation.round.pk}/criteria/{criterion.pk}/",
        ),
        # Ids no row can have (SQLite cannot even take them).
        (participant, f"/alu/feedback/rounds/{10**20}/criteria/{criterion.pk}/"),
        (participant, f"/alu/feedback/rounds/{consultation.round.pk}/criteria/{10**20}/"),
    ]
    for client, url in cases:
        for target, headers in both_urls(url):
            response = client.post(target, {"version": "0", "comment": "Crafted"}, **headers)
            assert response.status_code == 404, target
    with scopes_disabled():
        assert Answer.objects.count() == 0


def test_the_autosave_says_why_it_refuses_and_an_outsider_learns_nothing(
    consultation: Consultation, participant: Client, secretariat: User, org: Organisation
) -> None:
    """The autosave reads the round without the person's access (the service checks it under
    its lock); every refusal still gives the answer the form page gives."""
    c = consultation
    url = answer_url(c) + "autosave/"
    outsider = client_for(c.outsider)
    # Someone of another group gets a 404 whatever they send: not the form's errors.
    for data in ({"version": "0", "relevance": "7"}, {"version": "0", "comment": "Crafted"}):
        assert outsider.post(url, data, **HTMX).status_code == 404
    # A new antitrust policy: the participant is told to acknowledge it.
    save(c, {"comment": "Before the new policy."}, 0)
    with scope(organisation=org):
        policy = membership_services.antitrust_policy_publish(
            organisation=org, title="Antitrust policy v2", body="Still none.", acting_user=None
        )
    response = participant.post(url, {"version": "1", "comment": "After?"}, **HTMX)
    assert response.status_code == 400
    assert "Acknowledge the antitrust policy" in response.content.decode()
    with scope(organisation=org):
        membership_services.antitrust_acknowledge(
            organisation=org, user=c.participant, policy=policy
        )
    # A seat ended after answering: the answer stays readable, and unchanged.
    with scopes_disabled():
        seat = Seat.objects.get(group=c.group, holder=c.participant, ended_at__isnull=True)
    with scope(organisation=org):
        membership_services.seat_end(
            seat=seat, reason=Seat.EndReason.WITHDREW, acting_user=secretariat
        )
    response = participant.post(url, {"version": "1", "comment": "After my seat?"}, **HTMX)
    assert response.status_code == 400
    assert f"You no longer hold a seat in {c.group.name}" in response.content.decode()
    assert the_answer(c).comment == "Before the new policy."


def test_acknowledging_another_tenants_policy_does_not_count_here(
    consultation: Consultation, participant: Client, org: Organisation, other_org: Organisation
) -> None:
    """The acknowledgement asked for is of this tenant's current policy: a person who takes part
    in two standards bodies and acknowledged the other's current version is still asked here."""
    c = consultation
    with scope(organisation=org):
        membership_services.antitrust_policy_publish(
            organisation=org, title="Antitrust policy v2", body="Still none.", acting_user=None
        )
    with scope(organisation=other_org):
        theirs = membership_services.antitrust_policy_publish(
            organisation=other_org, title="Their policy", body="Theirs.", acting_user=None
        )
        membership_services.antitrust_acknowledge(
            organisation=other_org, user=c.participant, policy=theirs
        )
    # The form page, the form's own submit and the autosave each ask for this tenant's version.
    page = text(participant.get(answer_url(c)))
    assert "read and acknowledge the current antitrust policy" in page
    submitted = participant.post(answer_url(c), form_data(0, comment="Through the form."))
    assert "Acknowledge the antitrust policy" in text(submitted)
    saved = participant.post(
        answer_url(c) + "autosave/", {"version": "0", "comment": "Typed."}, **HTMX
    )
    assert saved.status_code == 400
    assert "Acknowledge the antitrust policy" in saved.content.decode()
    # The service refuses too, whoever calls it, and the participant's access says so.
    with scope(organisation=org):
        with pytest.raises(services.NotInTheRound, match="Acknowledge the antitrust policy"):
            services.answer_save(
                round=c.round,
                criterion=c.criteria["5.3"],
                user=c.participant,
                data={"comment": "Straight to the service."},
                expected_version=0,
            )
        access = round_for_participant(organisation=org, user=c.participant, pk=c.round.pk)
        assert access is not None
        assert not access.acknowledged
    with scopes_disabled():
        assert not Answer.objects.filter(author=c.participant).exists()


# --- After the round closes ---------------------------------------------------------------------


def test_after_closing_the_form_is_read_only_with_the_answers_and_published_responses(
    consultation: Consultation, participant: Client, secretariat: User
) -> None:
    answer = save(consultation, {"comment": "My point.", "relevance": 5}, 0, submit=True)
    with scope(organisation=consultation.round.organisation):
        services.round_close(round=consultation.round, acting_user=secretariat)
        services.disposition_set(
            answers=[answer], status="accepted", response="We agree.", acting_user=secretariat
        )
    page = text(participant.get(answer_url(consultation)))
    assert "This round closed" in page
    assert "read-only" in page
    assert "My point." in page
    assert "5 - very high" in page
    assert '<form method="post" class="answer-form"' not in page
    assert "We agree." not in page  # not published yet
    with scope(organisation=consultation.round.organisation):
        services.dispositions_publish(round=consultation.round, acting_user=secretariat)
    page = text(participant.get(answer_url(consultation)))
    assert "The secretariat's response" in page
    assert "We agree." in page
    assert "Accepted" in page
    assert "Response published" in text(participant.get(round_url(consultation)))
    assert "responses to 1 of your answers are published" in text(participant.get("/alu/feedback/"))


# --- Navigation and the group page --------------------------------------------------------------


def test_the_navigation_leads_to_the_persons_feedback(consultation: Consultation) -> None:
    link = '<a href="/alu/feedback/">My feedback</a>'
    assert link in client_for(consultation.participant).get("/alu/").content.decode()
    assert link not in Client().get("/alu/").content.decode()


def test_the_group_page_names_the_open_round_to_its_participants(
    consultation: Consultation,
) -> None:
    url = f"/alu/groups/{consultation.group.slug}/"
    assert "First consultation" in client_for(consultation.participant).get(url).content.decode()
    assert "First consultation" not in client_for(consultation.outsider).get(url).content.decode()
    assert "First consultation" not in Client().get(url).content.decode()


def test_a_scheduled_round_shows_its_criteria_but_no_form(
    consultation: Consultation, secretariat: User
) -> None:
    later = make_round(
        group=consultation.group,
        document=consultation.document,
        criteria=[consultation.criteria["5.10"]],
        staff=secretariat,
        title="Later round",
        opens_at=timezone.now() + datetime.timedelta(days=2),
        closes_at=timezone.now() + datetime.timedelta(days=9),
    )
    client = client_for(consultation.participant)
    url = f"/alu/feedback/rounds/{later.pk}/criteria/{consultation.criteria['5.10'].pk}/"
    page = text(client.get(url))
    assert "This round opens" in page
    assert 'class="answer-form"' not in page
    assert "Coming up" in text(client.get("/alu/feedback/"))
    assert FeedbackRound.objects is not None
