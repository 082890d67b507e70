"""The workers cannot reach the network even when a query got past the guard (issue 9), with or without network
namespaces: a seccomp filter denies network sockets; without any isolation /sparql does not start (fail closed)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from app_support import TestClient
from evidencemap.settings import Settings
from evidencemap.sparql.sandbox import SYSCALLS, network_filter
from evidencemap.sparql.workers import SparqlUnavailable, WorkerPool
from evidencemap.web.app import create_app
from test_sparql_guard_differential import variants

PROBE = """
import socket, sys
from evidencemap.sparql.sandbox import deny_network
if not deny_network(): sys.exit(3)
for family in (socket.AF_INET, socket.AF_INET6):
    try:
        socket.socket(family, socket.SOCK_STREAM)
        sys.exit(1)
    except PermissionError:
        pass
a, b = socket.socketpair()
a.send(b"x")
assert b.recv(1) == b"x"
socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close()
import pyoxigraph as ox
try:
    list(ox.Store().query("SELECT * { SERVICE <http://127.0.0.1:PORT/> { ?a ?b ?c } }"))
except OSError:
    sys.exit(0)
sys.exit(2)
"""


def test_seccomp_filter_denies_network_sockets_but_not_unix_ones(listener: tuple[int, list[bytes]]) -> None:
    port, arrived = listener
    code = subprocess.run([sys.executable, "-c", PROBE.replace("PORT", str(port))], timeout=60).returncode
    if code == 3:
        pytest.skip("no seccomp filter for this architecture")
    assert code == 0 and arrived == []


def test_the_filter_is_written_for_the_known_architectures_only() -> None:
    assert set(SYSCALLS) == {"x86_64", "aarch64"}
    for table in SYSCALLS.values():
        program = network_filter(table)
        assert program[1][3] == table.audit_arch and len(program) < 20


def test_without_any_isolation_the_pool_refuses_to_start_unless_told() -> None:
    pool = WorkerPool.__new__(WorkerPool)
    pool.settings = Settings()
    with pytest.raises(SparqlUnavailable, match="ALLOW_UNISOLATED"):
        pool._check_isolation({"seccomp": False, "isolated": False})
    pool._check_isolation({"seccomp": True, "isolated": False})  # one defence is enough, with a warning
    pool.settings = Settings(sparql_allow_unisolated=True)
    pool._check_isolation({"seccomp": False, "isolated": False})


@pytest.fixture(scope="module")
def client_without_namespaces() -> Iterator[TestClient]:
    """The endpoint with the namespace step skipped, as where the kernel refuses user namespaces."""
    settings = Settings(query_timeout=2.0, sparql_workers=1, sparql_network_namespace=False)
    with TestClient(create_app(settings)) as client:
        yield client


def test_endpoint_without_namespaces_runs_seccomp_only(client_without_namespaces: TestClient) -> None:
    assert client_without_namespaces.get("/sparql", params={"query": "ASK {}"}).status_code == 200
    info = client_without_namespaces.app.state.sparql_pool.zygote.info  # type: ignore[attr-defined]
    assert info["isolated"] is False and info["seccomp"] is True


@pytest.mark.parametrize("name", list(variants("http://x/")))
def test_bypass_variants_refused_without_namespaces(
    name: str, client_without_namespaces: TestClient, listener: tuple[int, list[bytes]]
) -> None:
    port, arrived = listener
    query = variants(f"http://127.0.0.1:{port}/sparql")[name]
    response = client_without_namespaces.post("/sparql", data={"query": query})
    # refused (4xx), or harmless: a variant whose SERVICE is inside a comment for the engine too runs without it
    assert 400 <= response.status_code < 500 or (response.status_code == 200 and name.startswith("comment")), \
        response.text
    assert "secret" not in response.text
    assert arrived == []
