"""``make bench``: the pages, query counts, jobs and memory of issue 10, in one table.

    .venv/bin/python bench/run.py [--quick] [--workers N] [--seconds S] [--keep]

On PostgreSQL (``BENCH_DATABASE_URL``, default a throw-away ``asi_wg_bench`` on 127.0.0.1) and
Redis (``REDIS_URL``, default database 2; the jobs' broker is the next database): creates the
database, migrates, loads the demo with ``--scale 1``, serves it with gunicorn (production
settings over plain HTTP, persistent database connections), signs the demo accounts in (a
session in the database each) and runs wrk with 16 connections against every page of the issue
and a trivial view (``/bench/trivial``, ``bench/urls.py``) in the same run. Then counts each
page's queries at ``--scale 1`` and, after loading the tenants up to ``--scale 20``, again;
then times the jobs in a process of their own (``bench/jobs.py``). Prints one table and writes
the figures to ``bench/results/<UTC time>.json``. The database is dropped at the end unless
``--keep``.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import wrk  # noqa: E402
from bench.autosave_bench import _drop_database, _prepare_database, _serve  # noqa: E402

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/asi_wg_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/2"
PORTS = range(8100, 8200)
CONNECTIONS = 16
# What a browser says it accepts: pages go out in gzip (asi_wg.compression).
BROWSER_ENCODINGS = "gzip, deflate, br"
MAX_QUERIES = 15
JOBS = ("slate", "promotion", "reminders", "pdf")
#: bench/jobs.py's sizes: the issue's, and --quick's.
JOB_SIZES = (("reminders", 10_000, 500), ("promotions", 1_000, 200), ("pdf-comments", 2_000, 200))
GOALS = {"slate_s": 1.0, "reminders_s": 60.0, "pdf_ratio": 1.1}
PYTHON = str(ROOT / ".venv" / "bin" / "python")


def default_workers() -> int:
    """``WEB_CONCURRENCY`` when set (gunicorn's own variable, which the Dockerfile's web process
    reads), else the usual figure for sync workers: two per core, plus one."""
    return int(os.environ.get("WEB_CONCURRENCY") or 2 * (os.cpu_count() or 1) + 1)


def _environment(database: str, redis: str) -> dict[str, str]:
    """Production settings, less the HTTPS redirect (wrk talks plain HTTP to 127.0.0.1)."""
    return {
        "DATABASE_URL": database,
        "REDIS_URL": redis,
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),  # one for all: sessions must verify
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_DEBUG": "false",
        "DATABASE_CONN_MAX_AGE": "600",
        "EMAIL_URL": "dummymail://",
        "DEMO_PDF_SUMMARY": "false",
        "LOG_LEVEL": "ERROR",  # /healthz warns on every request its cache probe races (see README)
        "DJANGO_SETTINGS_MODULE": "bench.settings",  # the product's, plus /bench/trivial
    }


def _manage(*args: str) -> float:
    began = time.perf_counter()
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def _redis_flush(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def _next_database(url: str) -> str:
    base, _slash, number = url.rpartition("/")
    return f"{base}/{int(number or 0) + 1}"


def _free_port() -> int:
    import socket

    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit("no free port in 8100-8199")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def peak_kib(pid: int) -> int:
    """A process's peak resident memory (VmHWM) in KiB, 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _get(port: int, path: str, headers: dict[str, str]) -> tuple[int, int]:
    """The status and the body's length in bytes."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    return response.status, len(response.read())


def _measure(
    port: int, tenant: Any, page: Any, savers: list[wrk.Saver], seconds: float, scratch: str
) -> dict[str, Any]:
    """One page under wrk, after a few warming requests; its status alone if it is not 200."""
    # Every browser accepts gzip; a signed-in one sends its session and its CSRF cookie (set by
    # the sign-in form).
    headers = {"Accept-Encoding": BROWSER_ENCODINGS}
    if page.user:
        headers["Cookie"] = f"sessionid={tenant.sessions[page.user]}; csrftoken={tenant.csrf}"
    size = html_size = None
    if page.method == "POST":
        script, threads, status = wrk.autosave_script(savers), len(savers), 200
    else:
        script, threads = wrk.DONE, 2
        status, size = _get(port, page.path, headers)
        _status, html_size = _get(
            port, page.path, {k: v for k, v in headers.items() if k != "Accept-Encoding"}
        )
        for _ in range(3):  # warm each worker's templates and caches a little
            _get(port, page.path, headers)
    if status != 200:
        print(f"  {page.path}: status {status}, not measured", flush=True)
        return {"path": page.path, "status": status}
    figures, _output = wrk.run(
        f"http://127.0.0.1:{port}{page.path}",
        seconds=seconds,
        connections=CONNECTIONS if page.method == "GET" else len(savers),
        threads=threads,
        headers=headers if page.method == "GET" else None,
        script=script,
        script_path=f"{scratch}/{page.key}.lua",
    )
    return {
        "path": page.path,
        "status": status,
        "bytes": size,  # as sent to a browser, in gzip
        "html_bytes": html_size,
        **asdict(figures),
        "rps": figures.rps,
    }


def median_pass(passes: list[dict[str, Any]]) -> dict[str, Any]:
    """Of a page's passes (each measured right after its own trivial-view run), the one whose
    ratio to that run is the median: the machine's speed drifts between passes, and one pass's
    figures belong together. The others stay in ``passes``; with an even number the lower
    middle one is taken."""
    measured = [p for p in passes if "rps" in p and p.get("trivial_rps")]
    if not measured:
        return passes[0]
    ranked = sorted(measured, key=lambda p: p["rps"] / p["trivial_rps"])
    chosen = dict(ranked[(len(ranked) - 1) // 2])
    if len(passes) > 1:
        chosen["passes"] = [
            {k: p.get(k) for k in ("rps", "p50_ms", "p95_ms", "trivial_rps")} for p in passes
        ]
    return chosen


def measure_pages(
    port: int,
    tenant: Any,
    savers: list[wrk.Saver],
    seconds: float,
    scratch: str,
    repeat: int = 1,
) -> dict[str, dict[str, Any]]:
    """wrk on each page, each right after the trivial view for half as long: a page's ratio is to
    the trivial view measured just before it, so that the machine getting busier or quieter
    during the run (it is shared) moves both. With ``repeat``, the whole list is measured that
    many times over and each page keeps its median pass. The trivial view's row is the mean of
    its runs."""
    trivial, *pages = tenant.pages
    passes: dict[str, list[dict[str, Any]]] = {page.key: [] for page in pages}
    runs = []
    for number in range(1, repeat + 1):
        if repeat > 1:
            print(f"  pass {number} of {repeat}", flush=True)
        if number > 1:
            from bench import pages as bench_pages

            savers = bench_pages.refreshed(savers)
        for page in pages:
            before = _measure(port, tenant, trivial, savers, max(2.0, seconds / 2), scratch)
            runs.append(before)
            row = _measure(port, tenant, page, savers, seconds, scratch)
            row["trivial_rps"] = before.get("rps", 0.0)
            passes[page.key].append(row)
            if "rps" in row:
                print(
                    f"  {page.path}: {row['rps']:.0f} req/s, p50 {row['p50_ms']:.0f} ms, "
                    f"p95 {row['p95_ms']:.0f} ms; trivial view just before: "
                    f"{before.get('rps', 0):.0f} req/s"
                    + ("" if row["non_2xx"] == row["socket_errors"] == 0 else " (errors!)"),
                    flush=True,
                )
    results = {key: median_pass(found) for key, found in passes.items()}
    measured = [r for r in runs if "rps" in r]
    results[trivial.key] = {
        "path": trivial.path,
        "status": 200 if measured else runs[0]["status"],
        "runs": measured,
        **{
            figure: sum(r[figure] for r in measured) / len(measured)
            for figure in ("rps", "p50_ms", "p95_ms", "p99_ms", "non_2xx", "socket_errors")
            if measured
        },
    }
    return results


def _mark(ok: bool | None) -> str:
    return "-" if ok is None else ("ok" if ok else "NO")


def table(results: dict[str, Any]) -> str:
    """The printed table: one row per page, then the jobs and memory."""
    pages = results["pages"]
    counts = results["queries"]
    trivial_rps = results["trivial_rps"]
    # Runs before /bench/trivial existed divided by /healthz.
    baseline = results.get("baseline", "healthz")
    lines = [
        f"{'page':<28} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'KB gz/html':>10} {'ratio':>6} "
        f"{'>=0.1':>5} {'<150':>5}  {'queries asi s1/s20':>18} {'scale s1/s20':>12} "
        f"{'same,<=15':>9}",
        "-" * 125,
    ]
    for key, label in results["labels"]:
        row = pages.get(key, {})
        if "rps" in row:
            divisor = row.get("trivial_rps") or trivial_rps
            ratio = row["rps"] / divisor if divisor else 0.0
            # Sent in gzip / the page's HTML (older runs sent no Accept-Encoding: HTML alone).
            size = "/".join(
                f"{row[k] / 1000:.0f}" for k in ("bytes", "html_bytes") if row.get(k) is not None
            )
            speed = (
                f"{row['rps']:>7.0f} {row['p50_ms']:>7.0f} {row['p95_ms']:>7.0f} {size or '-':>10} "
                f"{ratio:>6.3f} "
                f"{_mark(ratio >= 0.1 if key != baseline else None):>5} "
                f"{_mark(row['p95_ms'] < 150):>5}"
            )
            if row["non_2xx"] or row["socket_errors"]:
                label += " (!)"
        else:
            speed = f"{'status ' + str(row.get('status', '?')):>48}"
        found = [counts[s].get(key) for s in ("asi_s1", "asi_s20", "scale_s1", "scale_s20")]
        numbers = [c["queries"] for c in found if c]
        asi = "/".join(str(c["queries"]) if c else "-" for c in found[:2])
        scale = "/".join(str(c["queries"]) if c else "-" for c in found[2:])
        # The goal: each tenant's page costs as many queries at both scales (two tenants may
        # differ: the demo participant sees more on the group page than a synthetic one).
        steady = all(a["queries"] == b["queries"] for a, b in (found[:2], found[2:]) if a and b)
        same = _mark(steady and max(numbers) <= MAX_QUERIES) if numbers else "-"
        statuses = {c["status"] for c in found if c} - {200}
        if statuses:  # a count of a redirect or an error page says nothing of the page
            same = "status " + ",".join(map(str, sorted(statuses)))
        lines.append(f"{label:<28} {speed}  {asi:>18} {scale:>12} {same:>9}")
    lines.append("")
    lines.append(
        f"ratio: page req/s / req/s of {dict(results['labels'])[baseline]} measured just "
        f"before it (mean "
        f"{trivial_rps:.0f}); queries: asi and the scale tenant's same page at --scale 1 / "
        f"--scale {results['settings'].get('scale', 20)}."
    )
    return "\n".join(lines)


def _slate_row(job: dict[str, Any]) -> tuple[str, str, str, str]:
    return (
        f"slate proposal, {job['applicants']} applicants in {job['groups']} groups",
        f"{job['median_s'] * 1000:.0f} ms",
        f"< 1 s: {_mark(job['median_s'] < GOALS['slate_s'])}",
        f"{job['proposed']} proposed, {job['violations']} rule violations",
    )


def _promotion_row(job: dict[str, Any]) -> tuple[str, str, str, str]:
    return (
        f"promotion, {job['free_seats']} free seats ({job['groups']} groups)",
        f"{job['seconds']:.1f} s",
        "",
        f"{job['offers']} offers made, {job['offers_stored']} open in the DB, "
        f"{job['waiting']} were waiting",
    )


def _reminders_row(job: dict[str, Any]) -> tuple[str, str, str, str]:
    due, seconds = job["due"], job["seconds"]
    goal = (
        f"< 60 s: {_mark(seconds < GOALS['reminders_s'])}"
        if due >= 10_000
        else f"(~{seconds * 10_000 / due:.0f} s at 10,000)"
    )
    return (
        f"reminders, {due} due ({job['meetings']} meetings)",
        f"{seconds:.1f} s",
        goal,
        f"{job['sent']} e-mails sent, {job['recorded_sent']} recorded sent",
    )


def _pdf_row(job: dict[str, Any]) -> tuple[str, str, str, str]:
    return (
        f"PDF, {job['comments']} comments ({job['pages']} pages)",
        f"{job['seconds']:.1f} s",
        f"<= 1.1 x bare: {_mark(job['ratio'] <= GOALS['pdf_ratio'])}",
        f"bare WeasyPrint {job['bare_seconds']:.1f} s: x{job['ratio']:.2f}",
    )


_ROWS = {"slate": _slate_row, "promotion": _promotion_row, "reminders": _reminders_row}
_ROWS["pdf"] = _pdf_row


def _job_rows(jobs: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [
        (name, "failed", "", jobs[name]["error"]) if "error" in jobs[name] else row(jobs[name])
        for name, row in _ROWS.items()
    ]


def jobs_table(jobs: dict[str, Any], memory: dict[str, Any]) -> str:
    lines = [f"{'job':<44} {'time':>8}  {'goal':<20} result", "-" * 114]
    lines += [f"{a:<44} {b:>8}  {c:<20} {d}" for a, b, c, d in _job_rows(jobs)]
    web = memory["web_workers_kib"]
    steps = ", ".join(f"{name} {jobs[name]['peak_kib'] // 1024}" for name in JOBS if name in jobs)
    lines.append("")
    lines.append(
        f"peak memory (VmHWM): web workers {', '.join(f'{k // 1024}' for k in web)} MiB "
        f"(master {memory['web_master_kib'] // 1024} MiB); job process "
        f"{jobs.get('peak_kib', 0) // 1024} MiB (after {steps})"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="2 s per page, no --scale 20, small jobs"
    )
    parser.add_argument("--workers", type=int, default=default_workers(), help="gunicorn workers")
    parser.add_argument("--seconds", type=float, default=None, help="wrk seconds per page (5)")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="measure every page this many times over and keep each one's median pass",
    )
    parser.add_argument("--scale", type=int, default=20, help="the larger scale for query counts")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument(
        "--page-cache-seconds",
        type=int,
        default=60,
        help="PAGE_CACHE_SECONDS of the served app (60, the default; 0: every page rendered)",
    )
    for job, full, quick in JOB_SIZES:
        parser.add_argument(
            f"--{job}", type=int, help=f"the job's size ({full:,}; {quick} with --quick)"
        )
    parser.add_argument("--show", metavar="JSON", help="print the tables of a saved run and stop")
    args = parser.parse_args()
    if args.show:
        saved = json.loads(Path(args.show).read_text())
        print(table(saved), jobs_table(saved["jobs"], saved["memory"]), sep="\n\n")
        return 0
    seconds = args.seconds or (2.0 if args.quick else 5.0)
    if not wrk.available():
        raise SystemExit("wrk is not installed: `make bench` installs Debian's package")

    database = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE)
    redis_url = os.environ.get("REDIS_URL", DEFAULT_REDIS)
    broker = _next_database(redis_url)
    os.environ.update(_environment(database, redis_url))
    os.environ["PAGE_CACHE_SECONDS"] = str(args.page_cache_seconds)
    started = datetime.datetime.now(datetime.UTC)
    print(
        f"Benchmark {started:%Y-%m-%d %H:%M} UTC: gunicorn with {args.workers} sync workers "
        f"({os.cpu_count()} CPUs; default WEB_CONCURRENCY or 2 x CPUs + 1), "
        f"{CONNECTIONS} wrk connections, "
        f"{seconds:.0f} s per page; person's page cache "
        f"{f'{args.page_cache_seconds} s' if args.page_cache_seconds else 'off'}; "
        f"PostgreSQL {database.rsplit('/', 1)[-1]}, Redis {redis_url}",
        flush=True,
    )
    _prepare_database(database)
    _redis_flush(redis_url)
    server = None
    results: dict[str, Any] = {
        "started": started.isoformat(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average": os.getloadavg(),
        },
        "settings": {
            "workers": args.workers,
            "connections": CONNECTIONS,
            "seconds": seconds,
            "repeat": max(1, args.repeat),
            "quick": args.quick,
            "scale": args.scale,
            "conn_max_age": 600,
            "django_env": "production",
            "page_cache_seconds": args.page_cache_seconds,
        },
        "setup_s": {},
    }
    try:
        results["setup_s"]["migrate"] = _manage("migrate", "--noinput")
        results["setup_s"]["load_demo_scale_1"] = _manage("load_demo", "--scale", "1")
        results["setup_s"]["collectstatic"] = _manage("collectstatic", "--noinput", "-v0")
        import django

        django.setup()
        from django.db import connections

        from bench import pages

        asi, scale_1 = pages.tenant("asi"), pages.tenant("scale-01")
        results["labels"] = [[p.key, p.label] for p in asi.pages]
        results["queries"] = {"asi_s1": pages.count_queries(asi)}
        results["queries"]["scale_s1"] = pages.count_queries(scale_1)
        savers = pages.savers(asi, CONNECTIONS)
        connections.close_all()
        print(f"Setup done ({results['setup_s']}); autosave: {len(savers)} answers", flush=True)

        port = _free_port()
        server = _serve(port, args.workers, timeout=60)
        with tempfile.TemporaryDirectory(prefix="asi-bench-") as scratch:
            results["pages"] = measure_pages(
                port, asi, savers, seconds, scratch, repeat=max(1, args.repeat)
            )
        workers = _children(server.pid)
        results["memory"] = {
            "web_workers_kib": sorted(peak_kib(pid) for pid in workers),
            "web_master_kib": peak_kib(server.pid),
        }
        server.terminate()
        server.wait(timeout=30)
        server = None
        results["baseline"] = "trivial"
        results["trivial_rps"] = results["pages"]["trivial"].get("rps", 0.0)

        if not args.quick:
            results["setup_s"][f"load_demo_scale_{args.scale}"] = _manage(
                "load_demo", "--scale", str(args.scale)
            )
            last = pages.tenant(f"scale-{args.scale:02d}")
            results["queries"]["asi_s20"] = pages.count_queries(asi)
            results["queries"]["scale_s20"] = pages.count_queries(last)
        else:
            results["queries"]["asi_s20"] = results["queries"]["scale_s20"] = {}
        results["queries"] = {
            size: {key: asdict(c) for key, c in found.items()}
            for size, found in results["queries"].items()
        }
        connections.close_all()

        print("Jobs ...", flush=True)
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            jobs_args = ["--json", out.name]
            for job, full, quick in JOB_SIZES:
                size = getattr(args, job.replace("-", "_")) or (quick if args.quick else full)
                jobs_args += [f"--{job}", str(size)]
            jobs_args += ["--pdf-repeat", "1" if args.quick else "2"]
            done = subprocess.run(
                [PYTHON, "bench/jobs.py", *jobs_args],
                cwd=ROOT,
                check=False,
                env={**os.environ, "BENCH_BROKER_URL": broker},
            )
            written = Path(out.name).read_text()
            failed = {"error": f"bench/jobs.py exited with {done.returncode}", "peak_kib": 0}
            results["jobs"] = (
                json.loads(written) if written else dict.fromkeys(JOBS, failed) | {"peak_kib": 0}
            )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        _redis_flush(broker)
        _redis_flush(redis_url)
        if not args.keep:
            from django.db import connections as open_connections

            open_connections.close_all()
            _drop_database(database)

    folder = ROOT / "bench" / "results"
    folder.mkdir(exist_ok=True)
    path = folder / f"{started:%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(table(results))
    print()
    print(jobs_table(results["jobs"], results["memory"]))
    print(f"\nFigures written to {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
