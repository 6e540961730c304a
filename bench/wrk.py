"""Running wrk and reading what it prints: pure functions, so that the test suite can check them.

wrk's own summary gives the 50th, 75th, 90th and 99th latency percentiles; the 95th comes from a
Lua ``done()`` hook that prints one JSON line (``BENCH {...}``) with the figures the benchmark
keeps. The autosave script also changes each request (``request()``) and reads each answer
(``response()``) so that every save carries the version the previous one returned.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass

#: Printed by every script's done(): one line the parser looks for.
MARKER = "BENCH "

DONE = r"""
function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "non_2xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout))
end
"""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int
    socket_errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def clean(self) -> bool:
        """Every answer a 2xx or 3xx, and no connection dropped."""
        return self.non_2xx == 0 and self.socket_errors == 0 and self.requests > 0


def parse(output: str) -> WrkResult:
    """The figures of one wrk run, from the ``BENCH`` line our ``done()`` prints."""
    for line in output.splitlines():
        if line.startswith(MARKER):
            data = json.loads(line[len(MARKER) :])
            return WrkResult(
                requests=data["requests"],
                seconds=data["duration_us"] / 1e6,
                p50_ms=data["p50_us"] / 1000,
                p95_ms=data["p95_us"] / 1000,
                p99_ms=data["p99_us"] / 1000,
                max_ms=data["max_us"] / 1000,
                non_2xx=data["non_2xx"],
                socket_errors=data["socket_errors"],
            )
    raise ValueError("wrk printed no BENCH line: was the done() script loaded?")


_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)


def requests_per_second(output: str) -> float:
    """wrk's own ``Requests/sec:`` figure (a cross-check of ``WrkResult.rps``)."""
    found = _RATE.search(output)
    if found is None:
        raise ValueError("wrk printed no Requests/sec line")
    return float(found.group(1))


@dataclass(frozen=True)
class Goal:
    """The issue's goals for a page: a tenth of the trivial view's throughput, p95 < 150 ms."""

    min_ratio: float = 0.1
    max_p95_ms: float = 150.0

    def ratio(self, page: WrkResult, trivial: WrkResult) -> float:
        return page.rps / trivial.rps if trivial.rps else 0.0

    def met(self, page: WrkResult, trivial: WrkResult) -> tuple[bool, bool]:
        """(ratio met, p95 met)."""
        return self.ratio(page, trivial) >= self.min_ratio, page.p95_ms < self.max_p95_ms


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid Lua string literal for ASCII text


@dataclass(frozen=True)
class Saver:
    """One wrk thread's autosave target: its own participant and criterion, so that no two
    threads write the same answer and none meets a conflict."""

    path: str
    session: str
    csrf: str
    version: int
    email: str = ""  # whose answer it is, to read its version again between passes


def autosave_script(savers: list[Saver]) -> str:
    """A wrk script for ``-t len(savers) -c len(savers)``: thread n saves as ``savers[n]``,
    carrying the version the previous save returned (the hidden input of the answer)."""
    rows = ",\n".join(
        f"  {{path={_lua_string(s.path)}, "
        f"cookie={_lua_string(f'sessionid={s.session}; csrftoken={s.csrf}')}, "
        f"csrf={_lua_string(s.csrf)}, version={s.version}}}"
        for s in savers
    )
    return (
        "local targets = {\n"
        + rows
        + "\n}\n"
        + r"""
local made = 0
function setup(thread)
  made = made + 1
  local t = targets[made]
  thread:set("path", t.path)
  thread:set("cookie", t.cookie)
  thread:set("csrf", t.csrf)
  thread:set("version", t.version)
end

local n = 0
function request()
  n = n + 1
  local body = "comment=Save+" .. n .. "%3A+the+criterion+needs+examples.&version=" .. version
  return wrk.format("POST", path, {
    ["Cookie"] = cookie,
    ["X-CSRFToken"] = csrf,
    ["HX-Request"] = "true",
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, body)
end

function response(status, headers, body)
  if status == 200 then
    local v = string.match(body, 'name="version" value="(%d+)"')
    if v then version = tonumber(v) end
  end
end
"""
        + DONE
    )


def available() -> bool:
    return shutil.which("wrk") is not None


def run(
    url: str,
    *,
    seconds: float,
    connections: int = 16,
    threads: int = 2,
    headers: dict[str, str] | None = None,
    script: str = DONE,
    script_path: str,
) -> tuple[WrkResult, str]:
    """Run wrk once; return its figures and its whole output."""
    with open(script_path, "w") as handle:
        handle.write(script)
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "--timeout=10s",
        "-s",
        script_path,
    ]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    command.append(url)
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60)
    return parse(done.stdout), done.stdout
