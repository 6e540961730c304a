"""Writes about feedback rounds, answers and dispositions. Each function is one transaction
that writes its audit entry in it, and queues its e-mails (``feedback.notifications``) to go
once it commits: a round opened by staff is announced at once, published dispositions are told
to their authors. Rounds opening by the clock, and the reminders, come from the beat job
(``feedback.jobs``).

Decisions (see also the module docstring of ``feedback.models``):

- **Draft and submit.** Every save is kept on the server (nothing typed is lost) and is a
  draft until the participant submits it (``submit=True`` on a save, which sets
  ``submitted_at`` once). A submitted answer can still be changed until the round closes; it
  stays submitted. When the round closes, drafts are kept and shown to the secretariat as
  drafts: whether to weigh an unsubmitted comment is the secretariat's call, not the clock's.
- **Versions.** Each answer carries a version that every save raises. A save names the version
  it was edited from; a stale one raises ``AnswerConflict`` with the server's version and
  content and writes nothing. A repeated request (a double submit, a retried autosave) whose
  changes are already the server's content is answered with the current answer instead: one
  row, no conflict. Two first saves racing (both from version 0) make one row: the unique
  constraint refuses the second, which then gets the conflict with the first one's content.
- **Dispositions** are private until ``dispositions_publish`` publishes, in one batch, every
  unpublished disposition of a closed round. A published disposition is final: a later change
  is refused (what participants were told stays the record). Dispositions written after a
  batch are published with the next one.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from asi_wg import compiled
from asi_wg.audit import audit_record
from asi_wg.compiled import Compiled
from asi_wg.errors import DomainError
from asi_wg.models import Organisation, User
from asi_wg.tenancy import same_organisation
from feedback.models import (
    Answer,
    Criterion,
    Disposition,
    DraftDocument,
    FeedbackRound,
    Framework,
    Question,
    Synopsis,
    all_questions,
)
from groups.models import RevisionObjective, WorkingGroup
from membership.selectors import antitrust_acknowledged, seat_held
from membership.services import notification_queue


class RoundNotOpen(DomainError):
    default_message = _("This feedback round is not open.")


class NotInTheRound(DomainError):
    default_message = _("Only the group's seated participants answer in this round.")


class AnswerConflict(DomainError):
    """The answer changed since the version the person edited (another tab, another device).
    Carries the server's answer so the page can show both and let the person choose."""

    def __init__(self, *, current: Answer) -> None:
        super().__init__(
            _(
                "This answer was changed elsewhere (in another tab or window) while you were "
                "editing it. Nothing was saved: compare your text with the saved version "
                "(version %(version)d) and save again."
            )
            % {"version": current.version}
        )
        self.current = current
        self.current_version = current.version
        self.current_content = answer_content(current)


class DispositionPublished(DomainError):
    default_message = _("This disposition is published and no longer changes.")


class DispositionChanged(DomainError):
    """Someone else saved a disposition of these comments after the page being sent was
    loaded: writing would silently replace their decision."""

    default_message = _("Another member of the secretariat changed this disposition meanwhile.")


def disposition_seen(disposition: Disposition | None) -> str:
    """What a triage page remembers of the disposition it showed, to send back with a change:
    when it was decided ("" for none yet)."""
    return disposition.decided_at.isoformat() if disposition and disposition.decided_at else ""


# The fields each question fills in.
QUESTION_FIELDS: dict[str, tuple[str, ...]] = {
    Question.RELEVANCE: ("relevance",),
    Question.CLARITY: ("clarity",),
    Question.FEASIBILITY: ("feasibility",),
    Question.COMMENT: ("comment", "proposed_change", "comment_type"),
    Question.FRAMEWORKS: ("frameworks",),
    Question.RISKS: ("risks_opportunities",),
    Question.OBJECTIVES: ("objectives",),
    Question.REFERRAL: ("referred_to",),
}
ANSWER_FIELDS = tuple(name for fields in QUESTION_FIELDS.values() for name in fields)
MANY_TO_MANY = ("frameworks", "objectives")
TEXT_FIELDS = ("comment", "proposed_change", "risks_opportunities")


