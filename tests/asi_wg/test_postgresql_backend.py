"""The PostgreSQL backend's health check (asi_wg/postgresql/base.py): a kept connection that is
idle and quiet is used without a round trip; one the server has closed is replaced before the
request's first query."""

from __future__ import annotations

import select

import psycopg
import pytest
from django.db import connection, transaction
from django.db.backends.postgresql import base as django_base

from asi_wg.postgresql import base as backend

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's backend"),
    pytest.mark.django_db(
        transaction=True
    ),  # a kept connection between requests: no test transaction
]


def _asked(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Each ``SELECT 1`` that Django's own check sends from now on, with its answer."""
    asked: list[bool] = []
    ask = django_base.DatabaseWrapper.is_usable

    def counting(self: django_base.DatabaseWrapper) -> bool:
        asked.append(ask(self))
        return asked[-1]

    monkeypatch.setattr(django_base.DatabaseWrapper, "is_usable", counting)
    return asked


def _next_request() -> None:
    """What Django does as a request begins: its first query checks the kept connection."""
    connection.health_check_done = False  # type: ignore[attr-defined]
    connection.close_if_health_check_failed()


def test_the_settings_choose_this_backend() -> None:
    assert connection.settings_dict["ENGINE"] == "asi_wg.postgresql"
    assert connection.settings_dict["CONN_HEALTH_CHECKS"]


def test_a_quiet_idle_connection_is_used_without_asking_the_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connection.ensure_connection()
    _next_request()  # checked now
    kept = connection.connection
    asked = _asked(monkeypatch)
    _next_request()
    assert asked == []
    assert connection.connection is kept
    with connection.cursor() as cursor:
        cursor.execute("SELECT 2")
        assert cursor.fetchone() == (2,)


def test_a_connection_quiet_for_longer_is_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    connection.ensure_connection()
    _next_request()
    connection._checked_at -= backend.QUIET_SECONDS + 1  # type: ignore[attr-defined]
    asked = _asked(monkeypatch)
    _next_request()
    assert asked == [True]
    _next_request()  # and then spared again
    assert asked == [True]


def test_a_connection_in_a_transaction_is_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        asked = _asked(monkeypatch)
        assert connection.is_usable()
    assert asked == [True]


def test_a_connection_the_server_closed_is_replaced_before_the_request_uses_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connection.ensure_connection()
    kept = connection.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    # The server's goodbye reaches the socket.
    assert select.select([kept.fileno()], [], [], 10)[0]
    asked = _asked(monkeypatch)
    _next_request()
    assert asked == [False]  # something to read: asked, and found gone
    with connection.cursor() as cursor:
        cursor.execute("SELECT 3")
        assert cursor.fetchone() == (3,)
    assert connection.connection is not kept
