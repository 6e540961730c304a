"""Rating charts as inline SVG, for the committee's pages and the PDF summaries alike.

A chart is an image (``role="img"``) named by its ``<title>``, which says every number the bars
show, so that a screen reader hears the same as a sighted reader sees; the pages show the
numbers in a table as well. No script, no external file: WeasyPrint and the browser draw the
same markup. Every text is escaped (``format_html``), although only numbers and our own labels
go in.
"""

from __future__ import annotations

from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from feedback.summaries import Distribution, Summary, Tally

WIDTH = 300
HEIGHT = 164
BASELINE = 120  # y of the bars' foot
TOP = 22  # room above the tallest bar for its count
BAR = 32
GAP = 16
LEFT = 8
# Colours with at least 4.5:1 contrast on white for the texts; bars from dark to light blue
# are not relied on to tell values apart (each bar is labelled).
INK = "#1f2328"
BAR_FILL = "#0b5cad"
NO_VIEW_FILL = "#6e7781"


def scale_names() -> list[str]:
    return [_("very low"), _("low"), _("moderate"), _("high"), _("very high")]


def describe(distribution: Distribution, subject: str) -> str:
    """The chart's numbers in one sentence, as its accessible name."""
    parts = [
        f"{value} ({name}): {count}"
        for (value, count), name in zip(distribution.pairs, scale_names(), strict=True)
    ]
    parts.append(_("no view: %(n)d") % {"n": distribution.no_view})
    mean = (
        _("mean %(mean)s of %(n)d ratings") % {"mean": distribution.mean, "n": distribution.rated}
        if distribution.mean is not None
        else _("no rating")
    )
    return f"{distribution.label}, {subject}: " + "; ".join(parts) + f". {mean}."


def rating_chart(distribution: Distribution, *, subject: str, id_prefix: str) -> SafeString:
    """A bar chart of 1-5 and "no view" for one scale of one criterion. ``id_prefix`` makes the
    title's id unique on the page; ``subject`` names the criterion in the accessible name."""
    values = [*distribution.counts, distribution.no_view]
    labels = ["1", "2", "3", "4", "5", _("none")]
    highest = max(values) or 1
    bars = []
    for index, (count, label) in enumerate(zip(values, labels, strict=True)):
        x = LEFT + index * (BAR + GAP)
        height = round((BASELINE - TOP) * count / highest)
        fill = NO_VIEW_FILL if index == len(values) - 1 else BAR_FILL
        bars.append(
            (
                x,
                BASELINE - height,
                BAR,
                height,
                fill,
                x + BAR // 2,
                BASELINE - height - 5,
                count,
                x + BAR // 2,
                BASELINE + 16,
                label,
            )
        )
    title_id = f"{id_prefix}-title"
    return format_html(
        '<svg class="rating-chart" role="img" aria-labelledby="{}" viewBox="0 0 {} {}" '
        'width="{}" height="{}" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{}">{}</title>'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="1"/>'
        "{}"
        '<text x="{}" y="{}" fill="{}" font-size="12" text-anchor="end">{}</text>'
        "</svg>",
        title_id,
        WIDTH,
        HEIGHT,
        WIDTH,
        HEIGHT,
        title_id,
        describe(distribution, subject),
        LEFT - 4,
        BASELINE,
        LEFT + 6 * (BAR + GAP) - GAP + 4,
        BASELINE,
        INK,
        format_html_join(
            "",
            '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>'
            '<text x="{}" y="{}" fill="' + INK + '" font-size="12" text-anchor="middle">{}</text>'
            '<text x="{}" y="{}" fill="' + INK + '" font-size="12" text-anchor="middle">{}</text>',
            bars,
        ),
        WIDTH - 4,
        HEIGHT - 4,
        INK,
        _("mean %(mean)s") % {"mean": distribution.mean}
        if distribution.mean is not None
        else _("no rating"),
    )


def tally_chart(chart_id: str, title: str, tallies: tuple[Tally, ...]) -> dict[str, Any]:
    """Respondents and answers per label, in the shape of ``includes/bar_chart.html``."""
    respondents, answers = _("Respondents"), _("Answers")
    top_people = max((t.respondents for t in tallies), default=0) or 1
    top_answers = max((t.answers for t in tallies), default=0) or 1
    return {
        "id": chart_id,
        "title": title,
        "series": [respondents, answers],
        "rows": [
            {
                "label": t.label,
                "values": [
                    {
                        "series": respondents,
                        "value": t.respondents,
                        "percent": round(100 * t.respondents / top_people),
                    },
                    {
                        "series": answers,
                        "value": t.answers,
                        "percent": round(100 * t.answers / top_answers),
                    },
                ],
            }
            for t in tallies
        ],
    }


def summary_tally_charts(summary: Summary) -> list[dict[str, Any]]:
    """The summary's response counts by group, by membership class and by region."""
    return [
        tally_chart("by-group", _("By working group"), summary.by_group),
        tally_chart("by-class", _("By membership class or affiliation"), summary.by_class),
        tally_chart("by-region", _("By region"), summary.by_region),
    ]
