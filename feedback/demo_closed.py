"""The feedback demo's closed round: Circularity's scoping round on cross-cutting criteria, closed
a month ago, with a few hundred answers from its seated participants, and the secretariat's
dispositions on most comments, a first batch of them published and more written since.

Circularity is the only demo group with seated participants (30, see ``membership.demo``), so the
closed round is theirs too, on other criteria of the same draft than the open round.

Speed: the round is made by ``services.round_create``, but its answers and dispositions are bulk
inserts (a few queries instead of thousands: ``load_demo`` runs on every ``make run`` and in the
browser tests). The rows are those the services would write: only seated participants who
acknowledged the antitrust policy answer; versions of 1 or more, ``submitted_at`` for submitted
answers and empty for drafts, times inside the round's opening; referrals only to other groups;
dispositions decided after the round closed, the published ones all at one moment (one batch).
The audit entries the services would write are left out: the demo has no history to audit.
Deterministic (a seeded ``random.Random``), so every load makes the same round.
"""

from __future__ import annotations

import datetime
import random

from django.utils import timezone

from asi_wg.models import Organisation, User
from feedback import services
from feedback.models import Answer, Criterion, Disposition, DraftDocument, Framework
from groups.models import RevisionObjective, WorkingGroup
from membership.models import AntitrustAcknowledgement, Seat
from membership.selectors import current_policy

TITLE = "Cross-cutting criteria: scoping round"
INSTRUCTIONS = (
    "A first look at the criteria that touch circularity from other groups' areas: are they "
    "relevant to recycled and secondary aluminium, clear, and feasible along the value chain?"
)
CRITERIA = 20
ANSWER_RATE = 0.55  # about 28 people x 20 criteria x 0.55: some 300 answers
DAY = datetime.timedelta(days=1)

