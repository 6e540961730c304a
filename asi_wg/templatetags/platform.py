from __future__ import annotations

from typing import Any

from django import template
from django.forms.boundfield import BoundWidget
from django.template.base import FilterExpression, Parser, Token
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from asi_wg.caching import public_cached
from asi_wg.urls_helpers import root_reverse

register = template.Library()


@register.simple_tag
def root_url(viewname: str, **kwargs: Any) -> str:
    """Like {% url %}, but correct in every page, the mounted tenant admin included."""
    return root_reverse(viewname, kwargs=kwargs or None)


class PublicFragmentNode(template.Node):
    def __init__(
        self, nodelist: template.NodeList, name: FilterExpression, parts: list[FilterExpression]
    ) -> None:
        self.nodelist = nodelist
        self.name = name
        self.parts = parts

    def render(self, context: template.Context) -> str:
        organisation = context.get("organisation")
        if organisation is None:
            return self.nodelist.render(context)
        return public_cached(
            organisation.pk,
            self.name.resolve(context),
            *(part.resolve(context) for part in self.parts),
            build=lambda: self.nodelist.render(context),
        )


@register.tag
def public_fragment(parser: Parser, token: Token) -> PublicFragmentNode:
    """``{% public_fragment "name" part... %}...{% endpublic_fragment %}``: the enclosed markup,
    rendered once for every visitor of the tenant and cached until its public data changes
    (``asi_wg.caching``). Only for markup that is the same for everyone: nothing of the person
    asking (their name, roles, answers) may appear inside. The variables it reads should be
    lazy (querysets, ``cached_property``) so that a cached fragment costs no query."""
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError(f"{bits[0]} needs a fragment name.")
    nodelist = parser.parse(("endpublic_fragment",))
    parser.delete_first_token()
    return PublicFragmentNode(
        nodelist, parser.compile_filter(bits[1]), [parser.compile_filter(b) for b in bits[2:]]
    )


_OPTION_TEMPLATES = {
    "django/forms/widgets/radio_option.html",
    "django/forms/widgets/checkbox_option.html",
    "django/forms/widgets/input_option.html",
}


@register.filter
def option_input(choice: BoundWidget) -> str:
    """``{{ choice|option_input }}``: the markup of ``{{ choice.tag }}`` for one radio or
    checkbox of a choice field, without rendering three templates per option (a long form of
    scales and checkboxes renders a hundred of them). Anything else falls back to ``tag()``."""
    data = choice.data
    if data.get("template_name", choice.template_name) not in _OPTION_TEMPLATES:
        return choice.tag()
    html = format_html('<input type="{}" name="{}"', data["type"], data["name"])
    if data["value"] is not None:
        html += format_html(' value="{}"', data["value"])
    for name, value in data["attrs"].items():
        if value is True:
            html += format_html(" {}", name)
        elif value is not False:
            html += format_html(' {}="{}"', name, value)
    return mark_safe(html + ">")  # noqa: S308  (every part above is escaped by format_html)