def answer_content(answer: Answer) -> dict[str, Any]:
    """The answer's content as plain values: what a conflict shows next to the person's own."""
    content: dict[str, Any] = {}
    for name in ANSWER_FIELDS:
        if name in MANY_TO_MANY:
            content[name] = sorted(getattr(answer, name).values_list("pk", flat=True))
        elif name == "referred_to":
            content[name] = answer.referred_to_id
        else:
            content[name] = getattr(answer, name)
    return content


#: How far ahead a round may open or close. A consultation runs for weeks; a time typed years
#: ahead is a slip, and one near the year 9999 cannot be shown in every time zone (a 500).
FURTHEST_AHEAD = datetime.timedelta(days=3 * 366)


def _aware(moment: datetime.datetime, what: str) -> None:
    if timezone.is_naive(moment):
        raise DomainError(_("The %(what)s time needs its time zone.") % {"what": what})
    if moment - timezone.now() > FURTHEST_AHEAD:
        raise DomainError(_("Choose a %(what)s time within three years from now.") % {"what": what})


def _lock_round(feedback_round: FeedbackRound) -> FeedbackRound:
    same_organisation(feedback_round.organisation_id, feedback_round)
    return (
        FeedbackRound.objects.select_for_update(of=("self",))
        .select_related("group", "organisation")
        .get(pk=feedback_round.pk)
    )


# --- Rounds -----------------------------------------------------------------------------------


@transaction.atomic
def round_create(
    *,
    group: WorkingGroup,
    document: DraftDocument,
    title: str,
    criteria: Iterable[Criterion],
    opens_at: datetime.datetime,
    closes_at: datetime.datetime,
    acting_user: User,
    instructions: str = "",
    questions: Sequence[str] | None = None,
) -> FeedbackRound:
    """Set up a round of feedback for a group on criteria of one draft document."""
    criteria = list(criteria)
    same_organisation(group.organisation_id, group, document, *criteria)
    _aware(opens_at, _("opening"))
    _aware(closes_at, _("closing"))
    if closes_at <= opens_at:
        raise DomainError(_("A round closes after it opens."))
    if group.archived_at is not None:
        raise DomainError(_("%(group)s is archived.") % {"group": group.name})
    if not criteria:
        raise DomainError(_("Choose at least one criterion."))
    foreign = [c.reference for c in criteria if c.document_id != document.pk]
    if foreign:
        raise DomainError(
            _("Not criteria of %(document)s: %(refs)s.")
            % {"document": document, "refs": ", ".join(foreign)}
        )
    asked = _check_questions(questions)
    feedback_round = FeedbackRound(
        organisation_id=group.organisation_id,
        group=group,
        document=document,
        title=title.strip(),
        opens_at=opens_at,
        closes_at=closes_at,
        instructions=instructions,
        questions=asked,
    )
    feedback_round.full_clean()
    feedback_round.save()
    feedback_round.criteria.set(criteria)
    audit_record(
        organisation=group.organisation,
        actor=acting_user,
        action="round.create",
        target=feedback_round,
        data={
            "opens_at": opens_at,
            "closes_at": closes_at,
            "criteria": len(criteria),
            "questions": asked,
        },
    )
    return feedback_round


def _check_questions(questions: Sequence[str] | None) -> list[str]:
    if questions is None:
        return all_questions()
    unknown = sorted(set(questions) - set(all_questions()))
    if unknown:
        raise DomainError(_("Unknown question: %(keys)s.") % {"keys": ", ".join(unknown)})
    if not questions:
        raise DomainError(_("Ask at least one question."))
    return [key for key in all_questions() if key in questions]


