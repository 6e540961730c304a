"""Django's PostgreSQL backend, with a health check that costs no round trip when none is needed.

With ``CONN_HEALTH_CHECKS``, Django asks a kept connection ``SELECT 1`` before each request's
first query: one round trip more on every page. A connection the server has closed (a restart,
an idle timeout, a terminated backend) has something to read on its socket: the server's last
message, or the end of the stream. So a connection checked a moment ago (``QUIET_SECONDS``),
idle, with nothing to read, is taken as it is. Any other is asked ``SELECT 1`` as before: one
with something to read, one in a transaction, and one that has been quiet for longer, which a
peer that vanished without a word (a crashed host, a failover) may have left behind.
"""

from __future__ import annotations

import select
import time

import psycopg
from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus

#: Back-to-back requests are spared the round trip; a connection quiet for longer is asked.
QUIET_SECONDS = 5.0


class DatabaseWrapper(base.DatabaseWrapper):
    _checked_at = float("-inf")

    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        now = time.monotonic()
        if (
            now - self._checked_at > QUIET_SECONDS
            or connection.info.transaction_status != TransactionStatus.IDLE
            or self._has_something_to_read(connection)
        ):
            usable = bool(super().is_usable())
        else:
            usable = True
        if usable:
            self._checked_at = now
        return usable

    @staticmethod
    def _has_something_to_read(connection: psycopg.Connection) -> bool:
        try:
            poller = select.poll()  # not select(): descriptors above 1024
            poller.register(connection.fileno(), select.POLLIN)
            return bool(poller.poll(0))
        except (OSError, ValueError, psycopg.Error):
            return True  # cannot tell: ask
