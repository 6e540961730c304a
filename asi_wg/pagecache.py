"""Each person's pages, served from the cache until something they show may have changed.

A signed-in page costs a few milliseconds to find out who is asking and what they may do, and
then tens of milliseconds to read and render what it shows. When the same person asks for the
same page again and nothing in the database has changed since, the second rendering is wasted:
``page_cached`` keeps the first and serves it, after the view's own sign-in and permission checks
have run again.

What "nothing has changed" means is decided from the SQL, not from a list kept by hand. Every
database connection runs ``_watch`` on each statement: an INSERT, UPDATE or DELETE replaces a
random token in the cache when its transaction commits, and for most tables at once as well
(``caching`` explains why twice; ``_changed`` why not for the hot tables). Which token
depends on the table and on the tenant whose scope the write runs in:

- most tables: the tenant's token, or the global token when no tenant is in scope (a platform
  admin, a command, a migration);
- tables that every tenant's pages show (the accounts, the organisations, permissions): the
  global token, whatever the scope;
- ``HOT_TABLES``, written many times a minute (answers as people type, the audit log): a token
  of their own, per tenant. Only the pages that read them depend on them: while a page
  renders, the SELECTs it runs are watched for these tables' names;
- ``UNSHOWN_TABLES`` (sessions, e-mails being sent, the jobs' heartbeats), written thousands of
  times by a sign-in wave or a reminder job and shown by no cached page: none. A page whose
  rendering reads one of them after all is not kept.

A write to a table of the tenants' public data (``caching.PUBLIC_TABLES``) in a tenant's scope
also bumps that tenant's public version, so the anonymous pages' fragments follow bulk writes too.

A cached page carries the tokens it was rendered under, read before its first query, and is
served only while every one of them is unchanged. So a write made anywhere (a service, a bulk
``update()``, a job in the worker, the shell) makes every page that might show it render afresh
on its next request, and nothing needs to remember to invalidate. The key also holds the
person, their account's fields, the path, the language, the time zone, the CSRF secret (the page
holds forms with a token for it), the session's contents (a form may restore what was typed
while signed out), the htmx headers and a digest of the code and templates.

What the database does not say is time: a page that counts down to a deadline or shows a round
as open until it closes is kept ``PAGE_CACHE_SECONDS`` at most (60 by default; 0 turns the cache
off). Pages with messages to show are neither served from nor put in the cache. Pages are kept
in gzip (``asi_wg.compression``) and sent as they are kept to the browsers that accept it.

Each process counts, per tenant, the requests it served from the cache (``hit``), rendered and
kept (``miss``) and rendered without keeping (``skip``), and adds them to counters in the cache
every ``TALLY_EVERY`` such requests or after ``TALLY_SECONDS``, whichever comes first:
``manage.py page_cache_stats`` shows what the cache spares in real traffic.

The cache is on only where every process shares it (``settings.TENANT_CACHE``).
"""

from __future__ import annotations

import contextvars
import functools
import gzip
import hashlib
import logging
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language
from django_scopes import get_scope

from asi_wg.caching import PUBLIC_TABLES, public_version_key, replace_tokens
from asi_wg.compression import MINIMUM, accepts_gzip, compress, compressible, send_compressed

logger = logging.getLogger(__name__)

#: Written many times a minute, read by few pages: each has a token of its own per tenant.
HOT_TABLES = frozenset(
    {
        "feedback_answer",
        "feedback_answer_frameworks",
        "feedback_answer_objectives",
        "asi_wg_auditentry",
        # A PDF build records its progress about once a second.
        "feedback_summaryfile",
    }
)
#: Shown on every tenant's pages (a person's name, an organisation, a permission): a write
#: changes the global token even when it runs in one tenant's scope.
GLOBAL_TABLES = frozenset(
    {
        "asi_wg_user",
        "asi_wg_user_groups",
        "asi_wg_user_user_permissions",
        "asi_wg_organisation",
        "asi_wg_organisationuserobjectpermission",
        "asi_wg_organisationgroupobjectpermission",
        "auth_group",
        "auth_group_permissions",
        "auth_permission",
        "django_content_type",
        "account_emailaddress",
        "guardian_userobjectpermission",
        "guardian_groupobjectpermission",
    }
)
#: Read by no cached page: a write changes no token, and a page that reads one is not kept.
UNSHOWN_TABLES = frozenset({"django_session", "membership_sentnotification", "asi_wg_jobheartbeat"})
_WATCHED_READS = HOT_TABLES | UNSHOWN_TABLES