@transaction.atomic
def round_open(*, round: FeedbackRound, acting_user: User) -> FeedbackRound:
    """Open a scheduled round now (its opening time becomes now); the group's seated
    participants are e-mailed once this commits."""
    feedback_round = _lock_round(round)
    now = timezone.now()
    state = feedback_round.state(now)
    if state != FeedbackRound.State.SCHEDULED:
        raise DomainError(
            _("This round is already open.")
            if state == FeedbackRound.State.OPEN
            else _("This round is closed: extend it to open it again.")
        )
    before = feedback_round.opens_at
    feedback_round.opens_at = now
    feedback_round.save(update_fields=["opens_at"])
    audit_record(
        organisation=feedback_round.organisation,
        actor=acting_user,
        action="round.open",
        target=feedback_round,
        data={"from": before, "to": now},
    )
    notification_queue(
        "feedback_round_open", feedback_round, organisation=feedback_round.organisation
    )
    return feedback_round


@transaction.atomic
def round_close(*, round: FeedbackRound, acting_user: User) -> FeedbackRound:
    """Close an open round now, before its closing time: answers become read-only."""
    feedback_round = _lock_round(round)
    now = timezone.now()
    if not feedback_round.is_open(now):
        raise RoundNotOpen()
    feedback_round.closed_early_at = now
    feedback_round.save(update_fields=["closed_early_at"])
    audit_record(
        organisation=feedback_round.organisation,
        actor=acting_user,
        action="round.close",
        target=feedback_round,
        data={"closes_at": feedback_round.closes_at},
    )
    return feedback_round


@transaction.atomic
def round_extend(
    *,
    round: FeedbackRound,
    closes_at: datetime.datetime,
    acting_user: User,
) -> FeedbackRound:
    """Move a round's closing time later. A closed round opens again until then, unless its
    dispositions were published (then its record is final)."""
    _aware(closes_at, _("closing"))
    feedback_round = _lock_round(round)
    now = timezone.now()
    if closes_at <= now or closes_at <= feedback_round.closes_at:
        raise DomainError(_("Choose a closing time later than both now and the current one."))
    if Disposition.objects.filter(
        answer__round=feedback_round, published_at__isnull=False
    ).exists():
        raise DomainError(_("This round's dispositions are published: it does not open again."))
    before = feedback_round.closes_at
    reopened = feedback_round.state(now) == FeedbackRound.State.CLOSED
    feedback_round.closes_at = closes_at
    feedback_round.closed_early_at = None
    feedback_round.save(update_fields=["closes_at", "closed_early_at"])
    audit_record(
        organisation=feedback_round.organisation,
        actor=acting_user,
        action="round.extend",
        target=feedback_round,
        data={"from": before, "to": closes_at, "reopened": reopened},
    )
    return feedback_round


# --- Answers ----------------------------------------------------------------------------------


def _may_answer(user_id: Any, organisation_id: Any, group: str = "group") -> dict[str, Any]:
    """The annotations ``_check_can_answer`` decides on, for a row whose ``group`` field names the
    round's group: whether the person holds a seat in it now, and has acknowledged the tenant's
    current antitrust policy."""
    return {
        "seated": seat_held(user=user_id, group=group),
        "acknowledged": antitrust_acknowledged(user=user_id, organisation_id=organisation_id),
    }


# Keep the round as it is until the transaction ends, without holding up other saves: a share
# lock on its row, which closing or extending the round (``_lock_round``) waits for, and which
# waits for them. An answer saved while a close is under way is then either refused (the close
# committed first) or saved before the round's closing time. SQLite's writers already take turns
# (IMMEDIATE transactions).
_ROUND_SHARE_LOCK = {"postgresql": f" FOR SHARE OF {FeedbackRound._meta.db_table}"}


def _round_to_answer_query(
    organisation_id: int, round_id: int, criterion_id: int, user_id: int
) -> Any:
    in_round = FeedbackRound.criteria.through.objects.filter(
        feedbackround=OuterRef("pk"), criterion=criterion_id
    )
    return (
        FeedbackRound.objects.filter(organisation=organisation_id, pk=round_id)
        .order_by()
        .annotate(has_criterion=Exists(in_round), **_may_answer(user_id, organisation_id))
    )


# Compiled once per process: building its subqueries cost more than running them.
_ROUND_TO_ANSWER = Compiled(
    FeedbackRound,
    _round_to_answer_query,
    "organisation_id",
    "round_id",
    "criterion_id",
    "user_id",
    suffixes=_ROUND_SHARE_LOCK,
)


