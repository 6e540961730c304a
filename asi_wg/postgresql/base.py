"""Django's PostgreSQL backend, with a health check that costs no round trip when none is needed.

With ``CONN_HEALTH_CHECKS``, Django asks a kept connection ``SELECT 1`` before each request's
first query: one round trip more on every page. A connection the server has closed (a restart,
an idle timeout, a terminated backend) has something to read on its socket: the server's last
message, or the end of the stream. So a connection that is idle, with nothing to read, is taken
as it is, and one with something to read is asked ``SELECT 1`` as before. Either way a
connection that has gone is replaced before the request uses it.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        if connection.info.transaction_status != TransactionStatus.IDLE:
            return bool(super().is_usable())  # in a transaction, or lost in one: ask
        try:
            readable, _writable, _failed = select.select([connection.fileno()], [], [], 0)
        except (OSError, ValueError):
            return False
        return bool(super().is_usable()) if readable else True
