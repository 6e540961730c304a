"""Django's Redis cache, with one redis-py client per connection pool.

Django's ``RedisCacheClient`` makes a new ``redis.Redis`` object for every cache call, and each
one copies redis-py's table of some 160 response callbacks: about 0.09 ms a call here, and a
signed-in page makes four to eight calls (the session, the tenant, the page cache's entry and
tokens). A client shares its pool's connections and may be shared between threads (redis-py's
documentation says so), so one per pool is kept and reused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(  # type: ignore[attr-defined]
                connection_pool=pool
            )
        return client

    def set_many(self, data: Mapping[Any, Any], timeout: Any) -> None:
        if timeout is not None:
            super().set_many(data, timeout)
            return
        # Kept until replaced (the page tokens): one MSET, not a pipeline in a transaction.
        serialize = self._serializer.dumps  # type: ignore[attr-defined]
        self.get_client(None, write=True).mset({k: serialize(v) for k, v in data.items()})


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
