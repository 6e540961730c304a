"""Writes on organisations, working groups and phases. Each function is one transaction."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm
from guardian.utils import get_user_obj_perms_model

from asi_wg.audit import audit_record
from asi_wg.errors import DomainError
from asi_wg.models import Organisation, OrganisationRole, User
from asi_wg.tenancy import same_organisation
from groups import selectors
from groups.models import ExtensionAnswer, GroupRole, Phase, PhaseExtension, WorkingGroup


class ExtensionNotOpen(DomainError):
    default_message = _("This extension has already been decided.")


class NotAParticipant(DomainError):
    default_message = _("Only the group's participants answer on its extension.")


class ExtensionNotAgreed(DomainError):
    default_message = _("The participants have not agreed to this extension.")


class InvalidPhaseDates(DomainError):
    default_message = _("A phase ends on or after the day it starts.")


# --- Roles ------------------------------------------------------------------------------------


@transaction.atomic
def organisation_role_grant(
    *, organisation: Organisation, user: User, role: OrganisationRole, acting_user: User | None
) -> bool:
    """Give ``user`` a role in the organisation. Returns False if they already had it."""
    same_organisation(organisation)
    if _has_direct_perm(user, role.value, organisation):
        return False
    assign_perm(f"asi_wg.{role.value}", user, organisation)
    audit_record(
        organisation=organisation,
        actor=acting_user,
        action="role.grant",
        target=user,
        data={"role": role.label, "scope": "organisation"},
    )
    return True


@transaction.atomic
def organisation_role_revoke(
    *, organisation: Organisation, user: User, role: OrganisationRole, acting_user: User | None
) -> bool:
    """Take a role in the organisation away. Returns False if ``user`` did not have it."""
    same_organisation(organisation)
    if not _has_direct_perm(user, role.value, organisation):
        return False
    remove_perm(f"asi_wg.{role.value}", user, organisation)
    audit_record(
        organisation=organisation,
        actor=acting_user,
        action="role.revoke",
        target=user,
        data={"role": role.label, "scope": "organisation"},
    )
    return True


@transaction.atomic
def group_role_grant(
    *, group: WorkingGroup, user: User, role: GroupRole, acting_user: User | None
) -> bool:
    """Give ``user`` a role in one working group. Returns False if they already had it."""
    same_organisation(group.organisation_id, group)
    if _has_direct_perm(user, role.value, group):
        return False
    assign_perm(f"groups.{role.value}", user, group)
    audit_record(
        organisation=group.organisation,
        actor=acting_user,
        action="role.grant",
        target=user,
        data={"role": role.label, "scope": "group", "group": group.name},
    )
    return True


@transaction.atomic
def group_role_revoke(
    *, group: WorkingGroup, user: User, role: GroupRole, acting_user: User | None
) -> bool:
    """Take a role in one working group away. Returns False if ``user`` did not have it."""
    same_organisation(group.organisation_id, group)
    if not _has_direct_perm(user, role.value, group):
        return False
    remove_perm(f"groups.{role.value}", user, group)
    audit_record(
        organisation=group.organisation,
        actor=acting_user,
        action="role.revoke",
        target=user,
        data={"role": role.label, "scope": "group", "group": group.name},
    )
    return True


def _has_direct_perm(user: User, codename: str, obj: Organisation | WorkingGroup) -> bool:
    """Whether the permission row exists: unlike has_perm, not true for every superuser, and
    never answered from a cache that an earlier grant in the same request left behind."""
    model = get_user_obj_perms_model(obj)
    return model._default_manager.filter(
        user=user, content_object=obj, permission__codename=codename
    ).exists()


# --- Phases -----------------------------------------------------------------------------------


@transaction.atomic
def phase_status_refresh(*, organisation: Organisation, today: datetime.date) -> int:
    """Move each phase of the organisation to the status its dates imply on ``today``.

    Idempotent: a second run on the same day changes nothing and writes no audit entry.
    Returns the number of phases changed.
    """
    same_organisation(organisation)
    changed = 0
    phases = Phase.objects.select_for_update().filter(group__organisation=organisation)
    for phase in phases.select_related("group"):
        status = phase.status_on(today)
        if status == phase.status:
            continue
        audit_record(
            organisation=organisation,
            actor=None,
            action="phase.status",
            target=phase,
            data={"from": phase.status, "to": status, "on": today.isoformat()},
        )
        phase.status = status
        phase.save(update_fields=["status"])
        changed += 1
    return changed


@transaction.atomic
def phase_extension_propose(
    *,
    phase: Phase,
    need: str,
    name: str,
    starts_on: datetime.date,
    ends_on: datetime.date,
    meetings_min: int,
    meetings_max: int,
    answers_due_on: datetime.date,
    acting_user: User,
) -> PhaseExtension:
    """Ask the group's participants whether to continue into a further phase."""
    same_organisation(phase.group.organisation_id, phase)
    if ends_on < starts_on:
        raise InvalidPhaseDates()
    if meetings_max < meetings_min:
        raise DomainError(_("The most meetings is at least the fewest."))
    if not need.strip():
        raise DomainError(_("Say why a further phase is needed."))
    if PhaseExtension.objects.filter(from_phase=phase, status=PhaseExtension.Status.OPEN).exists():
        raise DomainError(_("An extension of this phase is already open."))
    extension = PhaseExtension.objects.create(
        group=phase.group,
        from_phase=phase,
        need=need.strip(),
        proposed_name=name,
        proposed_starts_on=starts_on,
        proposed_ends_on=ends_on,
        proposed_meetings_min=meetings_min,
        proposed_meetings_max=meetings_max,
        answers_due_on=answers_due_on,
        proposed_by=acting_user,
    )
    audit_record(
        organisation=phase.group.organisation,
        actor=acting_user,
        action="phase_extension.propose",
        target=extension,
        data={"from_phase": phase.name, "proposed": name},
    )
    return extension


