from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import Client
from django_scopes import scope, scopes_disabled

from asi_wg.caching import organisation_by_slug
from asi_wg.models import Organisation, OrganisationRole, User
from groups import services
from tests.factories import OrganisationFactory, UserFactory


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    # allauth's rate limits live in the cache: each test starts with a clean slate.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def unscoped() -> Iterator[None]:
    with scopes_disabled():
        yield


def _cached(organisation: Organisation) -> Organisation:
    # As on a running site, where a tenant's row is read once, not on every request: a test's
    # query counts are the same whether or not a request came before.
    organisation_by_slug(organisation.slug)
    return organisation


@pytest.fixture
def org(db: None) -> Organisation:
    return _cached(
        OrganisationFactory.create(
            name="Aluminium Body", slug="alu", time_zone="Australia/Melbourne"
        )
    )


@pytest.fixture
def other_org(db: None) -> Organisation:
    return _cached(
        OrganisationFactory.create(name="Other Body", slug="other", time_zone="Europe/Berlin")
    )


@pytest.fixture
def in_org(org: Organisation) -> Iterator[Organisation]:
    with scope(organisation=org):
        yield org


def make_secretariat(organisation: Organisation, **kwargs: object) -> User:
    user = UserFactory.create(**kwargs)
    services.organisation_role_grant(
        organisation=organisation, user=user, role=OrganisationRole.SECRETARIAT, acting_user=None
    )
    return user


@pytest.fixture
def secretariat(org: Organisation) -> User:
    return make_secretariat(org, email="staff@alu.example")


@pytest.fixture
def other_secretariat(other_org: Organisation) -> User:
    return make_secretariat(other_org, email="staff@other.example")


@pytest.fixture
def secretariat_client(secretariat: User) -> Client:
    client = Client()
    client.force_login(secretariat)
    return client


@pytest.fixture
def other_secretariat_client(other_secretariat: User) -> Client:
    client = Client()
    client.force_login(other_secretariat)
    return client
