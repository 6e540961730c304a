"""Where reading materials live: a private folder outside MEDIA_ROOT with no public URL.

Materials are only ever served through ``meetings.views.material_download``, which checks that
the person may read them; the storage has no ``base_url``, so no template can link a file past
that check. Stored names are random: the original name is kept in the database for the
download's ``Content-Disposition``.
"""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class MaterialStorage(FileSystemStorage):
    def __init__(self) -> None:
        super().__init__(location=settings.PRIVATE_MEDIA_ROOT, base_url=None)

    def url(self, name: str | None) -> str:
        raise ValueError("Materials have no public address: link to material_download.")


def material_storage() -> MaterialStorage:
    return MaterialStorage()


def material_upload_to(instance: Any, filename: str) -> str:
    suffix = PurePosixPath(filename).suffix.lower()[:10]
    return f"materials/{instance.organisation.slug}/{uuid.uuid4().hex}{suffix}"