# Short comments: each phrasing names the criterion's topic ({topic}).
COMMENTS = [
    "The requirement on {topic} is relevant, but 'documented approach' is vague for small "
    "downstream users.",
    "Please give examples of evidence for {topic}; auditors will read it differently.",
    "{Topic}: a review every three years is too slow for fast-changing supply chains.",
    "We support the intent on {topic}, but the wording mixes requirements and guidance.",
    "Feasible for smelters; for casthouses and remelters {topic} needs a lighter version.",
    "Align the wording on {topic} with ISO 14001 so certified sites can reuse their system.",
    "The criterion on {topic} should say who is responsible, not only that someone is.",
    "Scrap traders cannot meet the {topic} requirement as written: add a threshold by size.",
    "Good addition. Consider a transition period of two years for {topic}.",
    "'Documented approach' to {topic} could be read as a policy only; ask for implementation.",
    "The guidance on {topic} repeats the criterion; it should explain what good looks like.",
    "{Topic} overlaps with the Chain of Custody claims: cross-reference rather than repeat.",
    "Clarify whether {topic} applies to the whole company or only to the certified sites.",
    "Relevant and clear. Feasibility depends on data from suppliers we do not control.",
    "The objectives for {topic} should be measurable, otherwise audits will be subjective.",
    "Editorial: 'entity' and 'company' are both used for {topic}; use one term.",
    "This criterion on {topic} is a good step; smaller Members will need templates.",
    "Pre-consumer scrap should be named explicitly in the criterion on {topic}.",
    "Make the link between {topic} and the GHG Protocol scope 3 categories explicit.",
    "IRMA covers {topic} for mines in more detail; consider recognising it.",
    "Stakeholder engagement is missing from {topic}; who is consulted and when?",
    "We propose to split {topic} into a core requirement and a good-practice level.",
    "The three-year review should follow significant changes too, not only the calendar.",
    "Downstream users rarely hold this information; the requirement on {topic} needs a "
    "proportionate route.",
    "{Topic} is fine in principle, but the numbering of the sub-criteria is confusing.",
    "The criterion on {topic} should mention the EU Green Claims Directive for product claims.",
    "Please define 'responsibilities' for {topic}: a named role, a function, or a committee?",
    "Recycled content claims depend on {topic}: the two should be audited together.",
    "Relevant for us as a converter; unclear how {topic} applies to toll processing.",
    "Not clear how {topic} applies to sites that only trade metal without handling it.",
]
PROPOSED_CHANGES = [
    "Replace 'documented approach' with 'documented and implemented approach'.",
    "Add: 'proportionate to the size and activities of the entity'.",
    "Move the second sentence to the guidance.",
    "Add a threshold: entities under 50 employees may use the simplified route.",
    "Replace 'at least every three years' with 'at least every three years and after "
    "significant changes'.",
    "Add a reference to the relevant ISO clause in the guidance.",
    "Split into 5.x.1 (policy) and 5.x.2 (implementation and review).",
    "Name pre-consumer and post-consumer scrap explicitly.",
]
RISKS = [
    "Risk: small downstream Members may leave certification if the cost rises too much.",
    "Opportunity: a common approach would make recycled content claims comparable.",
    "Risk of double auditing for sites already certified against ISO 14001.",
    "Opportunity: early alignment with the EU rules on recycled content.",
    "Longer term, supplier data platforms could make this much cheaper to evidence.",
]
RESPONSES = {
    Disposition.Status.ACCEPTED: [
        "Accepted: the wording will be changed in the next draft.",
        "Accepted. The guidance will give examples of evidence.",
        "Thank you, accepted as proposed.",
    ],
    Disposition.Status.ACCEPTED_MODIFIED: [
        "Accepted in part: the threshold will be set by activity rather than by size.",
        "Accepted with a modification: the point moves to the guidance, not the criterion.",
        "The intent is accepted; the secretariat proposes a shorter wording.",
    ],
    Disposition.Status.NOTED: [
        "Noted: the working group will discuss this at its next meeting.",
        "Noted, and shared with the Standards Committee as a broader perspective.",
        "Thank you for the context; noted for the guidance revision.",
    ],
    Disposition.Status.NOT_ACCEPTED: [
        "Not accepted: the Terms of Reference keep this requirement for all entities.",
        "Not accepted: the existing wording already covers this case.",
    ],
    Disposition.Status.REFERRED: [
        "Referred to the responsible working group, which will answer in its round.",
    ],
}
STATUSES = [
    Disposition.Status.ACCEPTED,
    Disposition.Status.ACCEPTED_MODIFIED,
    Disposition.Status.ACCEPTED_MODIFIED,
    Disposition.Status.NOTED,
    Disposition.Status.NOTED,
    Disposition.Status.NOTED,
    Disposition.Status.NOT_ACCEPTED,
]
# Ratings lean positive, with some "no view" (0) and some left blank (None).
RATINGS = [5, 5, 4, 4, 4, 4, 3, 3, 3, 2, 2, 1, 0, None]


def _topic(criterion: Criterion) -> str:
    title = criterion.title.rstrip(".")
    return title[0].lower() + title[1:] if title else criterion.reference


def _answerers(organisation: Organisation, group: WorkingGroup) -> list[User]:
    """The group's seated participants who acknowledged the current antitrust policy: those the
    services let answer."""
    policy = current_policy(organisation)
    acknowledged = set(
        AntitrustAcknowledgement.objects.filter(policy=policy).values_list("user_id", flat=True)
    )
    seated = (
        Seat.objects.filter(group=group, ended_at__isnull=True, holder__is_active=True)
        .select_related("holder")
        .order_by("holder__email")
    )
    return [seat.holder for seat in seated if seat.holder_id in acknowledged]