_RoundCriterion = FeedbackRound.criteria.through
# ``_ROUND_TO_ANSWER`` for ``answer_save_by_ids``: the round and its criterion in one row (the
# link between them, with both), the round locked in the same way.
_ROUND_AND_CRITERION_TO_ANSWER = Compiled(
    _RoundCriterion,
    lambda organisation_id, round_id, criterion_id, user_id: (
        _RoundCriterion.objects.filter(
            feedbackround=round_id,
            feedbackround__organisation=organisation_id,
            criterion=criterion_id,
            criterion__organisation=organisation_id,
        )
        .select_related("feedbackround", "criterion")
        .order_by()
        .annotate(**_may_answer(user_id, organisation_id, group="feedbackround__group"))
    ),
    "organisation_id",
    "round_id",
    "criterion_id",
    "user_id",
    suffixes=_ROUND_SHARE_LOCK,
)


def _answer_ids(round: FeedbackRound, criterion: Criterion, user: User) -> dict[str, int]:
    """The ids that name one person's answer, for the compiled queries."""
    return {
        "organisation_id": round.organisation_id,
        "round_id": round.pk,
        "criterion_id": criterion.pk,
        "user_id": user.pk,
    }


def _round_to_answer(round: FeedbackRound, criterion: Criterion, user: User) -> FeedbackRound:
    """The round again, locked (see ``_ROUND_TO_ANSWER``), with everything
    ``_check_can_answer`` decides on, in one query."""
    found = _ROUND_TO_ANSWER.rows(**_answer_ids(round, criterion, user))
    if not found:
        raise FeedbackRound.DoesNotExist(round.pk)
    feedback_round = found[0]
    feedback_round.organisation = round.organisation  # the same row, read by the caller
    return feedback_round


def _check_can_answer(feedback_round: FeedbackRound, criterion: Criterion, user: User) -> None:
    """Refuse unless ``user`` may answer now (``feedback_round`` from ``_round_to_answer``)."""
    if not (user.is_active and feedback_round.seated):  # type: ignore[attr-defined]
        raise NotInTheRound()
    now = timezone.now()
    state = feedback_round.state(now)
    if state == FeedbackRound.State.SCHEDULED:
        raise RoundNotOpen(_("This feedback round has not opened yet."))
    if state == FeedbackRound.State.CLOSED:
        raise RoundNotOpen(_("This feedback round is closed: answers can no longer change."))
    if not feedback_round.has_criterion:  # type: ignore[attr-defined]
        raise DomainError(_("Criterion %(ref)s is not part of this round.") % {"ref": criterion})
    if not feedback_round.acknowledged:  # type: ignore[attr-defined]
        raise NotInTheRound(_("Acknowledge the antitrust policy before taking part."))


def _clean_answer_data(feedback_round: FeedbackRound, data: dict[str, Any]) -> dict[str, Any]:
    """Check the given fields against the questions the round asks and the tenant's lists."""
    unknown = set(data) - set(ANSWER_FIELDS)
    if unknown:
        raise ValueError(f"Not fields of an answer: {sorted(unknown)}")
    asked = {name for key in feedback_round.questions for name in QUESTION_FIELDS.get(key, ())}
    not_asked = sorted(set(data) - asked)
    if not_asked:
        raise DomainError(
            _("This round does not ask for: %(fields)s.") % {"fields": ", ".join(not_asked)}
        )
    organisation_id = feedback_round.organisation_id
    cleaned: dict[str, Any] = {}
    for name, value in data.items():
        if name in Answer.SCALES:
            if value is not None and value not in range(Answer.NO_VIEW, 6):
                raise DomainError(_("Choose 1 to 5, or no view."))
        elif name == "comment_type":
            value = value or ""
            if value and value not in Answer.CommentType.values:
                raise DomainError(_("Choose general, technical or editorial."))
        elif name in TEXT_FIELDS:
            value = (value or "").strip()
        elif name in MANY_TO_MANY:
            value = list(value or [])
            same_organisation(organisation_id, *value)
            kind = Framework if name == "frameworks" else RevisionObjective
            if any(not isinstance(item, kind) for item in value):
                raise ValueError(f"{name} takes {kind.__name__} rows")
        elif name == "referred_to" and value is not None:
            same_organisation(organisation_id, value)
            if value.pk == feedback_round.group_id:
                raise DomainError(_("Refer the point to another group than this one."))
        cleaned[name] = value
    return cleaned


