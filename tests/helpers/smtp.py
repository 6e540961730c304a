"""A mail server on 127.0.0.1 for tests that talk real SMTP.

It starts ``silent``: it accepts each connection and never says a word (not even the greeting),
the way a mail server behind a broken firewall or stuck on a full disk behaves. Switched to
``answering``, it speaks just enough SMTP to take messages, and keeps each one it was given.
Connections accepted while silent stay silent. Given ``refuse = n``, an answering server turns
the next n messages away with a temporary error (451 to MAIL FROM), as a busy server does.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType


class SmtpServer:
    def __init__(self) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self.answering = False
        #: How many of the next messages to refuse with a temporary error; ``refused`` counts them.
        self.refuse = 0
        self.refused = 0
        #: Every message received, as the bytes of its DATA.
        self.messages: list[bytes] = []
        #: time.monotonic() of each accepted connection.
        self.connected_at: list[float] = []
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="smtp-test-server", daemon=True)

    def __enter__(self) -> SmtpServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        with self._lock:
            for conn in self._open:
                conn.close()
        self._listener.close()

    def received(self) -> list[bytes]:
        with self._lock:
            return list(self.messages)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _address = self._listener.accept()
            except TimeoutError:
                continue
            with self._lock:
                self._open.append(conn)
                self.connected_at.append(time.monotonic())
            if self.answering:
                threading.Thread(target=self._converse, args=(conn,), daemon=True).start()
            # Silent: the connection is held open, unanswered, until the server stops.

    def _refusing(self) -> bool:
        with self._lock:
            if self.refuse <= 0:
                return False
            self.refuse -= 1
            self.refused += 1
            return True

    def _converse(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        reader = conn.makefile("rb")
        try:
            conn.sendall(b"220 test.invalid ESMTP\r\n")
            while True:
                line = reader.readline()
                if not line:
                    return
                verb = line[:4].upper()
                if verb == b"EHLO":
                    conn.sendall(b"250-test.invalid\r\n250 8BITMIME\r\n")
                elif verb == b"DATA":
                    conn.sendall(b"354 go ahead\r\n")
                    lines = []
                    while (data := reader.readline()) not in {b".\r\n", b""}:
                        lines.append(data[1:] if data.startswith(b"..") else data)
                    with self._lock:
                        self.messages.append(b"".join(lines))
                    conn.sendall(b"250 queued\r\n")
                elif verb == b"MAIL" and self._refusing():
                    conn.sendall(b"451 4.3.0 try again later\r\n")
                elif verb == b"QUIT":
                    conn.sendall(b"221 bye\r\n")
                    return
                elif verb in {b"HELO", b"MAIL", b"RCPT", b"RSET", b"NOOP"}:
                    conn.sendall(b"250 OK\r\n")
                else:
                    conn.sendall(b"502 not implemented\r\n")
        except OSError:
            return
        finally:
            reader.close()
