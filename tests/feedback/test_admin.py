"""The feedback admin pages render for the secretariat (the round's add form builds its
foreign-key fields within the tenant's scope)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.feedback.conftest import Consultation

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "feedback/framework/",
        "feedback/draftdocument/",
        "feedback/criterion/",
        "feedback/feedbackround/",
        "feedback/feedbackround/add/",
        "feedback/answer/",
        "feedback/disposition/",
    ],
)
def test_the_feedback_admin_pages_render(
    secretariat_client: Client, consultation: Consultation, path: str
) -> None:
    assert secretariat_client.get(f"/alu/admin/{path}").status_code == 200


def test_a_rounds_change_page_shows_its_times_read_only(
    secretariat_client: Client, consultation: Consultation
) -> None:
    page = secretariat_client.get(
        f"/alu/admin/feedback/feedbackround/{consultation.round.pk}/change/"
    ).content.decode()
    assert 'name="closes_at"' not in page
    assert 'name="instructions"' in page
