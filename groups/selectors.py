"""Reads of groups for the public pages: already scoped by the tenant middleware."""

from __future__ import annotations

from collections import Counter
from functools import cached_property
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from guardian.shortcuts import get_users_with_perms

from asi_wg.caching import public_cached
from asi_wg.models import Organisation, User
from asi_wg.roles import has_role
from groups.models import (
    ExtensionAnswer,
    FocusArea,
    GroupLinkage,
    GroupRole,
    Phase,
    PhaseExtension,
    RevisionObjective,
    Standard,
    WorkingGroup,
)


def _focus_area_trees(group_ids: list[int]) -> dict[int, list[FocusArea]]:
    """Each group's top-level focus areas in order, each with its sub-items in order as
    ``sub_areas`` (one query for any number of groups)."""
    areas = FocusArea.objects.filter(group_id__in=group_ids).order_by("position", "id")
    children: dict[int, list[FocusArea]] = {}
    top: dict[int, list[FocusArea]] = {group_id: [] for group_id in group_ids}
    for area in areas:
        area.sub_areas = children.setdefault(area.pk, [])  # type: ignore[attr-defined]
        if area.parent_id is None:
            top[area.group_id].append(area)
        else:
            children.setdefault(area.parent_id, []).append(area)
    return top


def groups_for_organisation(*, organisation: Organisation) -> list[WorkingGroup]:
    """Top-level groups in order, each with its focus areas (``top_focus_areas``) and its first
    phase (``first_phase``), in three queries. Archived groups are left out."""
    groups = list(
        WorkingGroup.objects.filter(
            organisation=organisation, parent__isnull=True, archived_at__isnull=True
        ).order_by("number")
    )
    group_ids = [group.pk for group in groups]
    trees = _focus_area_trees(group_ids)
    first_phases: dict[int, Phase] = {}
    for phase in Phase.objects.filter(group_id__in=group_ids).order_by("-number", "-id"):
        first_phases[phase.group_id] = phase
    for group in groups:
        group.top_focus_areas = trees[group.pk]  # type: ignore[attr-defined]
        group.first_phase = first_phases.get(group.pk)  # type: ignore[attr-defined]
    return groups


def group_detail(*, organisation: Organisation, slug: str) -> WorkingGroup | None:
    """One group by its address (with its parent), or None: what the page needs before it knows
    whether its public part is cached (``GroupDetails`` reads the rest). From the cache until
    the tenant's public data changes."""
    return public_cached(
        organisation.pk,
        "group",
        slug,
        build=lambda: (
            WorkingGroup.objects.filter(organisation=organisation, slug=slug)
            .select_related("parent")
            .first()
        ),
    )


class GroupDetails:
    """What the public part of a group's page shows, each part read when the template first
    asks for it: a page whose public part comes from the cache reads none of it."""

    def __init__(self, group: WorkingGroup) -> None:
        self.group = group

    @cached_property
    def focus_areas(self) -> list[FocusArea]:
        return _focus_area_trees([self.group.pk])[self.group.pk]

    @cached_property
    def subgroups(self) -> list[WorkingGroup]:
        return list(
            WorkingGroup.objects.filter(parent=self.group, archived_at__isnull=True).order_by(
                "number"
            )
        )

    @cached_property
    def phases(self) -> list[Phase]:
        return list(Phase.objects.filter(group=self.group).order_by("number"))

    @cached_property
    def standards(self) -> list[Standard]:
        return list(self.group.standards.all())

    @cached_property
    def linked_groups(self) -> list[dict[str, Any]]:
        return linked_groups(self.group)


def objectives_for_organisation(*, organisation: Organisation) -> QuerySet[RevisionObjective]:
    return RevisionObjective.objects.filter(organisation=organisation).order_by("number")


def open_extensions_for_participant(
    *, group: WorkingGroup, request: HttpRequest
) -> list[PhaseExtension]:
    """Open extensions of ``group`` that the person asking answers as a participant, each with
    their answer as ``my_answer`` (none for anyone else)."""
    user = request.user
    if not user.is_authenticated or not has_role(request, GroupRole.PARTICIPANT.value, group):
        return []
    extensions = list(
        PhaseExtension.objects.filter(group=group, status=PhaseExtension.Status.OPEN)
        .select_related("from_phase")
        .order_by("proposed_at")
    )
    answers = {
        answer.extension_id: answer
        for answer in ExtensionAnswer.objects.filter(extension__in=extensions, participant=user)
    }
    for extension in extensions:
        extension.my_answer = answers.get(extension.pk)  # type: ignore[attr-defined]
    return extensions


def linked_groups(group: WorkingGroup) -> list[dict[str, Any]]:
    """The groups linked with ``group`` either way, once each, in group order, with the notes of
    both directions (one query)."""
    by_group: dict[int, dict[str, Any]] = {}
    links = GroupLinkage.objects.filter(Q(from_group=group) | Q(to_group=group)).select_related(
        "from_group", "to_group"
    )
    # The notes of the linkages out first, then those in.
    for link in sorted(links, key=lambda link: (link.from_group_id != group.pk, link.pk)):
        other = link.to_group if link.from_group_id == group.pk else link.from_group
        entry = by_group.setdefault(other.pk, {"group": other, "notes": []})
        if link.note and link.note not in entry["notes"]:
            entry["notes"].append(link.note)
    return sorted(by_group.values(), key=lambda entry: (entry["group"].number, entry["group"].pk))


def group_participants(group: WorkingGroup) -> list[User]:
    """People who hold the participant role in the group."""
    users = get_users_with_perms(
        group, only_with_perms_in=[GroupRole.PARTICIPANT.value], with_group_users=False
    )
    return sorted(users, key=lambda user: user.email)


def phase_extension_tally(extension: PhaseExtension) -> dict[str, int]:
    """How many participants answered each way, every answer named (zero included)."""
    counts = Counter(extension.answers.values_list("answer", flat=True))
    return {choice.value: counts.get(choice.value, 0) for choice in ExtensionAnswer.Answer}
