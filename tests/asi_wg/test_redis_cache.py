"""The Redis cache keeps one client per connection pool (asi_wg.redis_cache), and a signed-in
page reads its tenant and its session in one round trip (asi_wg.caching)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbSession
from django.core.cache import cache
from django.test import Client

from asi_wg.models import Organisation, User

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="the cache is Redis only with it")


def test_one_client_serves_every_call_and_every_thread() -> None:
    client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
    assert cache._cache.get_client() is client  # type: ignore[attr-defined]

    read: dict[int, object] = {}

    def work(n: int) -> None:
        for i in range(50):
            cache.set(f"thread-{n}-{i}", (n, i))
        read[n] = [cache.get(f"thread-{n}-{i}") for i in range(50)]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert read == {n: [(n, i) for i in range(50)] for n in range(8)}


# --- A signed-in page: the tenant and the session in one round trip ---------------------------


def _commands(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """Each command the cache's client sends from now on, its name and arguments as text."""
    client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
    sent: list[tuple[str, ...]] = []
    execute = client.execute_command

    def recording(*args: Any, **options: Any) -> Any:
        sent.append(
            tuple(a.decode(errors="replace") if isinstance(a, bytes) else str(a) for a in args)
        )
        return execute(*args, **options)

    monkeypatch.setattr(client, "execute_command", recording)
    return sent


def _signed_in(user: User) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def test_a_signed_in_page_reads_its_tenant_and_session_in_one_round_trip(
    org: Organisation, secretariat: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser = _signed_in(secretariat)
    browser.get(f"/{org.slug}/")  # the tenant now in the cache
    sent = _commands(monkeypatch)
    response = browser.get(f"/{org.slug}/")
    assert response.status_code == 200
    assert response.wsgi_request.user == secretariat
    name, *keys = sent[0]
    session_key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    assert name == "MGET"
    assert any(key.endswith(f"organisation:slug:{org.slug}") for key in keys)
    assert any(key.endswith(session_key) for key in keys)
    # The session is not read again.
    assert not [c for c in sent[1:] if any(session_key in part for part in c)]


def test_a_session_gone_from_the_cache_is_read_from_the_database(
    org: Organisation, secretariat: User
) -> None:
    browser = _signed_in(secretariat)
    session_key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    cache.delete(CachedDbSession(session_key).cache_key)
    response = browser.get(f"/{org.slug}/")
    assert response.wsgi_request.user == secretariat


def test_a_made_up_session_is_nobodys(org: Organisation, secretariat: User) -> None:
    browser = _signed_in(secretariat)
    browser.cookies[settings.SESSION_COOKIE_NAME] = "x" * 32
    response = browser.get(f"/{org.slug}/")
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated


def test_page_tokens_kept_until_replaced_are_one_mset(monkeypatch: pytest.MonkeyPatch) -> None:
    sent = _commands(monkeypatch)
    cache.set_many({"token-a": "1", "token-b": "2"}, None)
    assert [c[0] for c in sent] == ["MSET"]
    assert cache.get_many(["token-a", "token-b"]) == {"token-a": "1", "token-b": "2"}
    assert cache._cache.get_client().ttl(cache.make_key("token-a")) == -1  # type: ignore[attr-defined]
    # With a timeout, each key expires: Django's pipeline.
    cache.set_many({"token-c": "3"}, 60)
    assert 0 < cache._cache.get_client().ttl(cache.make_key("token-c")) <= 60  # type: ignore[attr-defined]
