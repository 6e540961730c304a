"""The publishable synopsis of a round: what it says, built from the committee summary data.

Its rules, on top of the summary's (submitted answers only, natural order of criteria):

- **No person is named**, ever, consent or not: the synopsis is about what was said.
- **A Member is named only if it agreed** (``Member.name_in_publications``); otherwise the
  comment is attributed to its membership class and region. IPAF participants and technical
  experts are shown by their category and region (an expert's organisation is not a Member and
  has no such consent).
- **Only published dispositions**: a comment whose disposition is not published yet says that
  its response is pending. The synopsis is public; a draft disposition is not.
- **Themes** are the revision objectives the commenter tagged (a comment appears under the
  first of them, by number, so that it is counted once); untagged comments come last under
  "Other comments".

``synopsis_content`` returns plain JSON, which ``feedback.services.synopsis_publish`` stores on
the published row, and which the staff preview and the public page render with the same
template: the preview shows exactly what publishing would freeze.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from asi_wg.models import Organisation
from feedback.models import FeedbackRound, Synopsis
from feedback.summaries import Attribution, Comment, summary_for_round
from membership.models import Member, MembershipClass

logger = logging.getLogger(__name__)

# Raise when the shape of ``content`` changes (published rows keep the shape of their time).
CONTENT_FORMAT = 1


def _publishable_name(who: Attribution, named_members: set[str], classes: set[str]) -> str:
    """How a public document attributes a comment: never a person; a Member only with its
    consent; otherwise its membership class (or category) and region."""
    is_member = who.membership_class in classes
    if is_member and who.organisation.lower() in named_members:
        return f"{who.organisation} ({who.membership_class}, {who.region})"
    return f"{who.membership_class}, {who.region}"


def _theme(comment: Comment) -> str:
    return comment.objectives[0] if comment.objectives else ""


def _item(comment: Comment, named: set[str], classes: set[str]) -> dict[str, Any]:
    disposition = comment.disposition
    published = disposition is not None and disposition.published
    return {
        "by": _publishable_name(comment.attribution, named, classes),
        "type": comment.comment_type_label,
        "comment": comment.comment.strip(),
        "proposed_change": comment.proposed_change.strip(),
        "risks": comment.risks_opportunities.strip(),
        "disposition": disposition.status_label if published and disposition else "",
        "response": disposition.response.strip() if published and disposition else "",
    }


def synopsis_content(feedback_round: FeedbackRound) -> dict[str, Any]:
    """What the synopsis of the round shows now, as JSON (strings, numbers, lists, dicts)."""
    summary = summary_for_round(feedback_round)
    organisation_id = feedback_round.organisation_id
    named = {
        name.lower()
        for name in Member.objects.filter(
            organisation_id=organisation_id, name_in_publications=True
        ).values_list("name", flat=True)
    }
    classes = set(
        MembershipClass.objects.filter(organisation_id=organisation_id).values_list(
            "name", flat=True
        )
    )
    addressed: Counter[str] = Counter()
    pending = 0
    criteria = []
    for criterion in summary.criteria:
        themes: dict[str, list[dict[str, Any]]] = {}
        for comment in criterion.comments:
            item = _item(comment, named, classes)
            themes.setdefault(_theme(comment), []).append(item)
            if item["disposition"]:
                addressed[item["disposition"]] += 1
            else:
                pending += 1
        ordered = sorted(themes.items(), key=lambda pair: (pair[0] == "", pair[0]))
        criteria.append(
            {
                "reference": criterion.reference,
                "title": criterion.title,
                "answers": criterion.answers,
                "comments": len(criterion.comments),
                "themes": [
                    {"theme": theme or _("Other comments"), "comments": items}
                    for theme, items in ordered
                ],
            }
        )
    round_info = summary.rounds[0] if summary.rounds else None
    return {
        "format": CONTENT_FORMAT,
        "organisation": summary.organisation,
        "round": {
            "title": feedback_round.title,
            "group": feedback_round.group.name,
            "document": summary.document_label,
            "opens": timezone.localdate(feedback_round.opens_at).isoformat(),
            "closes": timezone.localdate(
                round_info.closes_at if round_info else feedback_round.closed_at
            ).isoformat(),
        },
        "respondents": summary.respondents,
        "answers": summary.answers,
        "comments": sum(c["comments"] for c in criteria),
        "by_class": [[t.label, t.respondents] for t in summary.by_class],
        "by_region": [[t.label, t.respondents] for t in summary.by_region],
        "addressed": sorted(addressed.items(), key=lambda pair: (-pair[1], pair[0])),
        "pending": pending,
        "criteria": criteria,
    }


# --- Reads for the pages ----------------------------------------------------------------------


def published_synopses(organisation_id: int) -> list[Synopsis]:
    """The latest published version of each round's synopsis, latest published first."""
    latest: dict[int, Synopsis] = {}
    rows = (
        Synopsis.objects.filter(organisation_id=organisation_id, published_at__isnull=False)
        .select_related("round__group", "round__document")
        .order_by("round_id", "-version")
    )
    for synopsis in rows:
        latest.setdefault(synopsis.round_id, synopsis)
    return sorted(latest.values(), key=lambda s: (s.published_at, s.pk), reverse=True)


