"""The feedback demo: ASI's list of frameworks, a draft Performance Standard V4 whose criteria are
drawn from the groups' focus areas, an open round for Circularity in which participant@asi.example
has answers drafted, and a closed round with a few hundred answers and dispositions, some
published (``feedback.demo_closed``), whose PDF summary is ready for the committee
(``feedback.demo_pdf``). Safe to run again."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_scopes import scope

from asi_wg.demo import Demo
from feedback import demo_closed, demo_pdf, demo_synopsis, services
from feedback.models import Answer, Criterion, Disposition, DraftDocument, FeedbackRound, Framework
from groups.models import FocusArea, Standard, WorkingGroup
from membership import services as membership_services

FRAMEWORKS = [
    "ISO 14001",
    "ISO 45001",
    "ISO 59004",
    "GHG Protocol",
    "SBTi",
    "ICMM Mining Principles",
    "IRMA Standard",
    "ILO core conventions",
    "UN Guiding Principles on Business and Human Rights",
    "EU Green Claims Directive",
]
VERSION_LABEL = "Performance Standard V4, consultation draft 1"
OPEN_TITLE = "Circularity criteria: first round"
CLOSED_TITLE = demo_closed.TITLE
GUIDANCE = (
    "The entity should be able to show how the requirement is met across the sites and "
    "activities in the scope of its certification, with evidence proportionate to its size."
)


def _criteria(document: DraftDocument) -> list[Criterion]:
    """One criterion per top-level focus area of each group, numbered by group and area."""
    made = []
    groups = WorkingGroup.objects.filter(
        organisation=document.organisation, parent__isnull=True
    ).order_by("number")
    for group in groups:
        areas = FocusArea.objects.filter(group=group, parent__isnull=True).order_by("position")
        for index, area in enumerate(areas, start=1):
            criterion, _created = Criterion.objects.get_or_create(
                document=document,
                reference=f"{group.number}.{index}",
                defaults={
                    "organisation": document.organisation,
                    "title": area.title[:300],
                    "text": (
                        f"The entity shall have a documented approach to {area.title[0].lower()}"
                        f"{area.title[1:]}, with objectives, responsibilities and a review at "
                        "least every three years."
                    ),
                    "guidance": GUIDANCE,
                },
            )
            criterion.groups.add(group)
            made.append(criterion)
    return made


@transaction.atomic
def load(demo: Demo) -> None:
    asi = demo.organisations["asi"]
    staff = demo.users["asi_secretariat"]
    participant = demo.users["asi_participant"]
    with scope(organisation=asi), membership_services.quiet():
        for position, name in enumerate(FRAMEWORKS, start=1):
            Framework.objects.get_or_create(
                organisation=asi, name=name, defaults={"position": position}
            )
        document, _created = DraftDocument.objects.get_or_create(
            organisation=asi,
            version_label=VERSION_LABEL,
            defaults={
                "standard": Standard.objects.get(organisation=asi, name="Performance Standard"),
                "status": DraftDocument.Status.CONSULTATION,
            },
        )
        criteria = _criteria(document)
        circularity = WorkingGroup.objects.get(organisation=asi, slug="circularity")
        if not FeedbackRound.objects.filter(group=circularity, title=CLOSED_TITLE).exists():
            demo_closed.load(asi, staff, document, circularity, criteria)
        demo_synopsis.load(
            asi, staff, FeedbackRound.objects.get(group=circularity, title=CLOSED_TITLE)
        )
        if settings.DEMO_PDF_SUMMARY:
            demo_pdf.load(
                asi,
                demo.users["asi_committee"],
                FeedbackRound.objects.select_related("group", "document").get(
                    group=circularity, title=CLOSED_TITLE
                ),
            )
        if FeedbackRound.objects.filter(group=circularity, title=OPEN_TITLE).exists():
            return
        now = timezone.now()
        mine = [c for c in criteria if circularity in c.groups.all()]
        feedback_round = services.round_create(
            group=circularity,
            document=document,
            title=OPEN_TITLE,
            criteria=mine,
            opens_at=now - datetime.timedelta(days=5),
            closes_at=now + datetime.timedelta(days=9),
            instructions=(
                "Tell us whether each criterion is relevant, clear and feasible to implement "
                "across the value chain, and where it aligns with or misses other frameworks."
            ),
            acting_user=staff,
        )
        for criterion, comment in zip(
            mine[:2],
            (
                "Relevant, but 'documented approach' needs examples for small downstream users.",
                "Align the review cycle with ISO 14001's management review.",
            ),
            strict=False,
        ):
            services.answer_save(
                round=feedback_round,
                criterion=criterion,
                user=participant,
                data={"relevance": 5, "clarity": 3, "feasibility": 4, "comment": comment},
                expected_version=0,
            )
        # An early decision while the round is open, then the comment rewritten after it: the
        # round's triage flags it as changed after the disposition was written.
        first = Answer.objects.get(round=feedback_round, criterion=mine[0], author=participant)
        services.disposition_set(
            answers=[first],
            status=Disposition.Status.ACCEPTED_MODIFIED,
            response="Examples for small downstream users will go into the guidance.",
            acting_user=staff,
        )
        services.answer_save(
            round=feedback_round,
            criterion=mine[0],
            user=participant,
            data={"comment": f"{first.comment} Traders who never hold the metal need them too."},
            expected_version=first.version,
        )
