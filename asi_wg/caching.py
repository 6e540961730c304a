"""Caches of what every request reads and few requests write: the tenant, and each tenant's
public pages.

- ``organisation_by_slug``: the tenant of a URL, looked up once and kept until the
  organisation is saved or deleted.
- ``public_version``: a token per tenant that names the current state of its public data (its
  groups, who takes part). A page caches a fragment under a key that includes the token;
  ``public_version_bump`` replaces the token whenever that data changes, so the next request
  renders afresh. Fragments cached under an old token are never read again and expire.

The token is random, not a counter: a counter evicted from the cache would start again at a
value whose old fragments may still be cached. A write bumps the token at once and again when its
transaction commits, so that a fragment rendered from the old rows by a concurrent request
during the transaction is never read afterwards.

Only data that every visitor of the tenant may see goes under these keys: a fragment that shows
something of the person asking needs the person in its key too.

Both caches are on only where every process shares the cache (``settings.TENANT_CACHE``, on with
Redis): a write in the worker, or in another web process, must reach every reader.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.apps import apps
from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbSession
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from asi_wg.models import Organisation

logger = logging.getLogger(__name__)

# Fragments live a day at most: a bump makes them unreachable at once; this only frees memory.
FRAGMENT_TIMEOUT = 24 * 60 * 60
_ORGANISATION_TIMEOUT = 60 * 60


def _organisation_key(slug: str) -> str:
    return f"organisation:slug:{slug}"


def organisation_by_slug(slug: str, *, session: Any = None) -> Organisation | None:
    """The organisation at ``/<slug>/``, from the cache when it is there (no query).

    With ``session`` (the request's, not read yet), the session's data comes from the cache in
    the same round trip: a signed-in request reads both, and the tenant middleware comes first.
    """
    if not settings.TENANT_CACHE:
        return Organisation.objects.filter(slug=slug).first()
    key = _organisation_key(slug)
    session_key = _unread_session_key(session)
    if session_key is None:
        organisation = cache.get(key)
    else:
        found = cache.get_many([key, session_key])
        organisation = found.get(key)
        if found.get(session_key) is not None:
            # What ``cached_db.SessionStore.load()`` would find and return.
            session._session_cache = found[session_key]
    if organisation is None:
        organisation = Organisation.objects.filter(slug=slug).first()
        if organisation is not None:
            cache.set(key, organisation, _ORGANISATION_TIMEOUT)
    return organisation  # type: ignore[no-any-return]


def _unread_session_key(session: Any) -> str | None:
    """The cache key of a cached-database session kept in this cache, not read yet."""
    if (
        isinstance(session, CachedDbSession)
        and session.session_key is not None
        and getattr(session, "_cache", None) is caches[DEFAULT_CACHE_ALIAS]
        and not hasattr(session, "_session_cache")
    ):
        return session.cache_key
    return None


def public_version_key(organisation_id: int) -> str:
    return f"tenant-public-version:{organisation_id}"


def public_version(organisation_id: int) -> str:
    """The token of the tenant's public data now (one cache read)."""
    key = public_version_key(organisation_id)
    version = cache.get(key)
    if version is None:
        cache.add(key, uuid.uuid4().hex, None)
        version = cache.get(key)
    return str(version)


# What this process could not replace or delete (the cache was unreachable), tried again with
# its next call of ``replace_tokens``.
_unreplaced: set[str] = set()
_undeleted: set[str] = set()
_unreplaced_lock = threading.Lock()


def replace_tokens(keys: set[str], *, delete: Iterable[str] = ()) -> None:
    """New random values for the tokens ``keys``, and ``delete`` deleted. A cache that cannot be
    reached does not fail the write that has been (or is being) made: what it keeps is
    unreadable while it is down. The keys are tried again with this process's next call, which
    every write makes (``asi_wg.pagecache``), so a cached value does not outlive the outage by
    more than that."""
    with _unreplaced_lock:
        keys, gone = keys | _unreplaced, set(delete) | _undeleted
        _unreplaced.clear()
        _undeleted.clear()
    try:
        if len(keys) == 1:  # the usual case: a plain SET, not a pipeline's transaction
            cache.set(next(iter(keys)), uuid.uuid4().hex, None)
        elif keys:
            cache.set_many({key: uuid.uuid4().hex for key in keys}, None)
        if gone:
            cache.delete_many(sorted(gone))
    except Exception:
        logger.warning(
            "cache: %s not replaced, %s not deleted", sorted(keys), sorted(gone), exc_info=True
        )
        with _unreplaced_lock:
            _unreplaced.update(keys)
            _undeleted.update(gone)


def public_version_bump(organisation_id: int) -> None:
    """Make every cached public fragment of the tenant stale: now, and once more when the
    current transaction commits (see the module's docstring)."""

    if not settings.TENANT_CACHE:
        return

    def bump() -> None:
        replace_tokens({public_version_key(organisation_id)})

    bump()
    transaction.on_commit(bump, robust=True)


def public_cache_key(organisation_id: int, name: str, *parts: object) -> str:
    """A cache key for something made of the tenant's public data (a page fragment, a row, a
    list), valid until that data next changes."""
    suffix = ":".join(str(part) for part in parts)
    return f"tenant-public:{organisation_id}:{public_version(organisation_id)}:{name}:{suffix}"


T = TypeVar("T")


def public_cached(organisation_id: int, name: str, *parts: object, build: Callable[[], T]) -> T:
    """What ``build()`` makes of the tenant's public data, from the cache until that data
    changes (``None`` is not cached)."""
    if not settings.TENANT_CACHE:
        return build()
    key = public_cache_key(organisation_id, name, *parts)
    value = cache.get(key)
    if value is None:
        value = build()
        if value is not None:
            cache.set(key, value, FRAGMENT_TIMEOUT)
    return value  # type: ignore[no-any-return]


@functools.cache
def templates_digest(*names: str) -> str:
    """A digest of these templates' text, for the key of anything rendered from them and cached:
    a deployment that changes one renders afresh (once per process)."""
    from django.template.loader import get_template

    sources = "\0".join(get_template(name).template.source for name in names)  # type: ignore[attr-defined]
    return hashlib.sha256(sources.encode()).hexdigest()[:16]


def tenant_caches_clear() -> None:
    """Forget every tenant's cached row and public fragments (after bulk loads that send no
    signals, such as the demo data)."""
    for organisation_id, slug in Organisation.objects.values_list("pk", "slug"):
        cache.delete(_organisation_key(slug))
        public_version_bump(organisation_id)


# --- Invalidation -------------------------------------------------------------------------------


def _own_organisation(instance: Model) -> Iterable[int]:
    from asi_wg.tenancy import organisation_id_of  # tenancy imports this module

    return [organisation_id_of(instance)]


#: The tables of the models declared public data: a write to one in a tenant's scope bumps the
#: tenant's public version whatever wrote it (``asi_wg.pagecache`` watches every statement), so
#: that bulk writes need not remember to.
PUBLIC_TABLES: set[str] = set()


def public_data(
    *models: type[Model],
    organisations: Callable[[Any], Iterable[int]] = _own_organisation,
    skip: Callable[[Any, dict[str, Any]], bool] | None = None,
) -> None:
    """Declare ``models`` (or many-to-many ``through`` tables) part of the tenants' public data:
    saving or deleting one of their rows bumps the public version of ``organisations(row)``
    (by default the row's own tenant). ``skip(row, signal_kwargs)`` may say a save changed
    nothing public. Bulk writes send no signal: those made in a tenant's scope bump its version
    through ``PUBLIC_TABLES``; others bump themselves."""

    def changed(sender: Any, instance: Any, **kwargs: Any) -> None:
        if not settings.TENANT_CACHE or (skip is not None and skip(instance, kwargs)):
            return
        action = kwargs.get("action")  # m2m_changed: once the rows are written
        if action is not None and not action.startswith("post_"):
            return
        try:
            organisation_ids = set(organisations(instance))
        except ObjectDoesNotExist:  # a parent deleted in the same cascade bumps for itself
            return
        for organisation_id in organisation_ids:
            public_version_bump(organisation_id)

    for model in models:
        PUBLIC_TABLES.add(model._meta.db_table)
        uid = f"public-data-{model._meta.label}"
        if model._meta.auto_created:
            m2m_changed.connect(changed, sender=model, weak=False, dispatch_uid=uid)
        else:
            post_save.connect(changed, sender=model, weak=False, dispatch_uid=uid)
            post_delete.connect(changed, sender=model, weak=False, dispatch_uid=uid)


def _remember_old_slug(sender: Any, instance: Any, **kwargs: Any) -> None:
    if settings.TENANT_CACHE and isinstance(instance, Organisation) and instance.pk is not None:
        instance._old_slug = (  # type: ignore[attr-defined]
            Organisation.objects.filter(pk=instance.pk).values_list("slug", flat=True).first()
        )


def _forget_organisation(sender: Any, instance: Any, **kwargs: Any) -> None:
    if not isinstance(instance, Organisation):  # the settings proxy included
        return
    if not settings.TENANT_CACHE:
        return
    slugs = {instance.slug, getattr(instance, "_old_slug", None)} - {None}

    def forget() -> None:
        replace_tokens(set(), delete=[_organisation_key(slug) for slug in slugs if slug])

    forget()
    transaction.on_commit(forget, robust=True)
    public_version_bump(instance.pk)


def connect_signals() -> None:
    # For the organisation and its proxies: a save through the proxy (the secretariat's settings)
    # sends the proxy. Not for every model: a model no receiver listens to may be written
    # without the ORM's save (``asi_wg.compiled.insert``).
    for model in apps.get_models():
        if issubclass(model, Organisation):
            label = model._meta.label_lower
            pre_save.connect(
                _remember_old_slug, sender=model, dispatch_uid=f"organisation-cache-slug-{label}"
            )
            post_save.connect(
                _forget_organisation, sender=model, dispatch_uid=f"organisation-cache-save-{label}"
            )
            post_delete.connect(
                _forget_organisation,
                sender=model,
                dispatch_uid=f"organisation-cache-delete-{label}",
            )