@transaction.atomic
def phase_extension_answer(
    *,
    extension: PhaseExtension,
    participant: User,
    answer: ExtensionAnswer.Answer,
    comment: str = "",
) -> ExtensionAnswer:
    """Record (or change) one participant's answer while the extension is open."""
    same_organisation(extension.group.organisation_id, extension)
    extension = PhaseExtension.objects.select_for_update().get(pk=extension.pk)
    if extension.status != PhaseExtension.Status.OPEN:
        raise ExtensionNotOpen()
    if not _has_direct_perm(participant, GroupRole.PARTICIPANT.value, extension.group):
        raise NotAParticipant()
    record, created = ExtensionAnswer.objects.update_or_create(
        extension=extension,
        participant=participant,
        defaults={"answer": answer, "comment": comment, "answered_at": timezone.now()},
    )
    audit_record(
        organisation=extension.group.organisation,
        actor=participant,
        action="phase_extension.answer" if created else "phase_extension.answer_change",
        target=extension,
        data={"answer": str(answer)},
    )
    return record


@transaction.atomic
def phase_extension_decide(
    *, extension: PhaseExtension, approve: bool, note: str, acting_user: User
) -> PhaseExtension:
    """Close an extension. Approval needs more participants agreeing than disagreeing (and at
    least one agreeing), and creates the new phase; the tally is kept with the decision.
    """
    same_organisation(extension.group.organisation_id, extension)
    extension = PhaseExtension.objects.select_for_update().get(pk=extension.pk)
    if extension.status != PhaseExtension.Status.OPEN:
        raise ExtensionNotOpen()
    tally = selectors.phase_extension_tally(extension)
    agree, disagree = tally["agree"], tally["disagree"]
    if approve and (agree == 0 or agree <= disagree):
        raise ExtensionNotAgreed(
            _(
                "The participants have not agreed: %(agree)d agree and %(disagree)d do not. "
                "A group is extended only with its participants' agreement."
            )
            % {"agree": agree, "disagree": disagree}
        )
    extension.status = PhaseExtension.Status.APPROVED if approve else PhaseExtension.Status.REJECTED
    extension.decided_by = acting_user
    extension.decided_at = timezone.now()
    extension.decision_note = note
    if approve:
        number = (
            Phase.objects.filter(group=extension.group)
            .order_by("-number")
            .values_list("number", flat=True)
            .first()
            or 0
        ) + 1
        extension.new_phase = Phase.objects.create(
            group=extension.group,
            number=number,
            name=extension.proposed_name,
            starts_on=extension.proposed_starts_on,
            ends_on=extension.proposed_ends_on,
            meetings_min=extension.proposed_meetings_min,
            meetings_max=extension.proposed_meetings_max,
        )
    extension.save()
    audit_record(
        organisation=extension.group.organisation,
        actor=acting_user,
        action="phase_extension.decide",
        target=extension,
        data={"status": extension.status, "tally": tally, "note": note},
    )
    return extension


# --- Archiving --------------------------------------------------------------------------------

# What must be settled before a group is archived, asked of the apps above this one (which this
# module may not import): each check returns a refusal to show, or None. ``membership`` refuses
# while seats are held, offers are open or applications wait.
GroupArchiveCheck = Callable[[WorkingGroup], str | None]
_archive_checks: list[GroupArchiveCheck] = []


def group_archive_check_register(check: GroupArchiveCheck) -> GroupArchiveCheck:
    if check not in _archive_checks:
        _archive_checks.append(check)
    return check


class GroupArchived(DomainError):
    default_message = _("This group is archived.")


def _lock_group(group: WorkingGroup) -> WorkingGroup:
    return WorkingGroup.objects.select_for_update().get(pk=group.pk)


@transaction.atomic
def group_archive(*, group: WorkingGroup, acting_user: User) -> WorkingGroup:
    """Archive a group instead of deleting it: its history stays, it leaves the public list and
    takes no applications. Refused while anything is open in it (see the registered checks),
    under the group's lock, which every seat, offer and application decision takes too."""
    group = _lock_group(group)
    if group.archived_at is not None:
        raise GroupArchived(_("%(group)s is already archived.") % {"group": group.name})
    refusals = [refusal for check in _archive_checks if (refusal := check(group))]
    if refusals:
        raise DomainError(" ".join(refusals))
    group.archived_at = timezone.now()
    group.save(update_fields=["archived_at", "updated_at"])
    audit_record(
        organisation=group.organisation, actor=acting_user, action="group.archive", target=group
    )
    return group


@transaction.atomic
def group_restore(*, group: WorkingGroup, acting_user: User) -> WorkingGroup:
    """Bring an archived group back to the public list, open to applications again."""
    group = _lock_group(group)
    if group.archived_at is None:
        raise DomainError(_("%(group)s is not archived.") % {"group": group.name})
    group.archived_at = None
    group.save(update_fields=["archived_at", "updated_at"])
    audit_record(
        organisation=group.organisation, actor=acting_user, action="group.restore", target=group
    )
    return group
