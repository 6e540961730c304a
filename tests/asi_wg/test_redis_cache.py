"""The Redis cache keeps one client per connection pool (asi_wg.redis_cache)."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.core.cache import cache

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