_GLOBAL = "page-token:global"
_WRITE = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
# Statements that never change a row.
_READ_ONLY = ("SELECT", "SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT", "SET ", "SHOW")
# The parameters are never in the text, so a keyword in it is the statement's own.
_WRITE_KEYWORD = re.compile(r"\b(?:INSERT|UPDATE|DELETE|MERGE|TRUNCATE)\b", re.IGNORECASE)
# Signing in saves only this column of the account; no page shows it.
_LAST_LOGIN_ONLY = re.compile(r'\s*UPDATE\s+"asi_wg_user"\s+SET\s+"last_login"\s*=\s*%s\s+WHERE')

# The hot tables read by the page being rendered, or None outside a rendering.
_reading: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("reading", default=None)


def enabled() -> bool:
    return bool(settings.TENANT_CACHE and settings.PAGE_CACHE_SECONDS > 0)


def _tenant_token(organisation_id: int) -> str:
    return f"page-token:tenant:{organisation_id}"


_HOT_PREFIX = "page-token:hot:"


def _hot_tokens(table: str, organisation_id: int | None) -> list[str]:
    """The tokens a page that reads ``table`` depends on: its tenant's, and the one that writes
    outside any tenant change."""
    keys = [f"{_HOT_PREFIX}*:{table}"]
    if organisation_id is not None:
        keys.append(f"{_HOT_PREFIX}{organisation_id}:{table}")
    return keys


# --- Writes -------------------------------------------------------------------------------------


def _scope_organisation_id() -> int | None:
    current = get_scope()
    organisation = current.get("organisation") if current.get("_enabled", False) else None
    return getattr(organisation, "pk", None)


def _tokens_for_write(sql: str) -> tuple[str, ...]:
    """The tokens a write statement changes."""
    match = _WRITE.match(sql)
    if match is None:
        # A statement that is neither a plain read nor a plain write (TRUNCATE, a CTE, COPY,
        # DDL): it may change anything.
        return (_GLOBAL,)
    table = match.group(1)
    if table in UNSHOWN_TABLES or (table == "asi_wg_user" and _LAST_LOGIN_ONLY.match(sql)):
        return ()
    if table in GLOBAL_TABLES:
        return (_GLOBAL,)
    organisation_id = _scope_organisation_id()
    if table in HOT_TABLES:
        return (_hot_tokens(table, organisation_id)[-1],)
    if organisation_id is None:
        return (_GLOBAL,)
    if table in PUBLIC_TABLES:
        return (_tenant_token(organisation_id), public_version_key(organisation_id))
    return (_tenant_token(organisation_id),)


def _never_commits(connection: BaseDatabaseWrapper) -> bool:
    """Whether the transaction is a test's, which is rolled back: its on-commit callbacks never
    run (Django marks the atomic block it opens for a test, and so do we)."""
    blocks = connection.atomic_blocks
    return bool(blocks) and bool(getattr(blocks[0], "_from_testcase", False))


def _changed(connection: BaseDatabaseWrapper, key: str) -> None:
    """``key``'s data changed: a new token when the transaction commits, and one now as well
    unless it is a hot table's.

    The new token now is for the writer itself: a page or fragment it reads later in the same
    transaction is not taken from before its write. No page reads the hot tables in a
    transaction that writes them (an autosave answers with a fragment of its own), so theirs is
    left to the commit: one cache round trip fewer for every answer saved and every audit entry.
    Either way, the token a concurrent reader kept from before the commit is stale after it."""
    hot = key.startswith(_HOT_PREFIX)
    if not connection.in_atomic_block or not hot or _never_commits(connection):
        replace_tokens({key})
    if not connection.in_atomic_block:
        return  # written and committed: the token above is the one after the commit
    state = connection.__dict__.setdefault("_page_tokens", {"keys": set(), "flush": None})
    flush = state["flush"]
    if flush is None or not any(entry[1] is flush for entry in connection.run_on_commit):
        # First write of this transaction (a rolled-back one dropped its callback).

        def flush() -> None:
            keys, state["keys"], state["flush"] = state["keys"], set(), None
            replace_tokens(keys)

        state["keys"], state["flush"] = set(), flush
        connection.on_commit(flush, robust=True)  # never in the way of the jobs it queues
    state["keys"].add(key)


