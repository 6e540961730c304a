"""Tenancy: the first URL segment names the organisation, and everything else runs in its scope.

``TenantMiddleware`` resolves ``/<slug>/...`` to an ``Organisation``, puts it on
``request.organisation`` and wraps the whole response (view, templates, streaming excluded) in
``django_scopes.scope(organisation=...)``. Requests outside a tenant (sign-in, the platform admin,
/healthz) run with no scope, so any query on a tenant-owned model there raises ``ScopeError``.

The secretariat's admin lives at ``/<slug>/admin/``. Django's admin reverses its URLs without
arguments, so for those requests the middleware mounts the tenant admin URLconf under the
tenant's prefix (script prefix ``/<slug>/admin/``), exactly as if the admin were deployed there.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.core.signals import setting_changed
from django.db.models import Model
from django.dispatch import receiver
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import Resolver404, get_script_prefix, resolve, set_script_prefix
from django.utils.translation import gettext as _
from django_scopes import get_scope, scope

from asi_wg.caching import organisation_by_slug
from asi_wg.errors import OtherTenant
from asi_wg.models import Organisation

logger = logging.getLogger(__name__)

TENANT_KWARG = "organisation_slug"
TENANT_ADMIN_URL_NAME = "tenant-admin"


class TenantMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        slug, tenant_admin = _tenant_of(settings.ROOT_URLCONF, request.path_info)
        if slug is None:
            return self.get_response(request)

        organisation = organisation_by_slug(slug, session=getattr(request, "session", None))
        if organisation is None:
            raise Http404(_("There is no organisation at /%(slug)s/.") % {"slug": slug})
        request.organisation = organisation  # type: ignore[attr-defined]

        if tenant_admin:
            return self._serve_tenant_admin(request, organisation)
        with scope(organisation=organisation):
            return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: list[Any],
        view_kwargs: dict[str, Any],
    ) -> None:
        # Views get the organisation as request.organisation, not as a URL argument.
        view_kwargs.pop(TENANT_KWARG, None)

    def _serve_tenant_admin(self, request: HttpRequest, organisation: Organisation) -> HttpResponse:
        mount = f"/{organisation.slug}/admin"
        old_prefix = get_script_prefix()
        request.urlconf = settings.TENANT_ADMIN_URLCONF  # type: ignore[attr-defined]
        request.path_info = request.path_info[len(mount) :] or "/"
        set_script_prefix(old_prefix.rstrip("/") + mount + "/")
        try:
            with scope(organisation=organisation):
                return self.get_response(request)
        finally:
            set_script_prefix(old_prefix)


@functools.lru_cache(maxsize=1024)
def _tenant_of(urlconf: str, path: str) -> tuple[str | None, bool]:
    """The tenant slug that ``path`` names (None: not a tenant's address), and whether it is the
    tenant admin's. Kept for the paths most asked for: Django resolves the path again to find
    the view, and resolving an address of the later tenant apps cost a tenth of a millisecond
    each time. ``urlconf`` keys the answer to the URLconf it came from (tests change it)."""
    try:
        match = resolve(path, urlconf)
    except Resolver404:
        return None, False
    return match.kwargs.get(TENANT_KWARG), match.url_name == TENANT_ADMIN_URL_NAME


@receiver(setting_changed)
def _urls_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "ROOT_URLCONF":
        _tenant_of.cache_clear()


P = ParamSpec("P")
R = TypeVar("R")


def tenant_task(func: Callable[..., R]) -> Callable[..., R | None]:
    """Run a Celery task body inside its organisation's scope.

    The task receives ``organisation_id`` as its first keyword argument; the body receives the
    re-fetched ``organisation`` instead. A tenant deleted since the task was queued is logged and
    skipped, not retried.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, organisation_id: int, **kwargs: Any) -> R | None:
        organisation = Organisation.objects.filter(pk=organisation_id).first()
        if organisation is None:
            logger.info(
                "%s: organisation %s is gone; nothing to do", func.__name__, organisation_id
            )
            return None
        with scope(organisation=organisation):
            return func(*args, organisation=organisation, **kwargs)

    return wrapper


# Tenant-owned models without their own organisation column belong to their parent's tenant.
TENANT_PARENTS = ("group", "from_group", "extension")


def organisation_id_of(obj: Model) -> int:
    """The id of the organisation ``obj`` belongs to, through its parent if it has no column."""
    if isinstance(obj, Organisation):
        return obj.pk
    organisation_id = getattr(obj, "organisation_id", None)
    if organisation_id is not None:
        return int(organisation_id)
    for parent in TENANT_PARENTS:
        if getattr(obj, f"{parent}_id", None) is not None:
            return organisation_id_of(getattr(obj, parent))
    raise TypeError(f"{obj._meta.label} belongs to no organisation")


def active_organisation_id() -> int | None:
    """The organisation whose scope is active (a request under ``/<slug>/``, a tenant task), or
    None outside a scope or with scopes disabled."""
    current = get_scope()
    value = current.get("organisation") if current.get("_enabled", True) else None
    if value is None or isinstance(value, list | tuple):
        return None
    return int(getattr(value, "pk", value))


def same_organisation(organisation: Organisation | int, *objects: Model | None) -> None:
    """Refuse with ``OtherTenant`` unless each object (``None`` is skipped) belongs to
    ``organisation``, and ``organisation`` is the one whose scope is active, if one is.

    Services call it before they write anything: a related object fetched outside the tenant's
    scope (by id from a form, a task, the shell) cannot tie rows of two tenants together.
    """
    expected = organisation.pk if isinstance(organisation, Organisation) else organisation
    given = [obj for obj in objects if obj is not None]
    active = active_organisation_id()
    if active is not None and active != expected:
        raise _other_tenant(given[0] if given else None)
    for obj in given:
        if organisation_id_of(obj) != expected:
            raise _other_tenant(obj)


def _other_tenant(obj: Model | None) -> OtherTenant:
    if obj is None:
        return OtherTenant(_("This is not the organisation you are working in."))
    return OtherTenant(
        _("This %(thing)s belongs to another organisation.") % {"thing": obj._meta.verbose_name}
    )
