"""Every page each demo account reaches passes axe-core's WCAG 2.0/2.1/2.2 A and AA rules.

The pages are found by following links, not listed by hand: each account starts from the pages
the README names and follows every link inside its part of the site, so a page added later (or
an admin model renamed or moved to another app) is checked without touching this test. Pages
that differ only by a database id (one Member's change form and another's) are one kind of page
and are checked once; so are Django's history and deletion pages across models, the application
form across groups, the group pages for accounts to which every group looks the same, and the
admin pages that both tenants' secretariats reach (the same templates).

One test, one browser and one load of the demo: the accounts are checked one after the other
(at desktop width, and the main public and participant pages again at phone width) and every
violation of every page is reported together at the end. A new page only needs a link from a
page already crawled; a page behind a form (a POST) needs its own test calling
``tests.e2e.axe.assert_accessible``.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urldefrag, urlsplit

import pytest
from django_scopes import scope, scopes_disabled

from asi_wg.demo import DEMO_PASSWORD
from asi_wg.models import Organisation, User
from membership import services
from membership.models import Offer, Seat
from tests.e2e.axe import axe_violations, format_violations
from tests.e2e.conftest import DESKTOP, PHONE

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

pytestmark = pytest.mark.browser

# Downloads and actions, not pages: a data export, files (a meeting's readings are served by a
# view, under /meetings/materials/), and the sign-out form's target.
NOT_A_PAGE = re.compile(
    r"(\.(json|csv|xlsx|pdf|ics|zip)$|^/accounts/logout/|/media/|/static/|/meetings/materials/)",
    re.IGNORECASE,
)
LINKS = "() => [...document.querySelectorAll('a[href]')].map((a) => a.href)"
# At most this many kinds of page per account: a crawl that runs away (a calendar with a "next" link
# for ever) fails here instead of timing out. The secretariat reaches some 150 (issue 9 added the
# committee summaries and the synopses).
MAX_PAGES = 200


@dataclass
class Account:
    email: str | None
    start: list[str]
    # The crawl follows links whose path starts with one of these.
    within: tuple[str, ...]
    # ...except those whose path starts with one of these (pages another account checks).
    not_within: tuple[str, ...] = ()
    # Also checked at phone width.
    phone: tuple[str, ...] = ()
    # Group pages look the same to this account whichever the group (it has no application,
    # seat or role in any): one of them stands for all.
    one_group_page: bool = False
    # Kinds of page (see Crawl.kind) the crawl must have reached, so that it cannot pass by
    # checking nothing; one that starts with "~" is any kind that contains the rest.
    must_reach: tuple[str, ...] = ()


ACCOUNTS = [
    Account(
        email=None,
        start=[
            "/",
            "/asi/",
            "/demo/",
            "/accounts/login/",
            "/accounts/signup/",
            "/accounts/password/reset/",
            "/asi/groups/no-such-group/",
        ],
        within=("/",),
        phone=(
            "/asi/",
            "/asi/groups/circularity/",
            "/asi/synopses/",
            "/demo/",
            "/accounts/login/",
            "/accounts/signup/",
            "/accounts/password/reset/",
        ),
        must_reach=(
            "/asi/groups/circularity/",
            "/asi/synopses/",
            "/asi/synopses/<n>/",
            "/demo/groups/traceability/",
            "/accounts/login/",
            "/accounts/signup/",
            "/accounts/password/reset/",
        ),
    ),
    Account(
        email="participant@asi.example",
        start=[
            "/asi/me/",
            "/asi/",
            "/asi/me/profile/",
            "/asi/antitrust/",
            "/accounts/email/",
            "/accounts/password/change/",
        ],
        within=("/asi/", "/accounts/"),
        phone=(
            "/asi/me/",
            "/asi/me/profile/",
            "/asi/antitrust/",
            "/asi/groups/circularity/",
            "/asi/groups/climate-change/apply/",
            "/asi/feedback/",
        ),
        must_reach=(
            "/asi/me/",
            "/asi/me/profile/",
            "/asi/antitrust/",
            "/asi/me/erase/",
            "/accounts/email/",
            "~/extensions/<n>/",
            "/asi/groups/<slug>/apply/",
            "/asi/feedback/",
            "/asi/feedback/rounds/<n>/",
            "/asi/feedback/rounds/<n>/criteria/<n>/",
        ),
    ),
    Account(
        email="applicant@asi.example",
        start=["/asi/me/", "/asi/", "/asi/me/profile/", "/asi/antitrust/"],
        within=("/asi/", "/accounts/"),
        phone=("/asi/me/",),
        must_reach=(
            "/asi/me/",
            "/asi/groups/circularity/",
            "/asi/groups/<slug>/apply/",
            "/asi/me/offers/<n>/decline/",
        ),
    ),
    Account(
        email="committee@asi.example",
        start=["/asi/", "/asi/me/", "/asi/me/profile/", "/asi/antitrust/"],
        within=("/asi/", "/accounts/"),
        phone=("/asi/committee/summaries/",),
        one_group_page=True,
        must_reach=(
            "/asi/me/",
            "/asi/groups/<slug>/",
            # The summaries, reached from the "Summaries" link of the navigation.
            "/asi/committee/summaries/",
            "/asi/committee/summaries/rounds/<n>/",
            "/asi/committee/summaries/groups/circularity/documents/<n>/",
            "/asi/committee/summaries/documents/<n>/",
        ),
    ),
    Account(
        email="secretariat@asi.example",
        start=["/asi/", "/asi/me/", "/asi/staff/", "/asi/admin/"],
        within=("/asi/", "/accounts/"),
        # The committee's summaries are the same pages for staff, long ones (every comment of
        # the closed round): the committee account checks them.
        not_within=("/asi/committee/",),
        one_group_page=True,
        must_reach=(
            "/asi/admin/",
            "/asi/staff/",
            "/asi/staff/groups/circularity/selection/",
            "/asi/staff/groups/climate-change/selection/",
            "/asi/staff/feedback/",
            "/asi/staff/feedback/rounds/<n>/",
            "/asi/staff/feedback/rounds/<n>/synopsis/",
            # The admin's change and add forms, import and export, the audit log.
            "~/<n>/change/",
            "~/add/",
            "~/import/",
            "~/export/",
            "~auditentry/",
        ),
    ),
    Account(
        email="secretariat@demo.example",
        start=["/demo/", "/demo/me/", "/demo/staff/"],
        within=("/demo/", "/accounts/"),
        # The tenant admin is the same templates for every tenant: the ASI secretariat checks them.
        not_within=("/demo/admin/",),
        one_group_page=True,
        must_reach=("/demo/staff/", "/demo/staff/groups/traceability/selection/"),
    ),
    Account(
        # The platform admin: tenants and accounts, on the same admin templates.
        email="admin@platform.example",
        start=["/admin/"],
        within=("/admin/",),
        must_reach=("/admin/", "~/<n>/change/", "~/add/"),
    ),
]
SIGNED_OUT_ONLY = ("/accounts/login/", "/accounts/signup/")


@dataclass
class Crawl:
    base_url: str
    reports: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    @staticmethod
    def kind(path: str, account: Account) -> str:
        """One key for pages that differ only by a database id, by which object one of
        Django's own pages (history, deletion) is about, or (for some accounts) by the group."""
        kind = re.sub(r"/\d+(?=/)", "/<n>", path)
        kind = re.sub(r"/[^/]+/<n>/(history|delete)/$", r"/<model>/<n>/\1/", kind)
        # The application form is the same form for every group; only its focus areas differ.
        kind = re.sub(r"^(/[^/]+/groups/)[^/]+/apply/$", r"\1<slug>/apply/", kind)
        if account.one_group_page:
            kind = re.sub(r"^(/[^/]+/groups/)[^/]+/$", r"\1<slug>/", kind)
        return kind


