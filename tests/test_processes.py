"""``evidencemap serve --processes N``: N app processes on one port, each opening the map's on-disk store
(web/processes.py; docs/deploy.md, "Several app processes")."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from evidencemap.cli import main
from evidencemap.settings import Settings
from evidencemap.web.processes import settings_environment


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def app_processes(parent: int) -> list[int]:
    """uvicorn's app processes under ``parent``: spawned interpreters (not multiprocessing's resource tracker)."""
    found = []
    for pid in children(parent):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in command:
            found.append(pid)
    return sorted(found)


@pytest.fixture()
def two_processes(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """``evidencemap serve --processes 2`` on a free port, its store cache in ``tmp_path``: (base URL, pid)."""
    port = free_port()
    env = {**os.environ, "EVIDENCEMAP_STORE_CACHE": str(tmp_path / "cache"), "EVIDENCEMAP_SPARQL_WORKERS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "evidencemap.cli", "serve", "--processes", "2", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/api/studies?limit=1", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "serve --processes 2 exited before answering"
            assert time.monotonic() < deadline, "serve --processes 2 did not answer in 120 s"
            time.sleep(0.3)
        yield base, process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def open_files(pid: int) -> list[str]:
    out = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            out.append(os.readlink(fd))
        except OSError:
            continue
    return out


def test_serve_runs_two_app_processes_that_each_answer(two_processes: tuple[str, int], tmp_path: Path) -> None:
    base, pid = two_processes
    cache = tmp_path / "cache"
    deadline = time.monotonic() + 60
    while len(app_processes(pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    first, second = app_processes(pid)
    # Both opened the one on-disk store the parent built in the store cache (the second may still be opening it
    # when the first answers).
    def opened(one: int) -> bool:
        return any(str(cache) in target for target in open_files(one))

    while not all(opened(one) for one in (first, second)) and time.monotonic() < deadline:
        time.sleep(0.2)
    for one in (first, second):
        assert opened(one), one
    # The ETag depends on the map's files, version and settings only: every process answers 304 to it.
    tag = httpx.get(f"{base}/api/facets", timeout=10).headers["etag"]
    for _ in range(6):  # a new connection each time, taken by whichever process accepts it
        assert httpx.get(f"{base}/api/facets", headers={"If-None-Match": tag}, timeout=10).status_code == 304
    # With one process gone the other answers at once (the supervisor starts a new one beside it).
    os.kill(first, signal.SIGKILL)
    answer = httpx.get(f"{base}/api/studies?limit=1", timeout=10)
    assert answer.status_code == 200 and answer.json()["studies"]
    assert httpx.get(f"{base}/studies", timeout=10).status_code == 200
    deadline = time.monotonic() + 120  # a new interpreter imports the package and opens the map: slow on a busy machine
    while (len(app_processes(pid)) < 2 or first in app_processes(pid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    survivors = app_processes(pid)
    assert second in survivors and first not in survivors and len(survivors) == 2
    # The replacement answers too, once the other is gone.
    os.kill(second, signal.SIGKILL)
    assert httpx.get(f"{base}/api/studies?limit=1", timeout=120).status_code == 200


def test_a_living_map_is_refused_with_several_processes(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--processes", "2", "--state", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "A living map (--state) is served by one process" in err
    assert "--processes 1" in err


def test_processes_below_one_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--processes", "0"]) == 2
    assert "--processes must be at least 1" in capsys.readouterr().err


def test_the_processes_read_the_parents_settings() -> None:
    settings = Settings(data=[Path("one.ttl"), Path("two")], max_rows=7, allow_invalid=True, processes=3,
                        endpoint="http://engine.example/sparql")
    environment = settings_environment(settings)
    assert environment["EVIDENCEMAP_PROCESSES"] == "3"
    assert Settings.from_env(environment) == settings
