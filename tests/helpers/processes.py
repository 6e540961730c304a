"""Start real processes (web, worker, beat) from a test, wait for them, and always stop them.

Each process writes its stdout and stderr to a log file, so that a test can wait for a line in
the log without any risk of a full pipe blocking the process, and print the logs when it fails.
Processes start in their own session: stopping one sends SIGTERM to it (gunicorn's master and
Celery's main process shut their children down) and then SIGKILL to whatever is left of its
process group.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, urlsplit

if TYPE_CHECKING:
    from celery import Celery

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: The bin folder of the virtualenv the tests run in: first on the PATH of every process.
VENV_BIN = Path(sys.executable).parent

T = TypeVar("T")

# Variables a process may inherit from the test process; everything else is given explicitly.
_INHERITED = ("HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ", "USER", "LOGNAME")


def run_in_project(
    command: Sequence[str], *, env: Mapping[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` to its end from the project root with ``env``; its output as text."""
    return subprocess.run(
        list(command),
        env=dict(env),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def clean_env(**variables: str) -> dict[str, str]:
    """An environment with the venv first on PATH and no Django or Celery setting inherited.

    The test process runs with ``DJANGO_SETTINGS_MODULE=asi_wg.settings_test``, ``DJANGO_ENV``
    and maybe ``DATABASE_URL`` and ``REDIS_URL``: none of them leaks into a started process.
    """
    env = {name: os.environ[name] for name in _INHERITED if name in os.environ}
    env["PATH"] = os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", os.defpath)])
    env["PYTHONUNBUFFERED"] = "1"
    env.update(variables)
    return env


def free_port() -> int:
    """A TCP port that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RunningProcess:
    """One started process and its log file."""

    def __init__(self, name: str, argv: Sequence[str], popen: subprocess.Popen[bytes], log: Path):
        self.name = name
        self.argv = list(argv)
        self.popen = popen
        self.log_path = log

    @property
    def returncode(self) -> int | None:
        """None while the process runs."""
        return self.popen.poll()

    def output(self) -> str:
        """Everything the process has written to stdout and stderr so far."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def describe(self, tail: int = 12_000) -> str:
        state = "running" if self.returncode is None else f"exit code {self.returncode}"
        text = self.output()
        if len(text) > tail:
            text = "[...]\n" + text[-tail:]
        return f"----- {self.name}: {' '.join(self.argv)} ({state}) -----\n{text}"

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM, wait, then SIGKILL the whole process group; always reaps the process."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout)
        # start_new_session=True made the process the leader of a group with its own pid: this
        # kills the process if it ignored SIGTERM, and any child it left behind.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=timeout)


class Processes:
    """The processes one test started; a fixture stops them all and prints their logs."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.started: list[RunningProcess] = []

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path = PROJECT_ROOT,
    ) -> RunningProcess:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{name}.log"
        with log.open("wb") as log_file:
            # The program is looked up on the PATH given in env (the venv's bin first).
            popen = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = RunningProcess(name, argv, popen, log)
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in reversed(self.started):
            process.stop()

    def report(self) -> str:
        return "\n".join(process.describe() for process in self.started)


def wait_for(
    check: Callable[[], T | None],
    *,
    what: str,
    timeout: float,
    watch: Iterable[RunningProcess] = (),
    interval: float = 0.25,
) -> T:
    """Call ``check`` until it returns something other than None or False.

    Fails at once, with the process's log, when a watched process exits, and with every watched
    log when the time is up. Exceptions from ``check`` count as "not yet".
    """
    watched = list(watch)
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        for process in watched:
            if process.returncode is not None:
                raise AssertionError(
                    f"{process.name} exited while waiting for {what}\n{process.describe()}"
                )
        try:
            result = check()
        except Exception as error:  # noqa: BLE001 - a probe may fail in any way until ready
            last_error = error
        else:
            if result is not None and result is not False:
                return result
        if time.monotonic() > deadline:
            logs = "\n".join(process.describe() for process in watched)
            raise AssertionError(
                f"timed out after {timeout:g} s waiting for {what} (last error: {last_error!r})\n"
                f"{logs}"
            )
        time.sleep(interval)


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http_get(
    port: int,
    path: str,
    *,
    headers: Mapping[str, str] | None = None,
    host: str = "127.0.0.1",
    timeout: float = 10.0,
) -> HttpResponse:
    """One GET request; redirects are returned, not followed. Header names are lower-case."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path, headers=dict(headers or {}))
        response = connection.getresponse()
        body = response.read()
        return HttpResponse(
            status=response.status,
            headers={name.lower(): value for name, value in response.getheaders()},
            body=body,
        )
    finally:
        connection.close()


def wait_for_http(
    port: int,
    path: str,
    *,
    timeout: float = 30.0,
    watch: Iterable[RunningProcess] = (),
    headers: Mapping[str, str] | None = None,
) -> HttpResponse:
    """The first answer (any status) from a server that is still starting."""
    return wait_for(
        lambda: http_get(port, path, headers=headers, timeout=5.0),
        what=f"an HTTP answer from http://127.0.0.1:{port}{path}",
        timeout=timeout,
        watch=watch,
    )


def wait_for_output(
    process: RunningProcess, text: str, *, timeout: float, watch: Iterable[RunningProcess] = ()
) -> str:
    """Wait until ``text`` appears in the process's output; returns the output."""
    return wait_for(
        lambda: process.output() if text in process.output() else None,
        what=f"{text!r} in the output of {process.name}",
        timeout=timeout,
        watch=[process, *watch],
    )


def url_with_path(url: str, path: str) -> str:
    """``url`` with its path replaced: another database name, or another Redis database number."""
    return urlsplit(url)._replace(path="/" + quote(path.lstrip("/"))).geturl()


def database_url_of(settings_dict: Mapping[str, Any], *, vendor: str) -> str | None:
    """The database a test runs on (``connection.settings_dict``), as a DATABASE_URL for another
    process; None for a vendor without one."""
    name = str(settings_dict["NAME"])
    if vendor == "sqlite":
        return f"sqlite:///{Path(name).resolve()}"  # settings_test makes it a file, not :memory:
    if vendor == "postgresql":
        return url_with_path(os.environ["DATABASE_URL"], name)
    return None


def close_celery_app(app: Celery) -> None:
    """Close a client Celery app's broker and result-backend connections (no socket left open)."""
    backend = app.backend
    consumer = getattr(backend, "result_consumer", None)
    if consumer is not None and hasattr(consumer, "stop"):
        consumer.stop()
    client = getattr(backend, "client", None)
    if client is not None and hasattr(client, "connection_pool"):
        client.connection_pool.disconnect()
    app.pool.force_close_all()
    app.close()


@contextlib.contextmanager
def started_processes(log_dir: Path) -> Iterator[Processes]:
    """For a fixture: stops every process the test started and prints their logs.

    pytest shows what a test printed only when it fails, so the logs appear exactly then.
    """
    processes = Processes(log_dir)
    try:
        yield processes
    finally:
        processes.stop_all()
        print(processes.report())
