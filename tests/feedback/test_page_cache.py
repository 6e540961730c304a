"""Each person's pages from the cache (asi_wg.pagecache), tried on a consultation's pages and
their neighbours: served again only while nothing they may show has changed, whoever wrote it
and however."""

from __future__ import annotations

import datetime
import gzip
import io
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.contrib.messages import constants
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from asi_wg import caching, pagecache
from asi_wg.models import Organisation, OrganisationRole, User
from feedback import services
from feedback.models import Criterion, SummaryFile
from groups import services as group_services
from groups.models import WorkingGroup
from membership.models import Member, Seat, SentNotification
from tests.factories import MemberFactory, OrganisationFactory, WorkingGroupFactory
from tests.feedback.conftest import Consultation
from tests.helpers.pages import without_csrf_tokens
from tests.meetings.conftest import client_for

pytestmark = pytest.mark.django_db


def served(client: Client, url: str, **headers: str) -> tuple[str, bool]:
    """The page at ``url``, and whether it came from the page cache."""
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.status_code
    return response.content.decode(), response.get("X-Page-Cache") == "hit"


def cached(client: Client, url: str) -> str:
    """``url`` once it is in the person's page cache (the first request sets the CSRF cookie,
    the second is kept, the third is served from it)."""
    client.get(url)
    client.get(url)
    page, hit = served(client, url)
    assert hit, f"{url} was not served from the page cache"
    return page


def renewed(client: Client, url: str) -> str:
    """``url`` rendered afresh, not served from the page cache."""
    page, hit = served(client, url)
    assert not hit, f"{url} came from the page cache"
    return page


def form_url(c: Consultation, ref: str = "5.3") -> str:
    return f"/alu/feedback/rounds/{c.round.pk}/criteria/{c.criteria[ref].pk}/"


def triage_url(c: Consultation) -> str:
    return f"/alu/staff/feedback/rounds/{c.round.pk}/"


def save(c: Consultation, user: User, comment: str, ref: str = "5.3") -> None:
    with scope(organisation=c.round.organisation):
        services.answer_save(
            round=c.round,
            criterion=c.criteria[ref],
            user=user,
            data={"comment": comment},
            expected_version=0,
            submit=False,
        )


def test_a_second_reading_is_the_same_page_for_one_query(consultation: Consultation) -> None:
    participant = client_for(consultation.participant)
    participant.get("/alu/me/")
    rendered, hit = served(participant, "/alu/me/")
    assert not hit
    with CaptureQueriesContext(connection) as queries:
        again, hit = served(participant, "/alu/me/")
    assert hit
    assert without_csrf_tokens(again) == without_csrf_tokens(rendered)
    assert len(queries) == 1, [q["sql"] for q in queries]  # the account; the session is cached