# The rows of an answer's lists (compiled once: compared on every autosave). The answer's id
# comes from a query of its tenant.
_LINKED = {
    name: Compiled(
        through,
        lambda answer_id, through=through: through.objects.filter(answer=answer_id),
        "answer_id",
    )
    for name, through in (
        ("frameworks", Answer.frameworks.through),
        ("objectives", Answer.objectives.through),
    )
}
_LINKED_ID = {"frameworks": "framework_id", "objectives": "revisionobjective_id"}


def _forget_links(answer: Answer) -> None:
    """Make ``_differs`` read the answer's links afresh. For a row changed by another save since
    the person's page (a version other than theirs): when ``_MY_ANSWER`` waited for that save's
    lock, PostgreSQL gave it the row as that save left it, but its subqueries (whether anything
    is linked) saw the links from before."""
    for name in MANY_TO_MANY:
        setattr(answer, f"links_{name}", True)


def _differs(answer: Answer, name: str, value: Any) -> bool:
    if name in MANY_TO_MANY:
        if not value and not getattr(answer, f"links_{name}", True):
            return False  # none chosen, and none linked (``_MY_ANSWER`` tells): no query
        linked = {getattr(row, _LINKED_ID[name]) for row in _LINKED[name].rows(answer_id=answer.pk)}
        return linked != {v.pk for v in value}
    if name == "referred_to":
        return answer.referred_to_id != (value.pk if value is not None else None)
    return bool(getattr(answer, name) != value)


_ANSWER_FIELDS = [field.name for field in Answer._meta.concrete_fields]


def _write(answer: Answer, changes: dict[str, Any]) -> None:
    """Write ``changes`` to ``answer`` (new, or with its version already raised): only the
    changed columns, validated as the model would (the constraints are the database's to
    enforce; validating them here would cost a query each on every autosave)."""
    columns = [name for name in changes if name not in MANY_TO_MANY]
    for name in columns:
        setattr(answer, name, changes[name])
    adding = answer._state.adding
    validated = set(_ANSWER_FIELDS) if adding else {*columns, "version"}
    answer.full_clean(
        exclude=[name for name in _ANSWER_FIELDS if name not in validated]
        + ["round", "criterion", "author", "organisation"],
        validate_constraints=False,
    )
    if adding:
        compiled.insert(answer)
    else:
        compiled.update(answer, [*columns, "version", "updated_at"])
    for name in MANY_TO_MANY:
        if name in changes and (changes[name] or not adding):  # a new answer links nothing yet
            getattr(answer, name).set(changes[name])
            setattr(answer, f"links_{name}", bool(changes[name]))


_MY_ANSWER = Compiled(
    Answer,
    # Unordered: the model's ordering joins the round, whose row a lock would take too (and
    # deadlock with the share lock on it).
    lambda organisation_id, round_id, criterion_id, user_id: (
        Answer.objects.filter(
            organisation=organisation_id, round=round_id, criterion=criterion_id, author=user_id
        )
        .order_by()
        # Whether anything is linked: an autosave that chooses none of either compares without
        # reading the links (``_differs``).
        .annotate(
            links_frameworks=Exists(
                Answer.frameworks.through.objects.filter(answer=OuterRef("pk"))
            ),
            links_objectives=Exists(
                Answer.objectives.through.objects.filter(answer=OuterRef("pk"))
            ),
        )
    ),
    "organisation_id",
    "round_id",
    "criterion_id",
    "user_id",
    # SQLite's writers take turns already.
    suffixes={"postgresql": f" FOR UPDATE OF {Answer._meta.db_table}"},
)