def _reads_only(sql: str) -> bool:
    # A union's parts are in parentheses on PostgreSQL: "(SELECT ...) UNION (SELECT ...)".
    head = sql.lstrip(" \t\n(")[:9].upper()
    if head.startswith(_READ_ONLY) or head.startswith("EXPLAIN"):
        return True
    return head.startswith("WITH") and _WRITE_KEYWORD.search(sql) is None


def _watch(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict) -> Any:
    if _reads_only(sql):
        reading = _reading.get()
        if reading is not None:
            reading.update(table for table in _WATCHED_READS if f'"{table}"' in sql)
        return execute(sql, params, many, context)
    result = execute(sql, params, many, context)
    for key in _tokens_for_write(sql):
        _changed(context["connection"], key)
    return result


def _install(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    # Also where this process serves no page from the cache (PAGE_CACHE_SECONDS=0): its writes
    # must still renew the pages other processes keep.
    if settings.TENANT_CACHE and _watch not in connection.execute_wrappers:
        connection.execute_wrappers.append(_watch)


def connect_signals() -> None:
    connection_created.connect(_install, dispatch_uid="page-cache-watch")


# --- Reads --------------------------------------------------------------------------------------


def _current(keys: list[str]) -> dict[str, str]:
    """The tokens now, each made when missing (evicted, or never written)."""
    found = cache.get_many(keys)
    missing = [key for key in keys if key not in found]
    if missing:
        for key in missing:
            cache.add(key, uuid.uuid4().hex, None)
        found.update(cache.get_many(missing))
    return found  # type: ignore[no-any-return]


@functools.cache
def _code_digest() -> str:
    """The project's own apps (their Python, templates and translations), its templates and
    locale folders, and the static files' manifest: a deployment that changes any of them renders
    every page afresh."""
    from django.apps import apps

    root = Path(settings.BASE_DIR).resolve()
    folders = [root / "templates", *(Path(p) for p in settings.LOCALE_PATHS)]
    for app in apps.get_app_configs():
        folder = Path(app.path).resolve()
        if folder.is_relative_to(root) and "site-packages" not in folder.parts:
            folders.append(folder)
    digest = hashlib.sha256()
    for folder in sorted(set(folders)):
        for path in sorted(folder.rglob("*")):
            if path.suffix in (".py", ".html", ".txt", ".mo") and path.is_file():
                name = path.relative_to(root) if path.is_relative_to(root) else path
                digest.update(str(name).encode())
                digest.update(path.read_bytes())
    # The static files' hashed names, which the pages link to.
    manifest = Path(settings.STATIC_ROOT or root / "staticfiles") / "staticfiles.json"
    if manifest.is_file():
        digest.update(manifest.read_bytes())
    return digest.hexdigest()[:16]


def _entry_key(request: HttpRequest) -> str:
    user: Any = request.user  # signed in (``_may_use_cache``)
    account = [
        getattr(user, field.attname)
        for field in user._meta.concrete_fields
        if field.name not in ("last_login", "password")
    ]
    organisation: Any = request.organisation  # type: ignore[attr-defined]
    htmx = sorted((k, v) for k, v in request.headers.items() if k.lower().startswith("hx-"))
    parts = (
        request.get_full_path(),
        account,
        # Read before the tokens (by the tenant middleware and the access checks): in the key,
        # so that a change that commits in between is not kept under the new tokens.
        [getattr(organisation, field.attname) for field in organisation._meta.concrete_fields],
        sorted(request.__dict__.get("_roles", {}).items(), key=repr),
        get_language(),
        timezone.get_current_timezone_name(),
        request.META.get("CSRF_COOKIE", ""),
        sorted(request.session.items()),
        htmx,
        _code_digest(),
    )
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()
    return f"page:{request.organisation.pk}:{user.pk}:{digest}"  # type: ignore[attr-defined]


def _messages_waiting(request: HttpRequest) -> bool:
    storage = getattr(request, "_messages", None)
    return storage is not None and len(storage) > 0


def _may_use_cache(request: HttpRequest) -> bool:
    return (
        enabled()
        and request.method == "GET"
        and getattr(request, "organisation", None) is not None
        and request.user.is_authenticated
        and not _messages_waiting(request)
    )


@contextmanager
def _watching_reads() -> Iterator[set[str]]:
    reading: set[str] = set()
    token = _reading.set(reading)
    try:
        yield reading
    finally:
        _reading.reset(token)


# --- Counting -----------------------------------------------------------------------------------

OUTCOMES = ("hit", "miss", "skip")
#: Requests a process counts before adding them to the shared counters (one round trip each).
TALLY_EVERY = 100
#: ... or after this many seconds, so that a quiet site's counts show too.
TALLY_SECONDS = 10.0
_tally_since = time.monotonic()
_tally: Counter[tuple[int, str]] = Counter()
_tally_lock = threading.Lock()


def tally_key(organisation_id: int, outcome: str) -> str:
    return f"page-cache-count:{organisation_id}:{outcome}"


def _count(organisation_id: int, outcome: str) -> None:
    global _tally_since
    with _tally_lock:
        _tally[organisation_id, outcome] += 1
        now = time.monotonic()
        if _tally.total() < TALLY_EVERY and now - _tally_since < TALLY_SECONDS:
            return
        counted = dict(_tally)
        _tally.clear()
        _tally_since = now
    tally_flush(counted)


def tally_flush(counted: dict[tuple[int, str], int] | None = None) -> None:
    """Add counts (by default, this process's since its last flush) to the shared counters."""
    if counted is None:
        with _tally_lock:
            counted = dict(_tally)
            _tally.clear()
    for (organisation_id, outcome), n in counted.items():
        key = tally_key(organisation_id, outcome)
        try:
            if not cache.add(key, n, None):
                cache.incr(key, n)
        except ValueError:  # reset or evicted between the two calls
            cache.add(key, n, None)
        except Exception:  # a count is not worth a failed page
            logger.warning("page cache: counts not added", exc_info=True)


def page_cached(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Serve a signed-in person's GET of ``view`` from the cache while nothing it shows has
    changed (see the module's docstring). Put it under the view's access checks: they run on
    every request, cached or not."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not _may_use_cache(request):
            return view(request, *args, **kwargs)
        key = _entry_key(request)
        now = timezone.now().timestamp()
        entry = cache.get(key)
        if entry is not None:
            tokens, stored_at, headers, content, compressed = entry
            if 0 <= now - stored_at < settings.PAGE_CACHE_SECONDS and (
                cache.get_many(list(tokens)) == tokens
            ):
                send_gzip = compressed and accepts_gzip(request)
                if compressed and not send_gzip:
                    content = gzip.decompress(content)
                response = HttpResponse(content, headers=headers)
                if send_gzip:
                    send_compressed(response, content)
                elif compressed:
                    patch_vary_headers(response, ("Accept-Encoding",))
                response["X-Page-Cache"] = "hit"
                _count(request.organisation.pk, "hit")  # type: ignore[attr-defined]
                return response

        had_csrf_secret = "CSRF_COOKIE" in request.META
        organisation_id = request.organisation.pk  # type: ignore[attr-defined]
        hot = {table: _hot_tokens(table, organisation_id) for table in sorted(HOT_TABLES)}
        before = _current(
            [_GLOBAL, _tenant_token(organisation_id), *(k for keys in hot.values() for k in keys)]
        )
        with _watching_reads() as read:
            response = view(request, *args, **kwargs)
            render = getattr(response, "render", None)
            if render is not None and not response.is_rendered:  # type: ignore[attr-defined]
                render()
        if (
            response.status_code == 200
            and not response.streaming
            # The CSRF cookie, renewed by a view that puts a token in the page, may be left out:
            # the key holds its value. A page that made the browser's first secret is not kept:
            # served again, it would never give the browser that cookie.
            and set(response.cookies) <= {settings.CSRF_COOKIE_NAME}
            and (had_csrf_secret or "CSRF_COOKIE" not in request.META)
            and not request.session.modified
            and not _messages_waiting(request)
            and not read & UNSHOWN_TABLES
        ):
            depends = [_GLOBAL, _tenant_token(organisation_id)]
            depends += [k for table in sorted(read) for k in hot[table]]
            tokens = {k: before[k] for k in depends}
            # Kept in gzip (a tenth of the size to store and to send), and sent so at once.
            content, compressed = response.content, False
            if compressible(response) and len(content) >= MINIMUM:
                content, compressed = compress(content), True
            entry = (tokens, now, dict(response.items()), content, compressed)
            cache.set(key, entry, settings.PAGE_CACHE_SECONDS)
            if compressed and accepts_gzip(request):
                send_compressed(response, content)
            _count(organisation_id, "miss")
        else:
            _count(organisation_id, "skip")
        return response

    return wrapped
