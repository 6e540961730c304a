"""An e-mail backend for the benchmark: each message is serialised as SMTP would send it, counted
and dropped (the locmem backend would keep 10,000 messages in memory and inflate the peak)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage


class CountingBackend(BaseEmailBackend):
    sent: ClassVar[int] = 0
    bytes: ClassVar[int] = 0

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            CountingBackend.bytes += len(message.message().as_bytes())
            CountingBackend.sent += 1
        return len(email_messages)
