"""Loads the groups part of the demo: both tenants, their standards, objectives, groups, focus
areas, linkages and Phase 1. Idempotent: rows are matched on their natural keys."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_scopes import scope

from asi_wg.demo import Demo
from asi_wg.models import Organisation
from groups import demo_data, services
from groups.models import FocusArea, GroupLinkage, Phase, RevisionObjective, Standard, WorkingGroup


def _organisation(data: dict[str, Any]) -> Organisation:
    organisation, _created = Organisation.objects.get_or_create(
        slug=data["slug"], defaults={k: v for k, v in data.items() if k != "slug"}
    )
    return organisation


def _focus_areas(group: WorkingGroup, items: list[Any]) -> None:
    for position, item in enumerate(items, start=1):
        title, children = (item, []) if isinstance(item, str) else item
        area, _created = FocusArea.objects.get_or_create(
            group=group, parent=None, title=title, defaults={"position": position}
        )
        for child_position, child in enumerate(children, start=1):
            FocusArea.objects.get_or_create(
                group=group, parent=area, title=child, defaults={"position": child_position}
            )


@transaction.atomic
def load_tenant(
    *,
    organisation_data: dict[str, Any],
    standards: list[tuple[str, str, str]],
    objectives: list[tuple[str, str]],
    groups: list[dict[str, Any]],
    linkages: list[tuple[str, str, str]],
    phase: dict[str, Any],
) -> Organisation:
    organisation = _organisation(organisation_data)
    with scope(organisation=organisation):
        for position, (name, version, description) in enumerate(standards, start=1):
            Standard.objects.get_or_create(
                organisation=organisation,
                name=name,
                version=version,
                defaults={"description": description, "position": position},
            )
        for number, (title, description) in enumerate(objectives, start=1):
            RevisionObjective.objects.get_or_create(
                organisation=organisation,
                number=number,
                defaults={"title": title, "description": description},
            )
        by_slug: dict[str, WorkingGroup] = {}
        for data in groups:
            group, _created = WorkingGroup.objects.get_or_create(
                organisation=organisation,
                slug=data["slug"],
                defaults={
                    "number": data["number"],
                    "name": data["name"],
                    "theme": data["theme"],
                    "summary": data["summary"],
                    "scope": data["scope"],
                },
            )
            by_slug[group.slug] = group
            for name, version in data["standards"]:
                group.standards.add(
                    Standard.objects.get(organisation=organisation, name=name, version=version)
                )
            _focus_areas(group, data["focus_areas"])
            Phase.objects.get_or_create(group=group, number=phase["number"], defaults=phase)
            for number, name, slug in data.get("subgroups", []):
                WorkingGroup.objects.get_or_create(
                    organisation=organisation,
                    slug=slug,
                    defaults={
                        "number": number,
                        "name": name,
                        "parent": group,
                        "theme": data["theme"],
                        "summary": f"A subgroup of {group.name}.",
                        "seat_cap": 10,
                    },
                )
        for from_slug, to_slug, note in linkages:
            GroupLinkage.objects.get_or_create(
                from_group=by_slug[from_slug], to_group=by_slug[to_slug], defaults={"note": note}
            )
        services.phase_status_refresh(
            organisation=organisation,
            today=timezone.localdate(timezone=zoneinfo.ZoneInfo(organisation.time_zone)),
        )
    return organisation


def load(demo_data_so_far: Demo) -> None:
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(demo_data.ASI["time_zone"]))
    asi = load_tenant(
        organisation_data=demo_data.ASI,
        standards=demo_data.ASI_STANDARDS,
        objectives=demo_data.ASI_OBJECTIVES,
        groups=demo_data.ASI_GROUPS,
        linkages=demo_data.ASI_LINKAGES,
        phase=demo_data.asi_phase_1(today),
    )
    second = load_tenant(
        organisation_data=demo_data.DEMO,
        standards=demo_data.DEMO_STANDARDS,
        objectives=demo_data.DEMO_OBJECTIVES,
        groups=demo_data.DEMO_GROUPS,
        linkages=demo_data.DEMO_LINKAGES,
        phase=demo_data.DEMO_PHASE_1,
    )
    demo_data_so_far.organisations.update(asi=asi, demo=second)