def test_a_page_is_kept_in_gzip_and_sent_so_to_browsers_that_accept_it(
    consultation: Consultation,
) -> None:
    participant = client_for(consultation.participant)
    participant.get("/alu/me/")
    kept = participant.get("/alu/me/", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert kept.get("X-Page-Cache") != "hit"
    assert kept["Content-Encoding"] == "gzip"
    page = gzip.decompress(kept.content).decode()
    assert "<h1>My applications</h1>" in page
    zipped = participant.get("/alu/me/", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert zipped.get("X-Page-Cache") == "hit"
    assert zipped["Content-Encoding"] == "gzip"
    assert int(zipped["Content-Length"]) == len(zipped.content) < len(page) / 2
    assert "Accept-Encoding" in zipped["Vary"]
    assert without_csrf_tokens(gzip.decompress(zipped.content).decode()) == without_csrf_tokens(
        page
    )
    # A client that does not accept gzip gets the same page from the same entry, plain.
    plain = participant.get("/alu/me/")
    assert plain.get("X-Page-Cache") == "hit"
    assert not plain.has_header("Content-Encoding")
    assert "Accept-Encoding" in plain["Vary"]
    assert without_csrf_tokens(plain.content.decode()) == without_csrf_tokens(page)


def test_writes_behind_the_services_back_show_at_once(consultation: Consultation) -> None:
    participant = client_for(consultation.participant)
    group = consultation.group
    assert "Circularity" in cached(participant, f"/alu/groups/{group.slug}/")

    with scope(organisation=group.organisation):  # a bulk update: no signal, no service
        WorkingGroup.objects.filter(pk=group.pk).update(name="Circular Economy")
    page = renewed(participant, f"/alu/groups/{group.slug}/")
    assert "Circular Economy" in page

    cached(participant, form_url(consultation))
    with scopes_disabled():  # outside any tenant, as a command or the shell would
        Criterion.objects.filter(pk=consultation.criteria["5.3"].pk).update(
            text="Smelters shall publish their scrap intake."
        )
    page = renewed(participant, form_url(consultation))
    assert "Smelters shall publish their scrap intake." in page


def test_answers_as_people_type_renew_only_the_pages_that_read_answers(
    consultation: Consultation, secretariat: User
) -> None:
    participant = client_for(consultation.participant)
    staff = client_for(secretariat)
    cached(participant, "/alu/meetings/")
    assert "A point typed just now" not in cached(staff, triage_url(consultation))

    save(consultation, consultation.second, "A point typed just now.")

    assert served(participant, "/alu/meetings/")[1], "an answer renewed the meetings page"
    page = renewed(staff, triage_url(consultation))
    assert "A point typed just now." in page


def test_another_tenants_writes_leave_the_cache_alone(
    consultation: Consultation, other_org: Organisation
) -> None:
    participant = client_for(consultation.participant)
    cached(participant, "/alu/me/")
    with scope(organisation=other_org):
        other_group = WorkingGroupFactory.create(organisation=other_org, name="Elsewhere")
        WorkingGroup.objects.filter(pk=other_group.pk).update(name="Elsewhere, renamed")
    assert served(participant, "/alu/me/")[1]


def test_a_persons_name_changed_anywhere_shows_on_every_tenants_pages(
    consultation: Consultation, secretariat: User, other_org: Organisation
) -> None:
    staff = client_for(secretariat)
    save(consultation, consultation.second, "Named.")
    cached(staff, triage_url(consultation))
    with scope(organisation=other_org):  # the account is shared by every tenant
        User.objects.filter(pk=consultation.second.pk).update(full_name="Renamed Person")
    page = renewed(staff, triage_url(consultation))
    assert "Renamed Person" in page


def test_signing_in_elsewhere_renews_nothing(consultation: Consultation) -> None:
    participant = client_for(consultation.participant)
    cached(participant, "/alu/me/")
    client_for(consultation.second)  # signs in: the session and last_login are written
    consultation.second.last_login = timezone.now()
    consultation.second.save(update_fields=["last_login"])
    assert served(participant, "/alu/me/")[1]


def test_a_role_taken_away_ends_the_cached_staff_pages(
    consultation: Consultation, secretariat: User, org: Organisation
) -> None:
    staff = client_for(secretariat)
    cached(staff, triage_url(consultation))
    group_services.organisation_role_revoke(
        organisation=org, user=secretariat, role=OrganisationRole.SECRETARIAT, acting_user=None
    )
    assert staff.get(triage_url(consultation)).status_code == 404  # staff pages are not shown


def test_people_and_browsers_never_share_a_page(
    consultation: Consultation, secretariat: User
) -> None:
    url = form_url(consultation)
    cached(client_for(consultation.participant), url)
    second = client_for(consultation.second)
    page = renewed(second, url)
    # The same person in a second browser: its own page, with a token for its own cookie.
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(consultation.participant)
    page = cached(browser, url)
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    saved = browser.post(
        url + "autosave/",
        {"comment": "From the second browser.", "version": "0", "csrfmiddlewaretoken": token},
        headers={"HX-Request": "true"},
    )
    assert saved.status_code == 200, saved.content.decode()[:300]


def test_a_browser_without_a_csrf_cookie_is_always_given_one(consultation: Consultation) -> None:
    browser = client_for(consultation.participant)
    for _ in range(3):
        browser.cookies.pop(django_settings.CSRF_COOKIE_NAME, None)
        response = browser.get(form_url(consultation))
        assert response.get("X-Page-Cache") != "hit"
        assert django_settings.CSRF_COOKIE_NAME in response.cookies


def test_an_htmx_request_has_its_own_entry(consultation: Consultation) -> None:
    participant = client_for(consultation.participant)
    cached(participant, "/alu/me/")
    assert not served(participant, "/alu/me/", **{"HX-Request": "true"})[1]


def test_a_message_is_shown_once_and_its_page_is_not_kept(consultation: Consultation) -> None:
    participant = client_for(consultation.participant)
    cached(participant, "/alu/me/")
    response = participant.post(
        form_url(consultation), {"comment": "Final.", "version": "0", "submit": "1"}, follow=True
    )
    assert "is submitted" in response.content.decode()
    landed = response.request["PATH_INFO"]
    page = renewed(participant, landed)
    assert "is submitted" not in page
    assert "is submitted" not in served(participant, "/alu/me/")[0]

    # A message waiting for a page that is in the cache: the page is rendered to show it.
    cached(participant, "/alu/me/")
    storage, carrier = CookieStorage(HttpRequest()), HttpResponse()
    storage.add(constants.INFO, "A note for you.")
    storage.update(carrier)  # the cookie a redirect with a message leaves in the browser
    participant.cookies.update(carrier.cookies)
    assert "A note for you." in renewed(participant, "/alu/me/")
    assert "A note for you." not in served(participant, "/alu/me/")[0]


def test_a_page_is_kept_for_page_cache_seconds_at_most(
    consultation: Consultation, settings: object
) -> None:
    participant = client_for(consultation.participant)
    cached(participant, "/alu/me/")
    later = timezone.now() + datetime.timedelta(seconds=pagecache.settings.PAGE_CACHE_SECONDS + 1)
    with mock.patch("asi_wg.pagecache.timezone.now", return_value=later):
        assert not served(participant, "/alu/me/")[1]
    settings.PAGE_CACHE_SECONDS = 0  # type: ignore[attr-defined]
    participant.get("/alu/me/")
    assert not served(participant, "/alu/me/")[1]


def test_the_admins_lists_are_kept_and_renewed(
    secretariat_client: Client, org: Organisation
) -> None:
    with scope(organisation=org):
        member = MemberFactory.create(organisation=org, name="Old Name Smelting")
    url = "/alu/admin/membership/member/"
    assert "Old Name Smelting" in cached(secretariat_client, url)
    with scope(organisation=org):
        Member.objects.filter(pk=member.pk).update(name="New Name Smelting")
    page = renewed(secretariat_client, url)
    assert "New Name Smelting" in page


def test_an_unknown_statement_renews_every_page(consultation: Consultation) -> None:
    participant = client_for(consultation.participant)
    cached(participant, "/alu/me/")
    with connection.cursor() as cursor:  # raw SQL the watcher cannot read a table from
        cursor.execute("WITH x AS (SELECT 1) UPDATE asi_wg_jobheartbeat SET name = name")
    assert not served(participant, "/alu/me/")[1]


@pytest.mark.django_db(transaction=True)
def test_a_write_renews_the_token_again_when_it_commits_even_after_a_rollback(
    org: Organisation,
) -> None:
    key = f"page-token:tenant:{org.pk}"
    with scope(organisation=org):
        group = WorkingGroupFactory.create(organisation=org)
        for attempt in ("rolled back", "committed"):
            try:
                with transaction.atomic():
                    WorkingGroup.objects.filter(pk=group.pk).update(name=attempt)
                    during = cache.get(key)
                    assert during is not None  # replaced at once
                    if attempt == "rolled back":
                        raise RuntimeError
            except RuntimeError:
                continue
            # A reader between the write and the commit kept the old rows under ``during``:
            # the commit makes that token stale.
            assert cache.get(key) != during


@pytest.mark.django_db(transaction=True)
def test_a_saved_answer_renews_the_pages_that_read_answers_when_it_commits(
    consultation: Consultation, secretariat: User
) -> None:
    """On a real transaction: an answer's token is left alone until the commit (no cache round
    trip before it), then renewed; a rolled-back answer renews nothing."""
    staff = client_for(secretariat)
    url = triage_url(consultation)
    key = f"page-token:hot:{consultation.round.organisation_id}:feedback_answer"
    assert "A point typed just now" not in cached(staff, url)
    before = cache.get(key)
    assert before is not None  # read by the triage page when it was kept
    for attempt in ("rolled back", "committed"):
        try:
            with transaction.atomic():
                save(consultation, consultation.second, f"A point typed just now, {attempt}.")
                assert cache.get(key) == before  # the commit's to renew
                if attempt == "rolled back":
                    raise RuntimeError
        except RuntimeError:
            assert cache.get(key) == before
            assert served(staff, url)[1], "a rolled-back answer renewed the triage page"
            continue
        assert cache.get(key) != before
    page = renewed(staff, url)
    assert "A point typed just now, committed." in page
    assert "rolled back" not in page


def test_e_mails_being_sent_renew_nothing_and_a_page_that_reads_them_is_not_kept(
    consultation: Consultation,
) -> None:
    participant = client_for(consultation.participant)
    cached(participant, "/alu/me/")
    with scope(organisation=consultation.round.organisation):  # a reminder job's claim
        SentNotification.objects.create(
            organisation=consultation.round.organisation,
            key="meeting_reminder:1:2",
            recipient=consultation.participant,
        )
    assert served(participant, "/alu/me/")[1]
    # Were the dashboard to read a table no token follows, it would not be kept at all.
    unshown = frozenset({"membership_seat"})
    with mock.patch.multiple(
        pagecache, UNSHOWN_TABLES=unshown, _WATCHED_READS=pagecache.HOT_TABLES | unshown
    ):
        participant.get("/alu/me/", {"again": "1"})
        assert not served(participant, "/alu/me/?again=1")[1]


def test_one_person_in_two_tenants_gets_each_tenants_own_page(
    consultation: Consultation, other_org: Organisation
) -> None:
    participant = client_for(consultation.participant)
    here = cached(participant, "/alu/me/")
    there = cached(participant, "/other/me/")
    assert "Aluminium Body" in here
    assert "Other Body" not in here
    assert "Other Body" in there
    assert "Aluminium Body" not in there


@pytest.mark.parametrize(
    ("every", "seconds"), [(1, 3600.0), (1000, 0.0)], ids=["by count", "by time"]
)
def test_the_cache_counts_what_it_spares_per_tenant(
    consultation: Consultation, every: int, seconds: float
) -> None:
    pagecache._tally.clear()
    participant = client_for(consultation.participant)
    with mock.patch.multiple(pagecache, TALLY_EVERY=every, TALLY_SECONDS=seconds):
        participant.get(form_url(consultation))  # gives the browser its CSRF cookie: not kept
        participant.get(form_url(consultation))  # kept
        for _ in range(3):
            participant.get(form_url(consultation))
    out = io.StringIO()
    call_command("page_cache_stats", "--reset", stdout=out)
    assert out.getvalue().splitlines()[1].split() == ["alu", "3", "1", "1", "60%"]
    out = io.StringIO()
    call_command("page_cache_stats", stdout=out)
    assert len(out.getvalue().splitlines()) == 1  # reset: the heading alone


def test_reads_in_parentheses_or_under_a_cte_renew_nothing(consultation: Consultation) -> None:
    participant = client_for(consultation.participant)
    cached(participant, "/alu/me/")
    with scope(organisation=consultation.round.organisation):
        # PostgreSQL's unions put each part in parentheses: "(SELECT ...) UNION (SELECT ...)".
        seats = Seat.objects.filter(group=consultation.group).order_by().values("pk")
        assert list(seats.union(seats.filter(ended_at__isnull=True)))
        with connection.cursor() as cursor:
            cursor.execute("WITH x AS (SELECT 1 AS n) SELECT n FROM x")
    assert served(participant, "/alu/me/")[1]


def test_a_pdf_builds_progress_renews_only_the_pages_that_read_summary_files(
    consultation: Consultation,
) -> None:
    participant = client_for(consultation.participant)
    cached(participant, "/alu/me/")
    with scope(organisation=consultation.round.organisation):
        # As the PDF job's progress writer does, about once a second.
        SummaryFile.objects.filter(pk__lt=0).update(progress="Page 3 of 9")
    assert served(participant, "/alu/me/")[1]


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_cache_fails_no_write_and_no_commit_callback(org: Organisation) -> None:
    caching._unreplaced.clear()
    ran = []
    with (
        scope(organisation=org),
        mock.patch.object(pagecache.cache, "set_many", side_effect=ConnectionError("down")),
    ):
        with transaction.atomic():
            group = WorkingGroupFactory.create(organisation=org, name="Written")
            transaction.on_commit(lambda: ran.append("queued job"))
        WorkingGroup.objects.filter(pk=group.pk).update(name="Written again")  # autocommit
    assert ran == ["queued job"]
    with scopes_disabled():
        assert WorkingGroup.objects.get(pk=group.pk).name == "Written again"
    # The cache answers again: the next write replaces the tokens missed meanwhile.
    key = f"page-token:tenant:{org.pk}"
    cache.set(key, "before the outage", None)
    OrganisationFactory.create(name="Elsewhere", slug="elsewhere")  # any write will do
    assert cache.get(key) != "before the outage"


def test_an_unreachable_cache_fails_no_save_of_public_data_or_of_a_tenant(
    org: Organisation,
) -> None:
    caching._unreplaced.clear()
    caching._undeleted.clear()
    down = ConnectionError("down")
    with (
        scope(organisation=org),
        mock.patch.object(caching.cache, "set", side_effect=down),
        mock.patch.object(caching.cache, "set_many", side_effect=down),
        mock.patch.object(caching.cache, "delete_many", side_effect=down),
    ):
        group = WorkingGroupFactory.create(organisation=org, name="Public while down")
        org.name = "Renamed while down"
        org.save()
    with scopes_disabled():
        assert WorkingGroup.objects.get(pk=group.pk).name == "Public while down"
        assert Organisation.objects.get(pk=org.pk).name == "Renamed while down"
    # Back: the next write anywhere renews the tenant's public fragments and forgets the
    # tenant as it was cached before the rename.
    version = caching.public_version_key(org.pk)
    cache.set(version, "before the outage", None)
    cache.set(caching._organisation_key(org.slug), "the old organisation", None)
    OrganisationFactory.create(name="Elsewhere", slug="elsewhere")
    assert cache.get(version) != "before the outage"
    assert cache.get(caching._organisation_key(org.slug)) is None


def test_a_process_that_serves_no_cached_page_still_renews_others(settings: object) -> None:
    settings.PAGE_CACHE_SECONDS = 0  # type: ignore[attr-defined]
    fresh = mock.Mock(execute_wrappers=[])
    pagecache._install(None, fresh)
    assert fresh.execute_wrappers == [pagecache._watch]
