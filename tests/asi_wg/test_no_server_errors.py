"""Crafted requests get a clear 4xx, never a 500: whatever a visitor or a signed-in person sends."""

from __future__ import annotations

import pytest
from django.test import Client

from asi_wg.models import Organisation
from tests.factories import PhaseFactory, WorkingGroupFactory

pytestmark = pytest.mark.django_db

PATHS = [
    "/%ff/",
    "/alu/%ff/",
    "/alu/groups/%ff%fe/",
    "/alu/groups/circularity/extensions/abc/",
    "/alu/groups/circularity/extensions/99999999/",
    "/alu/groups/nope/extensions/1/",
    "/alu/?q=%00&page=-1",
    "/alu/admin/groups/workinggroup/abc/change/",
    "/alu/admin/groups/workinggroup/99999999/change/",
    "/alu/admin/groups/workinggroup/?o=99&p=abc&q=%00",
    "/alu/admin/groups/phase/99999999/extend/",
    "/alu/admin/groups/phaseextension/99999999/decide/",
    "/alu/admin/groups/nomodel/",
    "/alu/admin/autocomplete/?app_label=groups&model_name=nope&field_name=x",
    "/alu/admin/autocomplete/?app_label=groups&model_name=phase&field_name=nope",
    "/alu/admin/autocomplete/",
    "/alu/admin/groups/workinggroup/process_import/",
    "/admin/groups/workinggroup/",
    "/accounts/password/reset/key/bogus-key/",
    "/accounts/confirm-email/bogus/",
]


@pytest.fixture
def site(org: Organisation) -> None:
    group = WorkingGroupFactory.create(organisation=org, slug="circularity")
    PhaseFactory.create(group=group)


@pytest.mark.parametrize("who", ["anonymous", "secretariat", "other_secretariat"])
def test_crafted_requests_never_cause_a_server_error(
    site: None, who: str, request: pytest.FixtureRequest
) -> None:
    client = Client(raise_request_exception=False)
    if who != "anonymous":
        client = request.getfixturevalue(f"{who}_client")
        client.raise_request_exception = False
    for path in PATHS:
        for method in ("get", "post"):
            response = getattr(client, method)(path, {"answer": "x", "import_file_name": "../x"})
            assert response.status_code < 500, (who, method, path, response.status_code)


def test_healthz_refuses_post(client: Client) -> None:
    assert client.post("/healthz").status_code == 405