def _my_answer(feedback_round: FeedbackRound, criterion: Criterion, user: User) -> Answer | None:
    """The person's answer, locked until the transaction ends (compiled once: it is read on
    every autosave), with the author and criterion the audit entry names and whether it links
    any framework or objective."""
    found = _MY_ANSWER.rows(**_answer_ids(feedback_round, criterion, user))
    if not found:
        return None
    answer = found[0]
    answer.author, answer.criterion = user, criterion
    return answer


@transaction.atomic
def answer_save(
    *,
    round: FeedbackRound,
    criterion: Criterion,
    user: User,
    data: dict[str, Any],
    expected_version: int,
    submit: bool = False,
) -> Answer:
    """Save (and with ``submit``, submit) a participant's answer about one criterion.

    ``data`` holds the fields to change (the others stay); ``expected_version`` is the version
    the person edited, 0 for a first answer. Refuses, writing nothing, when the round is not
    open, the person holds no seat in its group, the criterion is not in the round, or an
    object belongs to another tenant; raises ``AnswerConflict`` on a stale version."""
    same_organisation(round.organisation_id, round, criterion)
    feedback_round = _round_to_answer(round, criterion, user)
    _check_can_answer(feedback_round, criterion, user)
    return _save_answer(feedback_round, criterion, user, data, expected_version, submit)


class NoSuchCriterion(LookupError):
    """No criterion of that id in a round of that id, in the tenant (either may be missing)."""


@transaction.atomic
def answer_save_by_ids(
    *,
    organisation: Organisation,
    round_id: int,
    criterion_id: int,
    user: User,
    clean: Callable[[FeedbackRound], tuple[dict[str, Any], int]],
) -> Answer:
    """``answer_save`` for a request that has read neither the round nor the criterion (the
    autosave): both come with the lock on the round, in the query that checks who may answer,
    and ``clean(round)`` gives the data and the expected version from what was sent (a form
    built for the round's questions; it raises to refuse, writing nothing). One query fewer than
    reading the round first, and the form is built from the round as it is under the lock.
    Raises ``NoSuchCriterion`` when the tenant has no such round or the round no such
    criterion."""
    found = _ROUND_AND_CRITERION_TO_ANSWER.rows(
        organisation_id=organisation.pk,
        round_id=round_id,
        criterion_id=criterion_id,
        user_id=user.pk,
    )
    if not found:
        raise NoSuchCriterion(round_id, criterion_id)
    feedback_round, criterion = found[0].feedbackround, found[0].criterion
    feedback_round.organisation = organisation
    feedback_round.seated = found[0].seated  # type: ignore[attr-defined]
    feedback_round.acknowledged = found[0].acknowledged  # type: ignore[attr-defined]
    feedback_round.has_criterion = True  # type: ignore[attr-defined]
    _check_can_answer(feedback_round, criterion, user)
    data, expected_version = clean(feedback_round)
    return _save_answer(feedback_round, criterion, user, data, expected_version, False)


def _save_answer(
    feedback_round: FeedbackRound,
    criterion: Criterion,
    user: User,
    data: dict[str, Any],
    expected_version: int,
    submit: bool,
) -> Answer:
    """The rest of ``answer_save``, with the round locked and the person allowed to answer."""
    cleaned = _clean_answer_data(feedback_round, data)
    answer = _my_answer(feedback_round, criterion, user)
    if answer is None:
        answer = Answer(
            organisation_id=feedback_round.organisation_id,
            round=feedback_round,
            criterion=criterion,
            author=user,
        )
        try:
            with transaction.atomic():  # a savepoint: the losing first save can still read
                _write(answer, cleaned)
        except IntegrityError:
            # Another first save (a second tab, a double submit) committed the row meanwhile.
            current = _my_answer(feedback_round, criterion, user)
            assert current is not None  # the row the insert collided with
            _forget_links(current)
            if _is_replay(current, cleaned, submit):
                return current
            if not submit or any(_differs(current, n, v) for n, v in cleaned.items()):
                raise AnswerConflict(current=current) from None
            # The same content, now submitted: nothing of the other save is overwritten.
            answer, changed = current, []
        else:
            changed = sorted(cleaned)
    else:
        if answer.version != expected_version:
            _forget_links(answer)
        changed = sorted(name for name, value in cleaned.items() if _differs(answer, name, value))
        if answer.version != expected_version:
            if _is_replay(answer, cleaned, submit):
                return answer
            if changed:
                raise AnswerConflict(current=answer)
            # A stale page asking to submit exactly what the server holds (an autosave got
            # there first): nothing would be overwritten, so it is a submit, not a conflict.
        if not changed and (not submit or answer.submitted_at is not None):
            return answer
        answer.version += 1
        _write(answer, {name: cleaned[name] for name in changed})
    submitted = submit and answer.submitted_at is None
    if submitted:
        answer.submitted_at = timezone.now()
        compiled.update(answer, ["submitted_at"])
    audit_record(
        organisation=feedback_round.organisation,
        actor=user,
        action="answer.save",
        target=answer,
        data={"version": answer.version, "fields": changed, "submitted": submitted},
    )
    return answer


