"""Template helpers of the committee's summary pages."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from feedback.charts import rating_chart as _rating_chart
from feedback.summaries import CriterionSummary, Distribution

register = template.Library()


@register.simple_tag
def rating_chart(distribution: Distribution, criterion: CriterionSummary) -> SafeString:
    """``{% rating_chart distribution criterion %}``: the SVG chart of one scale."""
    return _rating_chart(
        distribution,
        subject=f"{criterion.reference} {criterion.title}",
        id_prefix=f"chart-{criterion.pk}-{distribution.scale}",
    )
