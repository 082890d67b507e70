"""A living map on a remote SPARQL engine (``serve --endpoint URL --update-endpoint URL --state DIR``): a real
``oxigraph serve`` (the CLI from PyPI, on disk so that it can be stopped and started again) holds the bundled map,
pushed with the Graph Store Protocol. The same token rules as the embedded store; a study added over HTTP is in
/api/studies, in /sparql (forwarded to the engine) and in the engine itself; the engine stopped during a write gives
a 503 that says the change is journalled, and the next write, or the next start, brings the engine up to date.
The studies written here are test data in temporary folders, never the bundled map's."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app_support import TestClient, free_port
from evidencemap.graph.journal import Journal
from evidencemap.graph.loading import build_store
from evidencemap.graph.push import push_store
from evidencemap.graph.remote import Endpoint, open_remote
from evidencemap.graph.tokens import TokenStore
from evidencemap.resources import bundled_map_dir
from evidencemap.settings import Settings
from evidencemap.web.app import create_app
from test_living_api import SLUG, auth, study
from test_remote_engine import oxigraph_binary

STUDY_IRI = "https://w3id.org/evidencemap/data/dufour-2025/study/"


class Engine:
    """``oxigraph serve --location DIR`` on a fixed port, which a test can stop and start again."""

    def __init__(self, binary: str, folder: Path) -> None:
        self.binary = binary
        self.folder = folder
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen([self.binary, "serve", "--location", str(self.folder), "--bind",
                                         f"127.0.0.1:{self.port}"], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{self.base}/query", params={"query": "ASK {}"}, timeout=1)
                return
            except httpx.TransportError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    pytest.skip("oxigraph serve did not start")
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def holds(self, slug: str) -> bool:
        answer = httpx.post(f"{self.base}/query", data={"query": f"ASK {{ GRAPH ?g {{ <{STUDY_IRI}{slug}> ?p ?o }} }}"},
                            headers={"Accept": "application/sparql-results+json"}, timeout=5)
        return bool(answer.json()["boolean"])


@pytest.fixture()
def engine(tmp_path: Path) -> Iterator[Engine]:
    binary = oxigraph_binary()
    if binary is None:
        pytest.skip("the oxigraph CLI is not installed (pip install oxigraph; the test extras include it)")
    running = Engine(binary, tmp_path / "engine")
    try:
        running.start()
    except OSError as exc:
        pytest.skip(f"the oxigraph CLI cannot run here: {exc}")
    push_store(build_store([bundled_map_dir()]), graph_store=f"{running.base}/store")
    yield running
    running.stop()


def settings_for(engine: Engine, state: Path) -> Settings:
    return Settings(endpoint=f"{engine.base}/query", update_endpoint=f"{engine.base}/update", state=str(state),
                    persistent_store=False)


def open_client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings, open_remote(settings)))


def test_writes_on_the_engine_follow_the_same_rules_and_show_everywhere(engine: Engine, tmp_path: Path) -> None:
    state = tmp_path / "state"
    team = TokenStore(state).create(SLUG, "Review team")[1]
    other = TokenStore(state).create("other-map", "Someone else")[1]
    with open_client(settings_for(engine, state)) as client:
        assert client.post("/api/studies?message=x", json=study("remote-2026", 911)).status_code == 401
        assert client.post(f"/api/maps/{SLUG}/studies?message=x", json=study("remote-2026", 911),
                           headers=auth(other)).status_code == 403
        assert not engine.holds("remote-2026")
        before = client.get("/api/studies?delivery=online").json()["total"]
        response = client.post("/api/studies?message=Found+in+May", json=study("remote-2026", 911),
                               headers=auth(team))
        assert response.status_code == 201, response.text
        assert engine.holds("remote-2026")
        assert client.get("/api/studies?delivery=online").json()["total"] == before + 1
        assert client.get("/api/studies/remote-2026").status_code == 200
        ask = client.post("/sparql", data={"query": f"ASK {{ <{STUDY_IRI}remote-2026> ?p ?o }}"},
                          headers={"Accept": "application/sparql-results+json"})
        assert ask.status_code == 200 and ask.json()["boolean"] is True
        assert client.get("/api/changes").json()["total"] == 1
        response = client.delete("/api/studies/remote-2026?message=Duplicate", headers=auth(team))
        assert response.status_code == 200, response.text
        assert not engine.holds("remote-2026")
        assert client.get("/api/studies/remote-2026").status_code == 410
        assert client.get("/api/studies?delivery=online").json()["total"] == before
        client.app.state.living.close()  # type: ignore[attr-defined]


def test_an_engine_stopped_during_a_write_is_brought_up_to_date(engine: Engine, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    state = tmp_path / "state"
    team = TokenStore(state).create(SLUG, "Review team")[1]
    settings = settings_for(engine, state)
    real_update = Endpoint.update

    def stopped_then_update(self: Endpoint, text: str, url: str) -> None:
        engine.stop()  # the engine goes away after the checks, while the change is being applied
        real_update(self, text, url)

    with open_client(settings) as client:
        monkeypatch.setattr(Endpoint, "update", stopped_then_update)
        response = client.post("/api/studies?message=First", json=study("stopped-2026", 921), headers=auth(team))
        assert response.status_code == 503, response.text
        body = response.json()
        assert "Change 1 is recorded in the map's journal" in body["error"] and "sent to the engine again" in \
            body["error"]
        assert [r.number for r in Journal(state / SLUG).records] == [1]  # journalled, so not lost
        # While the engine is down, the next change is refused before it is journalled: change 1 must go first.
        response = client.post("/api/studies?message=Meanwhile", json=study("meanwhile-2026", 929),
                               headers=auth(team))
        assert response.status_code == 503 and "cannot be reached" in response.json()["error"]
        assert [r.number for r in Journal(state / SLUG).records] == [1]
        monkeypatch.setattr(Endpoint, "update", real_update)
        engine.start()
        assert not engine.holds("stopped-2026")
        # The next write sends the change the engine lacks first, then its own.
        response = client.post("/api/studies?message=Second", json=study("next-2026", 922), headers=auth(team))
        assert response.status_code == 201, response.text
        assert engine.holds("stopped-2026") and engine.holds("next-2026")
        assert client.get("/api/studies/stopped-2026").status_code == 200
        monkeypatch.setattr(Endpoint, "update", stopped_then_update)
        response = client.post("/api/studies?message=Third", json=study("restart-2026", 923), headers=auth(team))
        assert response.status_code == 503
        monkeypatch.setattr(Endpoint, "update", real_update)
        client.app.state.living.close()  # type: ignore[attr-defined]
    engine.start()
    assert not engine.holds("restart-2026")
    # The next start sends it: the engine then holds exactly the files and the journal's three changes.
    with open_client(settings) as client:
        assert engine.holds("restart-2026")
        assert client.get("/api/studies/restart-2026").status_code == 200
        assert client.get("/api/changes").json()["total"] == 3
        client.app.state.living.close()  # type: ignore[attr-defined]


def test_an_engine_pushed_again_from_the_files_gets_every_change_again(engine: Engine, tmp_path: Path) -> None:
    state = tmp_path / "state"
    team = TokenStore(state).create(SLUG, "Review team")[1]
    settings = settings_for(engine, state)
    with open_client(settings) as client:
        assert client.post("/api/studies?message=x", json=study("pushed-2026", 931),
                           headers=auth(team)).status_code == 201
        client.app.state.living.close()  # type: ignore[attr-defined]
    # The data graphs replaced by the files' (the changes graph, not in the files, still lists change 1).
    push_store(build_store([bundled_map_dir()]), graph_store=f"{engine.base}/store")
    assert not engine.holds("pushed-2026")
    with open_client(settings) as client:
        assert engine.holds("pushed-2026")
        assert client.get("/api/studies/pushed-2026").status_code == 200
        client.app.state.living.close()  # type: ignore[attr-defined]