def published_synopsis(organisation_id: int, pk: int) -> Synopsis | None:
    """A published version by its id, or None (a draft, another tenant's, or no such row)."""
    return (
        Synopsis.objects.filter(organisation_id=organisation_id, pk=pk, published_at__isnull=False)
        .select_related("round__group", "round__document")
        .first()
    )


def synopsis_versions(feedback_round: FeedbackRound) -> list[Synopsis]:
    """The round's published versions, latest first."""
    return list(
        Synopsis.objects.filter(round=feedback_round, published_at__isnull=False)
        .select_related("published_by")
        .order_by("-version")
    )


def latest_version(synopsis: Synopsis) -> int:
    """The highest published version of the synopsis' round."""
    return (
        Synopsis.objects.filter(round_id=synopsis.round_id, published_at__isnull=False)
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
        or 0
    )


# --- The PDF ----------------------------------------------------------------------------------


def synopsis_pdf_context(synopsis: Synopsis) -> dict[str, Any]:
    from meetings import markdown

    return {
        "synopsis": synopsis,
        "content": synopsis.content,
        "intro_html": markdown.render(synopsis.intro),
    }


def synopsis_pdf_build(*, organisation: Organisation, synopsis_id: int) -> bool:
    """Typeset a published version's PDF once and keep it; True when it is (now) there. The
    content is the frozen JSON, so the PDF says exactly what the public page says."""
    from django.core.files.base import ContentFile

    from feedback.pdf import render

    synopsis = (
        Synopsis.objects.filter(
            organisation=organisation, pk=synopsis_id, published_at__isnull=False
        )
        .select_related("round__group", "round__document", "organisation")
        .first()
    )
    if synopsis is None:
        logger.info("synopsis %s is gone or not published; no PDF", synopsis_id)
        return False
    if synopsis.pdf:
        return True
    pdf = render("feedback/pdf/synopsis.html", synopsis_pdf_context(synopsis))
    name = f"synopsis-{synopsis.round_id}-v{synopsis.version}.pdf"
    synopsis.pdf.save(name, ContentFile(pdf), save=False)
    # Kept only if no other run (a redelivered job) recorded its file meanwhile: the first file
    # recorded stays, and this one is removed rather than left behind unreferenced.
    if not Synopsis.objects.filter(pk=synopsis.pk, pdf="").update(pdf=synopsis.pdf.name):
        logger.info("synopsis %s got its PDF from another run; this one is dropped", synopsis_id)
        synopsis.pdf.delete(save=False)
    return True
