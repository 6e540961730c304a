"""The benchmark's reading of wrk (``bench/wrk.py``): no server, no timing asserted."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string

from bench import wrk

# A real run: wrk 4.1.0 (Debian) with the benchmark's done() script, against a plain HTTP server.
REAL_OUTPUT = """\
Running 1s test @ http://127.0.0.1:8150/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     6.59ms    5.52ms  38.83ms   84.11%
    Req/Sec   819.82    384.13     1.64k    81.82%
  Latency Distribution
     50%    4.52ms
     75%    8.98ms
     90%   14.64ms
     99%   26.15ms
  899 requests in 1.03s, 2.22MB read
Requests/sec:    876.84
Transfer/sec:      2.16MB
BENCH {"requests": 899, "duration_us": 1025267, "p50_us": 4520, "p95_us": 18793, \
"p99_us": 26145, "max_us": 38832, "non_2xx": 0, "socket_errors": 0}
"""


def test_parse_reads_the_done_line_and_agrees_with_wrks_own_rate():
    result = wrk.parse(REAL_OUTPUT)

    assert (result.requests, result.p50_ms, result.p95_ms, result.p99_ms) == (
        899,
        4.52,
        18.793,
        26.145,
    )
    assert result.clean
    # Our rate (requests / duration) is the one wrk prints, to its rounding.
    assert result.rps == pytest.approx(wrk.requests_per_second(REAL_OUTPUT), abs=0.01)
    # The 50th and 99th percentiles are those of wrk's own latency distribution.
    assert "50%    4.52ms" in REAL_OUTPUT
    assert "99%   26.15ms" in REAL_OUTPUT


def test_parse_refuses_output_without_the_done_line():
    without = "\n".join(line for line in REAL_OUTPUT.splitlines() if "BENCH" not in line)

    with pytest.raises(ValueError, match="no BENCH line"):
        wrk.parse(without)


def test_a_run_with_error_answers_is_not_clean():
    failing = REAL_OUTPUT.replace('"non_2xx": 0', '"non_2xx": 12')

    assert not wrk.parse(failing).clean


def test_goals_compare_a_page_with_the_trivial_view():
    trivial = wrk.parse(REAL_OUTPUT)
    slow = wrk.parse(
        REAL_OUTPUT.replace('"requests": 899', '"requests": 80').replace(
            '"p95_us": 18793', '"p95_us": 151000'
        )
    )
    goal = wrk.Goal()

    assert goal.ratio(slow, trivial) == pytest.approx(80 / 899)
    assert goal.met(slow, trivial) == (False, False)
    assert goal.met(trivial, trivial) == (True, True)


def test_autosave_script_gives_each_thread_its_answer_and_reads_the_returned_version():
    savers = [
        wrk.Saver("/asi/feedback/rounds/2/criteria/5/autosave/", "s1", "c" * 32, 3),
        wrk.Saver("/asi/feedback/rounds/2/criteria/6/autosave/", "s2", "d" * 32, 0),
    ]
    script = wrk.autosave_script(savers)

    assert 'path="/asi/feedback/rounds/2/criteria/6/autosave/"' in script
    assert f'cookie="sessionid=s1; csrftoken={"c" * 32}", csrf="{"c" * 32}", version=3' in script
    assert "latency:percentile(95)" in script
    # The script's Lua pattern name="version" value="(%d+)" must find the autosave's answer.
    fragment = render_to_string(
        "feedback/includes/save_state.html", {"state": "saved", "message": "Saved", "version": 4}
    )
    assert 'name="version" value="4"' in fragment


def test_a_repeated_page_keeps_its_median_pass_whole():
    from bench.run import median_pass

    passes = [
        {"rps": 100.0, "p50_ms": 150.0, "p95_ms": 170.0, "trivial_rps": 2000.0},  # 0.050
        {"rps": 90.0, "p50_ms": 160.0, "p95_ms": 190.0, "trivial_rps": 3000.0},  # 0.030
        {"rps": 120.0, "p50_ms": 130.0, "p95_ms": 160.0, "trivial_rps": 3000.0},  # 0.040
    ]
    chosen = median_pass(passes)
    # The median ratio's pass, with its own figures (not the median of each figure apart).
    assert (chosen["rps"], chosen["p95_ms"], chosen["trivial_rps"]) == (120.0, 160.0, 3000.0)
    assert [p["rps"] for p in chosen["passes"]] == [100.0, 90.0, 120.0]
    # One pass is kept as it was; a page that answered no pass keeps its status.
    assert median_pass(passes[:1]) == passes[0]
    assert median_pass([{"status": 500}]) == {"status": 500}
