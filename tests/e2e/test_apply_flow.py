"""Applying in a real browser on a phone: sign up, fill in the profile, apply to a group, see the
application on the dashboard, then sign out and back in and find it again."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from django_scopes import scopes_disabled

from asi_wg.models import Organisation
from membership.models import Application
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import PHONE
from tests.e2e.test_public_pages import ACCESSIBILITY_FACTS, HAS_HORIZONTAL_SCROLL, header
from tests.factories import MemberFactory

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

EMAIL = "new.applicant@example.org"
PASSWORD = "a-long-enough-passphrase"


def check_page(page: Page) -> None:
    """Fits a phone without sideways scrolling, and passes the accessibility checks (axe-core's
    WCAG 2.2 A/AA rules included)."""
    assert not page.evaluate(HAS_HORIZONTAL_SCROLL), page.url
    facts = page.evaluate(ACCESSIBILITY_FACTS)
    assert facts["h1"] == 1, page.url
    assert facts["unlabelledControls"] == [], page.url
    assert facts["unnamedButtons"] == [], page.url
    assert_accessible(page)


def test_new_person_applies_to_a_group_on_a_phone(phone_page: Page) -> None:
    page = phone_page
    with scopes_disabled():
        asi = Organisation.objects.get(slug="asi")
        MemberFactory.create(organisation=asi, name="Browser Test Smelting Ltd", country="NO")

    # The dashboard asks a visitor to sign in; from there they sign up.
    page.goto("/asi/me/")
    page.wait_for_url("**/accounts/login/?next=/asi/me/")
    page.goto("/accounts/signup/?next=/asi/me/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again):").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()

    page.wait_for_url(re.compile(r"/asi/me/$"))
    assert page.viewport_size == PHONE
    assert header(page).get_by_role("link", name="My applications").is_visible()
    check_page(page)
    page.get_by_role("link", name="Fill in your profile").click()

    page.wait_for_url("**/asi/me/profile/")
    check_page(page)
    page.get_by_label("Your name").fill("Noor Haddad")
    page.get_by_role("group", name="You take part as").get_by_label(
        "Representative of a Member"
    ).check()
    page.get_by_label("Member you represent").select_option(
        label="Browser Test Smelting Ltd (Norway)"
    )
    page.get_by_label("Country where you work").select_option(label="Norway")
    page.get_by_label("Your time zone").select_option("Europe/Oslo")
    page.get_by_label("Languages you work in").fill("Norwegian, English")
    page.get_by_label("Your expertise").fill("Smelter energy efficiency and scrap remelting.")
    page.get_by_label("My name may be published").check()
    page.get_by_role("button", name="Save your profile").click()

    page.wait_for_url(re.compile(r"/asi/me/$"))
    assert page.get_by_text("Your profile is saved.").is_visible()
    assert page.get_by_text(
        "You may apply: Representative of Browser Test Smelting Ltd, a current Member."
    ).is_visible()
    page.get_by_role("link", name="Apply to Circularity", exact=True).click()

    page.wait_for_url("**/asi/groups/circularity/apply/")
    check_page(page)
    focus = page.get_by_role("group", name="The focus areas your expertise covers")
    # Sending without a focus area is refused with the reason, and the statement is kept.
    page.get_by_label("Your statement").fill("Twenty years of remelting scrap at our smelter.")
    page.get_by_role("button", name="Send your application").click()
    assert page.get_by_text("Choose at least one focus area.").is_visible()
    check_page(page)
    assert page.get_by_label("Your statement").input_value().startswith("Twenty years")
    focus.get_by_role("checkbox").first.check()
    page.get_by_role("button", name="Send your application").click()

    page.wait_for_url(re.compile(r"/asi/me/$"))
    check_page(page)
    assert page.get_by_text("Your application to Circularity is received.").is_visible()
    card = page.get_by_role("listitem").filter(
        has=page.get_by_role("heading", name="Circularity", exact=True)
    )
    assert card.get_by_text("Received: awaiting selection").is_visible()
    assert card.get_by_role("link", name="Withdraw this application…").is_visible()
    with scopes_disabled():
        application = Application.objects.select_related("group").get(applicant__email=EMAIL)
        assert application.focus_areas.count() == 1
    assert application.group.slug == "circularity"

    # Signed out and back in, the header leads straight back to the application.
    header(page).get_by_role("button", name="Sign out").click()
    page.goto("/accounts/login/?next=/asi/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(re.compile(r"/asi/$"))
    header(page).get_by_role("link", name="My applications").click()
    page.wait_for_url(re.compile(r"/asi/me/$"))
    assert page.get_by_role("heading", name="Circularity", exact=True).is_visible()