def _is_replay(answer: Answer, cleaned: dict[str, Any], submit: bool) -> bool:
    """Whether a stale request asks for exactly what the server already holds."""
    if submit and answer.submitted_at is None:
        return False
    return not any(_differs(answer, name, value) for name, value in cleaned.items())


# --- Dispositions -----------------------------------------------------------------------------


@transaction.atomic
def disposition_set(
    *,
    answers: Sequence[Answer],
    status: str,
    response: str,
    acting_user: User,
    seen: Mapping[int, str] | None = None,
) -> list[Disposition]:
    """Give the same disposition and response to each answer (one or many: bulk triage). All or
    nothing: if one answer's disposition is already published, none is written. ``seen`` maps
    answer ids to ``disposition_seen`` of what the sender's page showed; if another decision was
    saved since for any of them, ``DispositionChanged`` and none is written."""
    if status not in Disposition.Status.values:
        raise DomainError(_("Choose a disposition."))
    if not answers:
        raise DomainError(_("Choose at least one comment."))
    organisation_id = answers[0].organisation_id
    same_organisation(organisation_id, *answers)
    ids = sorted({answer.pk for answer in answers})
    locked = list(Answer.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk"))
    existing = {
        d.answer_id: d for d in Disposition.objects.select_for_update().filter(answer_id__in=ids)
    }
    if any(d.published_at is not None for d in existing.values()):
        raise DispositionPublished(
            _("Some of these dispositions are published and no longer change. Nothing was saved.")
        )
    changed = [
        existing[pk]
        for pk in ids
        if seen is not None
        and pk in seen
        and pk in existing
        and seen[pk] != disposition_seen(existing[pk])
    ]
    if changed:
        latest = max(changed, key=lambda d: d.decided_at)
        raise DispositionChanged(
            _(
                "Another member of the secretariat saved a disposition of %(n)d of these "
                "comments after you opened the page (the latest: “%(status)s”%(response)s). "
                "What you chose is kept below: save again to replace theirs."
            )
            % {
                "n": len(changed),
                "status": latest.get_status_display(),
                "response": f", “{latest.response}”" if latest.response else "",
            }
        )
    now = timezone.now()
    response = response.strip()
    result = []
    for answer in locked:
        disposition = existing.get(answer.pk) or Disposition(
            organisation_id=organisation_id, answer=answer
        )
        disposition.status = status
        disposition.response = response
        disposition.decided_by = acting_user
        disposition.decided_at = now
        disposition.save()
        result.append(disposition)
    audit_record(
        organisation=locked[0].organisation,
        actor=acting_user,
        action="disposition.set",
        data={"status": status, "answers": ids, "response": response},
    )
    return result


@transaction.atomic
def dispositions_publish(*, round: FeedbackRound, acting_user: User) -> int:
    """Publish, in one batch, every unpublished disposition of a closed round; return how many.
    From then on they are visible to the participants and final. Each author is e-mailed once
    this commits (one e-mail per author and batch)."""
    feedback_round = _lock_round(round)
    if feedback_round.state() != FeedbackRound.State.CLOSED:
        raise RoundNotOpen(_("Dispositions are published once the round has closed."))
    now = timezone.now()
    count = Disposition.objects.filter(
        answer__round=feedback_round, published_at__isnull=True
    ).update(published_at=now)
    if not count:
        raise DomainError(_("There is no unpublished disposition in this round."))
    audit_record(
        organisation=feedback_round.organisation,
        actor=acting_user,
        action="dispositions.publish",
        target=feedback_round,
        data={"count": count},
    )
    notification_queue(
        "feedback_dispositions_published", feedback_round, organisation=feedback_round.organisation
    )
    return count


# --- The public synopsis ----------------------------------------------------------------------


def _synopsis_draft(feedback_round: FeedbackRound) -> Synopsis:
    """The round's draft synopsis (its introduction in the making), created when first needed,
    with the introduction of the latest published version to start from."""
    draft = Synopsis.objects.filter(round=feedback_round, published_at__isnull=True).first()
    if draft is not None:
        return draft
    latest = (
        Synopsis.objects.filter(round=feedback_round, published_at__isnull=False)
        .order_by("-version")
        .first()
    )
    return Synopsis.objects.create(
        organisation_id=feedback_round.organisation_id,
        round=feedback_round,
        intro=latest.intro if latest is not None else "",
    )


@transaction.atomic
def synopsis_intro_save(*, round: FeedbackRound, intro: str, acting_user: User) -> Synopsis:
    """Keep the introduction staff are writing for the round's next synopsis (on its draft row,
    which the public never sees). Writes an audit entry; sends nothing."""
    feedback_round = _lock_round(round)
    draft = _synopsis_draft(feedback_round)
    draft.intro = intro.strip()
    draft.full_clean(exclude=["organisation", "round", "published_by"])
    draft.save(update_fields=["intro", "updated_at"])
    audit_record(
        organisation=feedback_round.organisation,
        actor=acting_user,
        action="synopsis.intro_save",
        target=feedback_round,
        data={"intro": draft.intro},
    )
    return draft


@transaction.atomic
def synopsis_publish(
    *, round: FeedbackRound, acting_user: User, intro: str | None = None, typeset: bool = True
) -> Synopsis:
    """Publish the synopsis of a closed round as its next version: freeze what it shows now
    (``feedback.synopsis.synopsis_content``) and the draft's introduction (``intro``, when
    given, is saved on the draft first) on a new row, public from then on. Later changes to
    comments, dispositions or consents never alter a published version; publishing again makes
    a new one. Under the round's lock, so two clicks make two numbered versions, never the same
    number twice. Writes an audit entry; once committed, queues the version's PDF
    (``feedback.tasks.synopsis_pdf_build``) unless ``typeset`` is false (the demo in tests)."""
    from feedback.synopsis import synopsis_content

    feedback_round = _lock_round(round)
    if feedback_round.state() != FeedbackRound.State.CLOSED:
        raise RoundNotOpen(_("A synopsis is published once the round has closed."))
    draft = _synopsis_draft(feedback_round)
    if intro is not None and intro.strip() != draft.intro:
        draft.intro = intro.strip()
        draft.full_clean(exclude=["organisation", "round", "published_by"])
        draft.save(update_fields=["intro", "updated_at"])
    latest = (
        Synopsis.objects.filter(round=feedback_round, version__isnull=False)
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
    )
    published = Synopsis.objects.create(
        organisation_id=feedback_round.organisation_id,
        round=feedback_round,
        intro=draft.intro,
        version=(latest or 0) + 1,
        content=synopsis_content(feedback_round),
        published_at=timezone.now(),
        published_by=acting_user,
    )
    audit_record(
        organisation=feedback_round.organisation,
        actor=acting_user,
        action="synopsis.publish",
        target=feedback_round,
        data={"synopsis": published.pk, "version": published.version},
    )
    if typeset:
        transaction.on_commit(
            functools.partial(
                _queue_synopsis_pdf,
                organisation_id=published.organisation_id,
                synopsis_id=published.pk,
            )
        )
    return published


def _queue_synopsis_pdf(*, organisation_id: int, synopsis_id: int) -> None:
    from feedback.tasks import synopsis_pdf_build

    synopsis_pdf_build.delay(organisation_id=organisation_id, synopsis_id=synopsis_id)
