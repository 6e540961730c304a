"""The demo's published synopsis: the closed Circularity round's comments as the public reads
them at /asi/synopses/. A few of the round's Members agreed to be named in publications (the
others show as their membership class and region). Safe to run again: a round that already has
a published version is left alone."""

from __future__ import annotations

from django.conf import settings

from asi_wg.models import Organisation, User
from feedback import services
from feedback.models import FeedbackRound, Synopsis
from membership.models import Member, Seat

INTRO = (
    "From its scoping round on the cross-cutting criteria, the Circularity working group sent "
    "the comments summarised below. The secretariat has answered each comment; the responses "
    "published so far are shown with them.\n\n"
    "Comments are attributed to a Member only where the Member agreed to be named, otherwise "
    "to its membership class and region. No individual is named.\n\n"
    "The next draft of the Performance Standard will be open for public consultation."
)
NAMED_MEMBERS = 3  # of the round's Members, by name: enough to show both attributions


def load(organisation: Organisation, staff: User, feedback_round: FeedbackRound) -> None:
    if Synopsis.objects.filter(round=feedback_round, published_at__isnull=False).exists():
        return
    names = sorted(
        set(
            Seat.objects.filter(group=feedback_round.group, member__isnull=False).values_list(
                "member__name", flat=True
            )
        )
    )[:NAMED_MEMBERS]
    Member.objects.filter(organisation=organisation, name__in=names).update(
        name_in_publications=True
    )
    # Its PDF is typeset by the worker; the tests' demo leaves it out (DEMO_PDF_SUMMARY).
    services.synopsis_publish(
        round=feedback_round, acting_user=staff, intro=INTRO, typeset=settings.DEMO_PDF_SUMMARY
    )