def load(
    organisation: Organisation,
    staff: User,
    document: DraftDocument,
    group: WorkingGroup,
    criteria: list[Criterion],
) -> None:
    rng = random.Random(8)  # noqa: S311 - demo data, not security
    now = timezone.now()
    opens_at, closes_at = now - 60 * DAY, now - 30 * DAY
    published_at = now - 20 * DAY
    mine = [c for c in criteria if group in c.groups.all()]
    others = [c for c in criteria if c not in mine]
    chosen = sorted(others[:CRITERIA], key=lambda c: c.sort_key)
    feedback_round = services.round_create(
        group=group,
        document=document,
        title=TITLE,
        criteria=chosen,
        opens_at=opens_at,
        closes_at=closes_at,
        instructions=INSTRUCTIONS,
        acting_user=staff,
    )
    people = _answerers(organisation, group)
    frameworks = list(Framework.objects.filter(organisation=organisation))
    objectives = list(RevisionObjective.objects.filter(organisation=organisation))
    referral_groups = list(
        WorkingGroup.objects.filter(organisation=organisation, parent__isnull=True).exclude(
            pk=group.pk
        )
    )

    answers: list[Answer] = []
    saved_times: list[datetime.datetime] = []
    for person in people:
        for criterion in chosen:
            if rng.random() > ANSWER_RATE:
                continue
            commented = rng.random() < 0.85
            draft = rng.random() < 0.08
            saved_at = opens_at + datetime.timedelta(seconds=rng.randrange(29 * 24 * 3600))
            answer = Answer(
                organisation=organisation,
                round=feedback_round,
                criterion=criterion,
                author=person,
                relevance=rng.choice(RATINGS),
                clarity=rng.choice(RATINGS),
                feasibility=rng.choice(RATINGS),
                version=rng.choice((1, 1, 2, 3)),
                submitted_at=None if draft else saved_at,
            )
            if commented:
                answer.comment = rng.choice(COMMENTS).format(
                    topic=_topic(criterion), Topic=_topic(criterion).capitalize()
                )
                answer.comment_type = rng.choice(
                    [Answer.CommentType.GENERAL] * 2
                    + [Answer.CommentType.TECHNICAL] * 2
                    + [Answer.CommentType.EDITORIAL]
                )
                if rng.random() < 0.4:
                    answer.proposed_change = rng.choice(PROPOSED_CHANGES)
                if rng.random() < 0.3:
                    answer.risks_opportunities = rng.choice(RISKS)
                if rng.random() < 0.12:
                    answer.referred_to = rng.choice(referral_groups)
            answers.append(answer)
            saved_times.append(saved_at)
    Answer.objects.bulk_create(answers, batch_size=500)
    # auto_now fields took the loading time: put them back inside the round's opening.
    saved = {(a.criterion_id, a.author_id): at for a, at in zip(answers, saved_times, strict=True)}
    stored = list(
        Answer.objects.filter(round=feedback_round).only("pk", "criterion_id", "author_id")
    )
    for answer in stored:
        answer.created_at = answer.updated_at = saved[(answer.criterion_id, answer.author_id)]
    Answer.objects.bulk_update(stored, ["created_at", "updated_at"], batch_size=500)
    by_key = {(a.criterion_id, a.author_id): a.pk for a in stored}

    framework_rows = []
    objective_rows = []
    dispositions = []
    for answer in answers:
        pk = by_key[(answer.criterion_id, answer.author_id)]
        framework_rows += [
            Answer.frameworks.through(answer_id=pk, framework_id=f.pk)
            for f in rng.sample(frameworks, rng.choice((0, 0, 1, 1, 2)))
        ]
        objective_rows += [
            Answer.objectives.through(answer_id=pk, revisionobjective_id=o.pk)
            for o in rng.sample(objectives, min(len(objectives), rng.choice((0, 1, 1, 2))))
        ]
        # The secretariat answers most submitted comments; a first batch is published.
        if not answer.comment or answer.submitted_at is None or rng.random() < 0.15:
            continue
        status = Disposition.Status.REFERRED if answer.referred_to else rng.choice(STATUSES)
        published = rng.random() < 0.6
        dispositions.append(
            Disposition(
                organisation=organisation,
                answer_id=pk,
                status=status,
                response=rng.choice(RESPONSES[status]),
                decided_by=staff,
                decided_at=closes_at + datetime.timedelta(days=rng.choice((2, 4, 7))),
                published_at=published_at if published else None,
            )
        )
    for disposition in dispositions:
        if disposition.published_at is None:
            # Written after the batch went out: published with the next one.
            disposition.decided_at = published_at + datetime.timedelta(days=rng.choice((1, 3, 5)))
    Answer.frameworks.through.objects.bulk_create(framework_rows, batch_size=500)
    Answer.objectives.through.objects.bulk_create(objective_rows, batch_size=500)
    Disposition.objects.bulk_create(dispositions, batch_size=500)
