"""axe-core in the browser tests: every page a test visits can be checked against WCAG 2.x A/AA.

axe.min.js comes inside the `axe-playwright-python` wheel (a dev dependency), so nothing is
downloaded while the tests run. We inject it ourselves rather than use the package's wrapper:
the wrapper evaluates the script text on each call and returns a report meant for printing,
while here a test needs the list of violations to assert on and a message that names the page.

    from tests.e2e.axe import assert_accessible
    page.goto("/asi/")
    assert_accessible(page)
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Page

# WCAG 2.0, 2.1 and 2.2, levels A and AA (axe has no separate "wcag22a" tag: the only new
# 2.2 A/AA criteria it checks are tagged wcag22aa, e.g. target-size).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

RUN_AXE = """async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({
      target: n.target.map((t) => (Array.isArray(t) ? t.join(" >>> ") : t)).join(", "),
      html: n.html,
      summary: n.failureSummary || "",
    })),
  }));
}"""


@cache
def axe_source() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """The WCAG 2.x A/AA violations axe finds on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated rather than added as a <script>: a Content-Security-Policy cannot block it.
        page.evaluate(axe_source())
    violations: list[dict[str, Any]] = page.evaluate(RUN_AXE, WCAG_TAGS)
    return violations


def format_violations(url: str, violations: list[dict[str, Any]]) -> str:
    """A readable report: page, rule id, impact, help, and each offending element."""
    lines = [f"{url}: {len(violations)} accessibility violation(s)"]
    for violation in violations:
        lines.append(
            f"  [{violation['id']}] ({violation['impact']}) {violation['help']}"
            f" - {violation['helpUrl']}"
        )
        for node in violation["nodes"]:
            lines.append(f"      {node['target']}")
            lines.append(f"          {node['html'][:160]}")
            summary = " ".join(node["summary"].split())
            if summary:
                lines.append(f"          {summary[:300]}")
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    """Fails with a readable list of violations unless axe finds none on the page."""
    violations = axe_violations(page)
    assert not violations, format_violations(page.url, violations)
