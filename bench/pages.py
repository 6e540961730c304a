"""The pages the benchmark measures, found in a tenant's data, and their query counts.

Needs Django set up (``bench/run.py`` does it). Each page is found the same way in the demo
tenant ``asi`` (the addresses the issue names) and in a synthetic tenant ``scale-NN``: the open
round's group, its first criterion, a seated participant who may answer, the closed round with
the most answers, the tenant's secretariat and committee accounts.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from bench.wrk import Saver

#: The view every page is divided by (``bench/urls.py``): routing and every middleware, no work.
TRIVIAL = "/bench/trivial"


@dataclass(frozen=True)
class Page:
    key: str
    label: str
    path: str
    user: str | None = None  # e-mail of the account it is requested as; None: anonymous
    method: str = "GET"


@dataclass
class Tenant:
    slug: str
    pages: list[Page]
    round_id: int
    criteria: list[int]
    participants: list[str]  # seated in the open round's group, the page's participant first
    sessions: dict[str, str] = field(default_factory=dict)  # e-mail: session key
    csrf: str = field(default_factory=lambda: csrf_secret())  # the browsers' CSRF cookie


def _accounts(slug: str) -> tuple[str, str]:
    if slug == "asi":
        return "secretariat@asi.example", "committee@asi.example"
    return f"staff@{slug}.example", f"committee@{slug}.example"


def tenant(slug: str) -> Tenant:
    """The pages of tenant ``slug`` and who requests them."""
    from django.db.models import Count
    from django_scopes import scopes_disabled

    from asi_wg.models import Organisation
    from feedback.models import FeedbackRound
    from feedback.selectors import open_rounds
    from groups.models import WorkingGroup
    from membership.models import Seat

    with scopes_disabled():
        org = Organisation.objects.get(slug=slug)
        rounds = FeedbackRound.objects.filter(organisation=org).select_related("group")
        if slug == "asi":
            rounds = rounds.filter(group__slug="circularity")
        open_round = rounds.filter(open_rounds()).order_by("pk").first()
        closed = (
            rounds.exclude(open_rounds()).annotate(n=Count("answers")).order_by("-n", "pk").first()
        )
        assert open_round is not None, f"{slug}: no open round"
        assert closed is not None, f"{slug}: no closed round"
        group = open_round.group
        criteria = list(open_round.criteria.order_by("pk").values_list("pk", flat=True))
        seated = list(
            Seat.objects.filter(group=group, ended_at__isnull=True)
            .order_by("holder__email")
            .values_list("holder__email", flat=True)
        )
        participant = "participant@asi.example" if slug == "asi" else seated[0]
        participants = [participant, *(e for e in seated if e != participant)]
        bench_group = (
            "climate-change"
            if slug == "asi"
            else WorkingGroup.objects.filter(organisation=org).order_by("number")[0].slug
        )
    staff, committee = _accounts(slug)
    o = f"/{slug}"
    form = f"{o}/feedback/rounds/{open_round.pk}/criteria/{criteria[0]}/"
    pages = [
        Page("trivial", "trivial view (baseline)", TRIVIAL),
        Page("healthz", "/healthz", "/healthz"),
        Page("home", "organisation home", f"{o}/"),
        Page("group_anon", "group page, anonymous", f"{o}/groups/{group.slug}/"),
        # The floor of every signed-in page: the cached home page, with the person's navigation.
        Page("home_participant", "organisation home, signed in", f"{o}/", participant),
        Page(
            "group_participant", "group page, participant", f"{o}/groups/{group.slug}/", participant
        ),
        Page("dashboard", "participant dashboard", f"{o}/me/", participant),
        Page("meetings", "meetings page", f"{o}/meetings/", participant),
        Page("form", "feedback form", form, participant),
        Page("autosave", "autosave (POST)", f"{form}autosave/", participant, "POST"),
        Page("triage", "triage, closed round", f"{o}/staff/feedback/rounds/{closed.pk}/", staff),
        Page(
            "committee",
            "committee round summary",
            f"{o}/committee/summaries/rounds/{closed.pk}/",
            committee,
        ),
        Page(
            "workbench", "selection workbench", f"{o}/staff/groups/{bench_group}/selection/", staff
        ),
        Page("admin_members", "admin: Members", f"{o}/admin/membership/member/", staff),
        Page(
            "admin_applications", "admin: applications", f"{o}/admin/membership/application/", staff
        ),
        Page("admin_audit", "admin: audit log", f"{o}/admin/asi_wg/auditentry/", staff),
    ]
    return Tenant(slug, pages, open_round.pk, criteria, participants)


def sign_in(emails: set[str]) -> dict[str, str]:
    """A session in the database for each account, as the sign-in form would leave it."""
    from django.test import Client

    from asi_wg.models import User

    sessions = {}
    for user in User.objects.filter(email__in=emails):
        client = Client()
        client.force_login(user)
        sessions[user.email] = client.cookies["sessionid"].value
    missing = emails - set(sessions)
    assert not missing, f"no such accounts: {sorted(missing)}"
    return sessions


def answer_version(round_id: int, criterion_id: int, email: str) -> int:
    from django_scopes import scopes_disabled

    from feedback.models import Answer

    with scopes_disabled():
        found = (
            Answer.objects.filter(round_id=round_id, criterion_id=criterion_id, author__email=email)
            .values_list("version", flat=True)
            .first()
        )
    return found or 0


def autosave_body(version: int, n: int = 0) -> dict[str, str]:
    return {"comment": f"Save {n}: the criterion needs examples.", "version": str(version)}


def savers(t: Tenant, wanted: int) -> list[Saver]:
    """Up to ``wanted`` distinct (participant, criterion) answers that really save: each is tried
    once with the test client (which also warms the path), keeping those that answer 200."""
    from django.test import Client

    found: list[Saver] = []
    refused: set[str] = set()
    for email in t.participants:
        for criterion in t.criteria:
            if len(found) == wanted:
                return found
            if email in refused:
                break
            if email not in t.sessions:
                t.sessions.update(sign_in({email}))
            client = Client()
            client.cookies["sessionid"] = t.sessions[email]
            path = f"/{t.slug}/feedback/rounds/{t.round_id}/criteria/{criterion}/autosave/"
            version = answer_version(t.round_id, criterion, email)
            response = client.post(path, autosave_body(version), headers={"HX-Request": "true"})
            if response.status_code != 200:
                refused.add(email)  # not seated, or has not acknowledged the policy
                continue
            found.append(Saver(path, t.sessions[email], csrf_secret(), version + 1, email))
    return found


def refreshed(savers: list[Saver]) -> list[Saver]:
    """The same savers at their answers' versions now (after a pass of saves), so that the next
    pass meets no conflict either."""
    from dataclasses import replace

    fresh = []
    for saver in savers:
        parts = saver.path.rstrip("/").split("/")
        round_id, criterion = int(parts[-4]), int(parts[-2])
        fresh.append(replace(saver, version=answer_version(round_id, criterion, saver.email)))
    return fresh


@dataclass(frozen=True)
class Count:
    status: int
    queries: int


def count_queries(t: Tenant) -> dict[str, Count]:
    """Each page's queries on its second request in this process (the first warms per-process
    caches: content types, compiled templates), through the test client and every middleware.
    Rendered, not from the person's page cache (``asi_wg.pagecache``), which it is off for: a
    page served from there costs one or two queries whatever it shows."""
    from django.test.utils import override_settings

    with override_settings(PAGE_CACHE_SECONDS=0):
        return _count_queries(t)


def _count_queries(t: Tenant) -> dict[str, Count]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    emails = {p.user for p in t.pages if p.user} - set(t.sessions)
    t.sessions.update(sign_in(emails))
    counts = {}
    for page in t.pages:
        client = Client()
        if page.user:
            client.cookies["sessionid"] = t.sessions[page.user]
        if page.method == "POST":
            criterion = int(page.path.rstrip("/").split("/")[-2])
            assert page.user
            version = answer_version(t.round_id, criterion, page.user)
            client.post(page.path, autosave_body(version, 1), headers={"HX-Request": "true"})
            with CaptureQueriesContext(connection) as captured:
                response = client.post(
                    page.path, autosave_body(version + 1, 2), headers={"HX-Request": "true"}
                )
        else:
            client.get(page.path)
            with CaptureQueriesContext(connection) as captured:
                response = client.get(page.path)
        counts[page.key] = Count(response.status_code, len(captured.captured_queries))
    return counts


def csrf_secret() -> str:
    """A CSRF cookie value the middleware accepts (32 characters), sent back in the header."""
    return secrets.token_hex(16)
