"""Reads of groups for the public pages: already scoped by the tenant middleware."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db.models import Prefetch, QuerySet
from guardian.shortcuts import get_users_with_perms

from asi_wg.models import Organisation, User
from groups.models import (
    ExtensionAnswer,
    FocusArea,
    GroupLinkage,
    GroupRole,
    Phase,
    PhaseExtension,
    RevisionObjective,
    WorkingGroup,
)


def _top_level_focus_areas() -> Prefetch:
    return Prefetch(
        "focus_areas",
        queryset=FocusArea.objects.filter(parent__isnull=True)
        .prefetch_related(
            Prefetch("children", queryset=FocusArea.objects.order_by("position", "id"))
        )
        .order_by("position", "id"),
        to_attr="top_focus_areas",
    )


def groups_for_organisation(*, organisation: Organisation) -> QuerySet[WorkingGroup]:
    """Top-level groups in order, with focus areas, subgroups and the current phase prefetched.
    Archived groups are left out."""
    return (
        WorkingGroup.objects.filter(
            organisation=organisation, parent__isnull=True, archived_at__isnull=True
        )
        .prefetch_related(
            _top_level_focus_areas(),
            Prefetch(
                "subgroups",
                queryset=WorkingGroup.objects.filter(archived_at__isnull=True).order_by("number"),
            ),
            Prefetch("phases", queryset=Phase.objects.order_by("number")),
        )
        .order_by("number")
    )


def group_detail(*, organisation: Organisation, slug: str) -> WorkingGroup | None:
    """One group with everything its public page shows, or None."""
    return (
        WorkingGroup.objects.filter(organisation=organisation, slug=slug)
        .select_related("parent")
        .prefetch_related(
            _top_level_focus_areas(),
            Prefetch(
                "subgroups",
                queryset=WorkingGroup.objects.filter(archived_at__isnull=True).order_by("number"),
            ),
            Prefetch("phases", queryset=Phase.objects.order_by("number")),
            Prefetch(
                "linkages_out",
                queryset=GroupLinkage.objects.select_related("to_group").order_by(
                    "to_group__number"
                ),
            ),
            Prefetch(
                "linkages_in",
                queryset=GroupLinkage.objects.select_related("from_group").order_by(
                    "from_group__number"
                ),
            ),
            "standards",
        )
        .first()
    )


def objectives_for_organisation(*, organisation: Organisation) -> QuerySet[RevisionObjective]:
    return RevisionObjective.objects.filter(organisation=organisation).order_by("number")


def open_extensions_for_participant(*, group: WorkingGroup, user: Any) -> list[PhaseExtension]:
    """Open extensions of ``group`` that ``user`` answers as a participant, with their answer."""
    if not user.is_authenticated or not user.has_perm(
        f"groups.{GroupRole.PARTICIPANT.value}", group
    ):
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
    both directions (uses the linkages prefetched by ``group_detail``)."""
    by_group: dict[int, dict[str, Any]] = {}
    pairs = [(link.to_group, link.note) for link in group.linkages_out.all()] + [
        (link.from_group, link.note) for link in group.linkages_in.all()
    ]
    for other, note in pairs:
        entry = by_group.setdefault(other.pk, {"group": other, "notes": []})
        if note and note not in entry["notes"]:
            entry["notes"].append(note)
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
