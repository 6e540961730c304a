"""The public pages and sign-in in a real browser: phone layout, keyboard use, navigation between
groups, the secretariat's way into its admin, screenshots, and basic accessibility checks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from asi_wg.demo import DEMO_PASSWORD
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import DESKTOP, PHONE

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

pytestmark = pytest.mark.browser

ASI_GROUPS = [
    "Circularity",
    "Climate Change",
    "Nature",
    "Community Rights and Participation",
    "Labour Rights/ Health and Safety",
    "Chain of Custody and Claims",
]

HAS_HORIZONTAL_SCROLL = (
    "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"
)

# What a screen-reader or keyboard user needs at the least, read from the rendered page.
ACCESSIBILITY_FACTS = """() => {
  const text = (el) => (el ? el.textContent.trim() : "");
  const describe = (el) => el.outerHTML.slice(0, 120);
  const byIds = (ids) => ids.split(/\\s+/).map((id) => text(document.getElementById(id))).join("");
  const controls = [...document.querySelectorAll("input, select, textarea")].filter(
    (el) => !["hidden", "submit", "button", "reset", "image"].includes(
      (el.getAttribute("type") || "").toLowerCase()
    )
  );
  return {
    lang: document.documentElement.getAttribute("lang") || "",
    h1: document.querySelectorAll("h1").length,
    imagesWithoutAlt: [...document.querySelectorAll("img:not([alt])")].map(describe),
    unlabelledControls: controls
      .filter((el) => ![...(el.labels || [])].some((label) => text(label))
        && !(el.getAttribute("aria-label") || "").trim()
        && !(el.getAttribute("aria-labelledby") && byIds(el.getAttribute("aria-labelledby"))))
      .map(describe),
    unnamedButtons: [...document.querySelectorAll("button, a[href]")]
      .filter((el) => !text(el) && !(el.getAttribute("aria-label") || "").trim())
      .map(describe),
  };
}"""


def sign_in(page: Page, email: str, password: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()


def header(page: Page) -> Locator:
    return page.get_by_role("banner")


def test_phone_lists_the_six_asi_groups_without_sideways_scrolling(phone_page: Page) -> None:
    page = phone_page
    page.goto("/asi/")

    cards = page.get_by_role("heading", level=2).filter(has=page.get_by_role("link"))
    assert cards.all_inner_texts() == [f"{n}. {name}" for n, name in enumerate(ASI_GROUPS, 1)]
    for number, name in enumerate(ASI_GROUPS, 1):
        assert page.get_by_role("link", name=f"{number}. {name}", exact=True).is_visible()
    assert page.viewport_size == PHONE
    assert not page.evaluate(HAS_HORIZONTAL_SCROLL)

    # Opening every card's focus areas (the longest texts) must not widen the page either.
    for summary in page.locator("summary").all():
        summary.click()
    assert page.get_by_text(
        "Criteria focused on reducing pre-consumer scrap generation"
    ).is_visible()
    assert not page.evaluate(HAS_HORIZONTAL_SCROLL)


def test_phone_group_page_does_not_scroll_sideways(phone_page: Page) -> None:
    phone_page.goto("/asi/groups/circularity/")

    assert phone_page.get_by_role("heading", name="Phases").is_visible()
    assert not phone_page.evaluate(HAS_HORIZONTAL_SCROLL)


def test_first_tab_reaches_skip_link_and_enter_moves_focus_to_main(page: Page) -> None:
    page.goto("/asi/")
    skip = page.get_by_role("link", name="Skip to content")
    # Hidden until focused: wholly off screen.
    hidden = skip.bounding_box()
    assert hidden is not None
    assert hidden["x"] + hidden["width"] <= 0 or hidden["y"] + hidden["height"] <= 0, hidden

    page.keyboard.press("Tab")

    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Skip to content"
    # Then wholly on screen, big enough to see and to hit (the 24 by 24 pixels of WCAG 2.2's
    # target size), and on top: what lies at its centre is the link itself.
    box = skip.bounding_box()
    assert box is not None
    left, top = box["x"], box["y"]
    right, bottom = left + box["width"], top + box["height"]
    assert left >= 0, box
    assert top >= 0, box
    assert right <= DESKTOP["width"], box
    assert bottom <= DESKTOP["height"], box
    assert min(box["width"], box["height"]) >= 24, box
    on_top = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y)?.closest('a')?.textContent.trim()",
        [(left + right) / 2, (top + bottom) / 2],
    )
    assert on_top == "Skip to content"

    page.keyboard.press("Enter")

    assert page.url.endswith("/asi/#main")
    assert page.evaluate("() => document.activeElement.id") == "main"
    # The next Tab continues inside the content, not back in the header.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.getElementById('main').contains(document.activeElement)")


def test_group_page_shows_focus_areas_and_links_to_linked_groups(page: Page) -> None:
    page.goto("/asi/groups/circularity/")

    assert page.get_by_role("heading", level=1).inner_text() == "Circularity working group"
    focus = page.get_by_role("region", name="Focus areas")
    assert focus.get_by_text("Strengthened criteria for Industrial Users").is_visible()
    assert focus.get_by_text(
        "Criteria focused on reducing pre-consumer scrap generation"
    ).is_visible()
    # Nested focus areas are shown under their parent.
    assert focus.get_by_text("Promoting eco-design and design for circularity").is_visible()

    linkages = page.get_by_role("region", name="Linkages with other groups")
    linkages.get_by_role("listitem").filter(has_text="Regeneration and mine closure").get_by_role(
        "link", name="Nature", exact=True
    ).click()

    page.wait_for_url("**/asi/groups/nature/")
    assert page.get_by_role("heading", level=1).inner_text() == "Nature working group"
    back = page.get_by_role("region", name="Linkages with other groups")
    assert back.get_by_role("link", name="Circularity", exact=True).first.is_visible()


def test_secretariat_signs_in_and_reaches_the_tenant_admin(page: Page) -> None:
    page.goto("/asi/")
    header(page).get_by_role("link", name="Sign in").click()
    page.wait_for_url("**/accounts/login/**")

    sign_in(page, "secretariat@asi.example", DEMO_PASSWORD)

    # Back where they started, signed in.
    page.wait_for_url(re.compile(r"/asi/$"))
    assert header(page).get_by_text("secretariat@asi.example").is_visible()
    assert header(page).get_by_role("button", name="Sign out").is_visible()
    admin_link = header(page).get_by_role("link", name="Secretariat admin")
    assert admin_link.is_visible()

    admin_link.click()

    page.wait_for_url("**/asi/admin/")
    assert page.get_by_role("link", name="Working groups", exact=True).first.is_visible()


def test_signed_in_page_shows_the_email_and_a_participant_gets_no_admin_link(page: Page) -> None:
    page.goto("/accounts/login/")
    sign_in(page, "participant@asi.example", DEMO_PASSWORD)

    page.wait_for_load_state()
    assert header(page).get_by_text("participant@asi.example").is_visible()
    page.goto("/asi/")
    assert header(page).get_by_text("participant@asi.example").is_visible()
    assert header(page).get_by_role("link", name="Secretariat admin").count() == 0


def test_wrong_password_in_the_browser_shows_the_error_next_to_the_form(page: Page) -> None:
    page.goto("/accounts/login/")
    sign_in(page, "secretariat@asi.example", "not-the-password")

    error = page.get_by_text("The email address and/or password you specified are not correct.")
    assert error.is_visible()
    assert_accessible(page)
    assert page.get_by_label("Email").input_value() == "secretariat@asi.example"
    assert header(page).get_by_role("link", name="Sign in").is_visible()


def test_screenshots_of_home_on_a_phone_and_group_page_on_a_desktop(
    browser: Browser, demo_site: str, screenshots: Path
) -> None:
    shots = [
        ("asi-home-phone.png", "/asi/", PHONE),
        ("asi-circularity-desktop.png", "/asi/groups/circularity/", DESKTOP),
        ("login-phone.png", "/accounts/login/", PHONE),
    ]
    for filename, path, viewport in shots:
        context = browser.new_context(base_url=demo_site, viewport=viewport)
        page = context.new_page()
        page.goto(path)
        target = screenshots / filename
        target.unlink(missing_ok=True)
        page.screenshot(path=str(target), full_page=True)
        context.close()
        assert target.stat().st_size > 10_000, f"{filename} looks empty"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/asi/",
        "/asi/groups/circularity/",
        "/asi/groups/circularity-upstream/",
        "/demo/",
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
        "/asi/groups/no-such-group/",
    ],
)
def test_page_passes_basic_accessibility_checks(page: Page, path: str) -> None:
    page.goto(path)

    facts = page.evaluate(ACCESSIBILITY_FACTS)

    assert facts["lang"] == "en"
    assert facts["h1"] == 1
    assert facts["imagesWithoutAlt"] == []
    assert facts["unlabelledControls"] == []
    assert facts["unnamedButtons"] == []
    assert_accessible(page)


def test_signed_in_header_passes_basic_accessibility_checks(page: Page) -> None:
    page.goto("/accounts/login/?next=/asi/")
    sign_in(page, "secretariat@asi.example", DEMO_PASSWORD)
    page.wait_for_url(re.compile(r"/asi/$"))

    facts = page.evaluate(ACCESSIBILITY_FACTS)

    assert facts["h1"] == 1
    assert facts["unlabelledControls"] == []
    assert facts["unnamedButtons"] == []
    assert_accessible(page)