def _new_page(browser: Browser, crawl: Crawl, account: Account, viewport: ViewportSize) -> Page:
    context = browser.new_context(base_url=crawl.base_url, viewport=viewport, locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    if account.email:
        page.goto("/accounts/login/")
        page.get_by_label("Email").fill(account.email)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign In").click()
        assert "/accounts/login/" not in page.url, f"{account.email} could not sign in"
    return page


def _goto(page: Page, crawl: Crawl, label: str, path: str) -> str | None:
    """Opens the page; returns the path it ended on (after redirects), or None if it failed."""
    response = page.goto(path)
    if response is None or response.status >= 500:
        crawl.reports.append(f"{label} {path}: status {response and response.status}")
        return None
    return urlsplit(page.url).path


def _check(page: Page, crawl: Crawl, label: str, errors: list[str]) -> None:
    path = urlsplit(page.url).path
    violations = axe_violations(page)
    crawl.checked.append(f"{label} {path}")
    if violations:
        crawl.reports.append(f"{label} " + format_violations(path, violations))
    if errors:
        crawl.reports.append(f"{label} {path}: JavaScript errors {errors}")
    errors.clear()


def _local_paths(base_url: str, hrefs: Iterable[str]) -> list[str]:
    urls = (urldefrag(href)[0] for href in hrefs)
    return [urlsplit(url).path for url in urls if url.startswith(base_url)]


def _crawl_account(browser: Browser, crawl: Crawl, account: Account) -> set[str]:
    """Checks every kind of page the account reaches at desktop width; returns the kinds."""
    label = f"[{account.email or 'anonymous'}]"
    page = _new_page(browser, crawl, account, DESKTOP)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    seen: set[str] = set()
    queue = deque(account.start)
    while queue:
        path = queue.popleft()
        if (
            NOT_A_PAGE.search(path)
            or not path.startswith(account.within)
            or (account.not_within and path.startswith(account.not_within))
        ):
            continue
        # A signed-in account must not sign itself out or into another session by a link.
        if account.email and path.startswith(SIGNED_OUT_ONLY):
            continue
        kind = crawl.kind(path, account)
        if kind in seen:
            continue
        seen.add(kind)
        assert len(seen) <= MAX_PAGES, f"{label}: more than {MAX_PAGES} kinds of page"
        landed = _goto(page, crawl, label, path)
        if landed is None:
            continue
        if landed != path:
            # Redirected (to sign in, say): check where it landed unless that is checked.
            landed_kind = crawl.kind(landed, account)
            if landed_kind in seen:
                continue
            seen.add(landed_kind)
        _check(page, crawl, label, errors)
        queue.extend(_local_paths(crawl.base_url, page.evaluate(LINKS)))
    page.context.close()
    return seen


def _check_at_phone_width(browser: Browser, crawl: Crawl, account: Account) -> None:
    label = f"[{account.email or 'anonymous'} {PHONE['width']}px]"
    page = _new_page(browser, crawl, account, PHONE)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    for path in account.phone:
        if _goto(page, crawl, label, path) is not None:
            _check(page, crawl, label, errors)
    page.context.close()


def _unreached(account: Account, kinds: set[str]) -> list[str]:
    return [
        wanted
        for wanted in account.must_reach
        if not (
            wanted in kinds
            or (wanted.startswith("~") and any(wanted[1:] in kind for kind in kinds))
        )
    ]


def _offer_a_seat_to_the_applicant() -> None:
    """The README's way to see the waiting list move: the secretariat ends a Circularity seat
    and the applicant, first on the list, is offered it. Done first so that the offer and its
    pages (and the workbench with an open offer) are checked too."""
    with scopes_disabled():
        asi = Organisation.objects.get(slug="asi")
        secretariat = User.objects.get(email="secretariat@asi.example")
    with scope(organisation=asi):
        seat = (
            Seat.objects.filter(group__slug="circularity", ended_at__isnull=True)
            .exclude(holder__email="participant@asi.example")
            .first()
        )
        assert seat is not None
        services.seat_end(seat=seat, reason=Seat.EndReason.WITHDREW, acting_user=secretariat)
        assert Offer.objects.filter(
            application__applicant__email="applicant@asi.example", status=Offer.Status.OPEN
        ).exists()


#: The accounts in three parts that take about as long as each other, so that test processes
#: (pytest-xdist) crawl them side by side.
PARTS = {
    "asi-secretariat": ("secretariat@asi.example",),
    "demo-secretariat-and-committee": ("secretariat@demo.example", "committee@asi.example"),
    "public-participants-and-platform": (
        None,
        "participant@asi.example",
        "applicant@asi.example",
        "admin@platform.example",
    ),
}


def test_the_parts_cover_every_account_once() -> None:
    emails = [email for part in PARTS.values() for email in part]
    assert sorted(map(str, emails)) == sorted(str(account.email) for account in ACCOUNTS)


@pytest.mark.parametrize("part", PARTS)
def test_every_page_each_demo_account_reaches_passes_axe(
    browser: Browser, demo_site: str, part: str
) -> None:
    _offer_a_seat_to_the_applicant()
    crawl = Crawl(base_url=demo_site)
    for account in (account for account in ACCOUNTS if account.email in PARTS[part]):
        kinds = _crawl_account(browser, crawl, account)
        unreached = _unreached(account, kinds)
        assert not unreached, f"{account.email or 'anonymous'} never reached {unreached}"
        if account.phone:
            _check_at_phone_width(browser, crawl, account)

    assert not crawl.reports, "\n\n".join(crawl.reports)
