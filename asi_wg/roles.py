"""The roles of the person making a request, asked once per object and request.

A role is a guardian object permission on the organisation or on a working group. guardian's
own check (``user.has_perm(perm, obj)``) builds a new checker each time and costs two queries
(the person's permissions, then those of their groups); a page, its navigation and its selectors
ask several times. ``has_role`` answers the same question with one query per object, kept on the
request for the rest of it.

Every signed-in page asks at least once (the navigation shows the secretariat's links to its
staff), so the query is written out once per model rather than built by the ORM on each request:
compiling the union cost a millisecond, a sixth of the signed-in home page. Nothing is cached
across requests, so a role taken away is gone on the next request.
"""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connections, router
from django.db.models import Model
from django.http import HttpRequest
from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model


@functools.cache
def _codenames_sql(model: type[Model]) -> str | None:
    """The union of ``_codenames`` in SQL, for a model with guardian's direct foreign-key
    permission tables (``None`` for the generic ones, which the ORM handles)."""
    # guardian reads the content type, which a class gives as well as an instance.
    direct = get_user_obj_perms_model(model)  # type: ignore[arg-type]
    through_groups = get_group_obj_perms_model(model)  # type: ignore[arg-type]
    tables = []
    for table in (direct, through_groups):
        target = getattr(table._meta.get_field("content_object"), "column", None)
        if target is None:  # guardian's generic table: a content type and a text key
            return None
        tables.append((table._meta.db_table, target))
    (direct_table, direct_target), (group_table, group_target) = tables
    memberships = get_user_model().groups.through._meta.db_table
    permissions = Permission._meta.db_table
    quote = connections[router.db_for_read(direct)].ops.quote_name
    # Names from the models, quoted; the values are parameters.
    return (
        f"SELECT p.codename FROM {quote(direct_table)} o"  # noqa: S608
        f" JOIN {quote(permissions)} p ON p.id = o.permission_id"
        f" WHERE o.{quote(direct_target)} = %s AND o.user_id = %s"
        f" UNION SELECT p.codename FROM {quote(group_table)} o"
        f" JOIN {quote(permissions)} p ON p.id = o.permission_id"
        f" JOIN {quote(memberships)} m ON m.group_id = o.group_id"
        f" WHERE o.{quote(group_target)} = %s AND m.user_id = %s"
    )


def _codenames(user: Any, obj: Model) -> frozenset[str]:
    """The permissions ``user`` holds on ``obj``, directly or through their groups (one query)."""
    sql = _codenames_sql(type(obj))
    if sql is not None:
        with connections[router.db_for_read(type(obj))].cursor() as cursor:
            cursor.execute(sql, [obj.pk, user.pk, obj.pk, user.pk])
            return frozenset(row[0] for row in cursor.fetchall())
    direct = get_user_obj_perms_model(obj).objects.filter(  # type: ignore[attr-defined]
        user=user, content_object=obj
    )
    through_groups = get_group_obj_perms_model(obj).objects.filter(  # type: ignore[attr-defined]
        group__user=user, content_object=obj
    )
    union = direct.values_list("permission__codename", flat=True).union(
        through_groups.values_list("permission__codename", flat=True)
    )
    return frozenset(union)


def has_role(request: HttpRequest, codename: str, obj: Model) -> bool:
    """Whether the signed-in person holds ``codename`` on ``obj``: guardian's answer (an inactive
    account holds nothing, an active superuser everything), one query per object and request."""
    user = request.user
    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    memo: dict[tuple[Any, str, Any], frozenset[str]] = request.__dict__.setdefault("_roles", {})
    key = (user.pk, obj._meta.label, obj.pk)  # signing in changes the person mid-request
    if key not in memo:
        memo[key] = _codenames(user, obj)
    return codename in memo[key]
