"""kombu's filesystem transport (the embedded default's broker), with each message written whole
before it can be taken.

kombu's own ``_put`` creates the message's file under its final name, then writes it; a worker
polling the folder at that moment moves the empty file away, fails to decode it, and stops
("Unrecoverable error: JSONDecodeError"). The embedded worker with its beat (``-B``) does both
in one process, a second apart. Here the message is written under a name the worker does not
take (its queue's ``.msg`` suffix with ``.part`` after it), then renamed to its final name in
one step, as the file system's rename is atomic. ``asi_wg.celery`` makes it the transport of
``filesystem://`` URLs.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue: Any, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = f"{final}.part"
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as error:
            raise ChannelError(f"Cannot add file {final!r} to directory") from error


class Transport(filesystem.Transport):
    Channel = Channel
