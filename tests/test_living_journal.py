"""The living map's durability and atomicity (issue 13): a torn journal record is dropped, replay is idempotent,
``kill -9`` during a stream of writes loses no acknowledged change and leaves none half-written (20 rounds), a
concurrent reader never sees half a change, and write tokens are stored hashed."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from evidencemap.graph.journal import JOURNAL_FILE, Journal, Record, apply, nquads, replay, scan
from evidencemap.graph.store import EvidenceMap
from evidencemap.graph.tokens import TOKENS_FILE, TokenStore
from evidencemap.graph.writes import LivingMap
from evidencemap.model import changes, edits
from evidencemap.model.vocabulary import vocabulary_of
from evidencemap.settings import Settings

G = ox.NamedNode("http://example.org/graph")
P = ox.NamedNode("http://example.org/p")


def quads_of(number: int, size: int = 5) -> list[ox.Quad]:
    return [ox.Quad(ox.NamedNode(f"http://example.org/change/{number}"), P, ox.Literal(f"{number}-{i}"), G)
            for i in range(size)]


def record(number: int, added: list[ox.Quad], removed: list[ox.Quad] = ()) -> Record:  # type: ignore[assignment]
    return Record(number=number, map="m", holder="t", time="2026-12-01T00:00:00Z", message=f"change {number}",
                  kind="add", studies=(), added=nquads(added), removed=nquads(removed))


def test_a_torn_or_damaged_last_record_is_dropped(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    for n in (1, 2, 3):
        journal.append(record(n, quads_of(n)))
    data = (tmp_path / JOURNAL_FILE).read_bytes()
    whole, end_of_two = scan(data)[0], len(record(1, quads_of(1)).to_bytes()) + len(record(2, quads_of(2)).to_bytes())
    assert [r.number for r in whole] == [1, 2, 3]
    rng = random.Random(13)
    for cut in sorted({end_of_two + 1, len(data) - 1, *(rng.randrange(end_of_two + 1, len(data)) for _ in range(8))}):
        (tmp_path / JOURNAL_FILE).write_bytes(data[:cut])
        reopened = Journal(tmp_path)
        assert [r.number for r in reopened] == [1, 2], cut
        assert (tmp_path / JOURNAL_FILE).stat().st_size == end_of_two  # truncated at the last whole record
    damaged = bytearray(data)
    damaged[-10] ^= 0x01  # a flipped bit in the last record's payload: its checksum no longer matches
    (tmp_path / JOURNAL_FILE).write_bytes(bytes(damaged))
    assert [r.number for r in Journal(tmp_path)] == [1, 2]
    reopened = Journal(tmp_path)
    reopened.append(record(3, quads_of(3)))  # appending after a dropped record continues the numbering
    assert [r.number for r in Journal(tmp_path)] == [1, 2, 3]


def test_replay_is_idempotent(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.append(record(1, quads_of(1)))
    journal.append(record(2, quads_of(2), removed=quads_of(1)[:2]))
    journal.append(record(3, quads_of(1)[:1], removed=quads_of(2)[:1]))
    once = ox.Store()
    replay(once, journal)
    twice = ox.Store()
    replay(twice, journal)
    replay(twice, journal)  # a store that already holds every change (an on-disk store reopened)
    partly = ox.Store()
    replay(partly, journal.upto(2))
    replay(partly, journal)  # a store that holds some of them
    expected = {*quads_of(1)[:1], *quads_of(1)[2:], *quads_of(2)[1:]}
    assert set(once) == set(twice) == set(partly) == expected


WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    import pyoxigraph as ox
    from evidencemap.graph.journal import Journal, Record, apply, nquads, replay

    folder = Path(sys.argv[1])
    journal = Journal(folder)
    store = ox.Store()
    replay(store, journal)
    g, p = ox.NamedNode("http://example.org/graph"), ox.NamedNode("http://example.org/p")
    while True:
        n = journal.next_number
        added = [ox.Quad(ox.NamedNode(f"http://example.org/change/{n}"), p, ox.Literal(f"{n}-{i}" + "x" * 200), g)
                 for i in range(40)]
        rec = Record(number=n, map="m", holder="t", time="2026-12-01T00:00:00Z", message="m", kind="add",
                     studies=(), added=nquads(added), removed="")
        journal.append(rec)
        apply(store, added, [])
        sys.stdout.write(f"{n}\\n")
        sys.stdout.flush()
""")


def test_kill_9_during_writes_keeps_every_acknowledged_change_whole(tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    folder = tmp_path / "state"
    rng = random.Random(2026)
    acknowledged: set[int] = set()
    for _ in range(20):
        process = subprocess.Popen([sys.executable, str(script), str(folder)], stdout=subprocess.PIPE, text=True)
        assert process.stdout is not None
        first = process.stdout.readline()  # started and wrote one change
        assert first.strip().isdigit(), first
        acknowledged.add(int(first))
        time.sleep(rng.uniform(0.0, 0.03))
        process.kill()
        out, _ = process.communicate()
        acknowledged.update(int(line) for line in out.split() if line.isdigit())
        reopened = Journal(folder)
        numbers = [r.number for r in reopened]
        assert numbers == list(range(1, len(numbers) + 1))
        assert acknowledged <= set(numbers), sorted(acknowledged - set(numbers))
        store = ox.Store()
        replay(store, reopened)
        for r in reopened:  # none partial: every record's quads are all there
            subject = ox.NamedNode(f"http://example.org/change/{r.number}")
            assert len(list(store.quads_for_pattern(subject, None, None, None))) == 40
    assert len(acknowledged) >= 20


@pytest.fixture()
def living(tmp_path: Path) -> LivingMap:
    evidence_map = EvidenceMap.load(Settings(persistent_store=False))
    opened = LivingMap(evidence_map, tmp_path)
    yield opened  # type: ignore[misc]
    opened.close()


PASSAGE = "https://w3id.org/evidencemap/data/review/dufour-2025/passage/reference-52"


def study_body(slug: str, ref: int) -> bytes:
    facts = [{"facet": f, "value": v, "support": "inferred", "rationale": "Test data.", "passage": PASSAGE}
             for f, v in (("design", "qualitative-study"), ("delivery", "online"), ("outcome", "reduced-disability"),
                          ("challenge", "emotional-vulnerability-burnout"))]
    return json.dumps({"id": slug, "ref": ref, "citation": "Reader 2026", "title": "T", "year": 2026,
                       "authors": "Reader R", "intervention": {"label": "A group"}, "facts": facts}).encode()


READ = """PREFIX evm: <https://w3id.org/evidencemap/ontology#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
SELECT (COUNT(DISTINCT ?study) AS ?studies) (COUNT(DISTINCT ?finding) AS ?findings) (COUNT(DISTINCT ?o) AS ?facts)
       (COUNT(DISTINCT ?v) AS ?versions)
WHERE {
  { ?study evm:slug "reader-2026" }
  UNION { ?finding a evm:Finding ; rdf:subject ?x . ?x evm:slug "reader-2026" }
  UNION { ?x evm:slug "reader-2026" . ?x evm:studyDesign|evm:reportsChallenge|evm:reportsOutcome ?o }
  UNION { ?edition a <http://www.w3.org/ns/dcat#Dataset> ; <http://www.w3.org/ns/dcat#version> ?v }
}"""


def test_a_concurrent_reader_never_sees_half_a_change(living: LivingMap) -> None:
    vocabulary = vocabulary_of(living.map)
    holder = TokenStore(living.state).create(living.slug, "Team")[0]
    seen: set[tuple[int, int, int, int]] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            row = living.map.select(READ)[0]
            seen.add((int(row["studies"]), int(row["findings"]), int(row["facts"]), int(row["versions"])))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(3):
            triples = edits.parse_body(living, vocabulary, study_body("reader-2026", 950), edits.JSON)
            changes.submit(living, vocabulary, edits.add_study(living, triples), holder, "add")
            changes.submit(living, vocabulary, edits.retract_study(living, "reader-2026"), holder, "retract")
    finally:
        stop.set()
        reader.join()
    # Before or after each change: the study with its 3 findings about it (the fourth is about its intervention)
    # and their 3 materialised facts, or nothing; and the edition with one version, never two.
    assert seen <= {(0, 0, 0, 1), (1, 3, 3, 1)}, seen
    assert len(seen) == 2, seen


def test_tokens_are_stored_hashed_and_listed_without_secrets(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    entry, token = store.create("dufour-2025", "Review team")
    secret = token.rsplit("_", 1)[1]
    text = (tmp_path / TOKENS_FILE).read_text()
    assert secret not in text and token not in text and entry.digest in text
    assert (tmp_path / TOKENS_FILE).stat().st_mode & 0o077 == 0
    assert store.verify(token) == entry
    assert store.verify(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert "digest" not in entry.listing() and secret not in json.dumps(entry.listing())
    store.revoke(entry.id)
    assert store.verify(token) is None


def test_apply_is_one_transaction_of_ground_quads() -> None:
    store = ox.Store()
    apply(store, quads_of(1), [])
    with pytest.raises(ValueError):
        apply(store, [ox.Quad(ox.BlankNode("b"), P, ox.Literal("x"), G)], quads_of(1))
    assert set(store) == set(quads_of(1))  # the refused change removed nothing


def test_an_on_disk_store_reopened_with_its_changes_replays_to_the_same_map(tmp_path: Path) -> None:
    """A map written to while served from the store cache's on-disk store reopens to the same map: the written entry
    is not served again as if it were the files (graph/persistence.py marks it modified), and the journal replayed
    onto what is opened gives the same quads as replayed onto a store rebuilt from the files."""
    import gc

    settings = Settings(persistent_store=True, store_cache=str(tmp_path / "cache"))
    state = tmp_path / "state"
    evidence_map = EvidenceMap.load(settings, persistent=True)
    living = LivingMap(evidence_map, state)
    vocabulary = vocabulary_of(evidence_map)
    holder = TokenStore(state).create(living.slug, "Team")[0]
    triples = edits.parse_body(living, vocabulary, study_body("disk-2026", 951), edits.JSON)
    changes.submit(living, vocabulary, edits.add_study(living, triples), holder, "add")
    changes.submit(living, vocabulary, edits.retract_study(living, "blay-2025"), holder, "retract")
    living.close()
    del living, evidence_map, triples
    gc.collect()
    reopened = EvidenceMap.load(settings, persistent=True)  # rebuilt from the files: the changes come from the journal
    assert not list(reopened.store.quads_for_pattern(None, None, ox.Literal("disk-2026"), None))
    again = LivingMap(reopened, state)
    rebuilt = EvidenceMap.load(Settings(persistent_store=False))
    replay(rebuilt.store, Journal(state / again.slug))
    assert shape(reopened.store) == shape(rebuilt.store)
    assert reopened.version == 1  # the replay marked the map changed: nothing saved for the files alone is used
    again.close()


def shape(store: ox.Store) -> tuple[set[ox.Quad], list[str]]:
    """A store's ground quads, and its other quads with their blank nodes blanked out (a file's blank nodes get new
    labels at each load)."""
    ground, blank = set(), []
    for quad in store:
        terms = (quad.subject, quad.predicate, quad.object, quad.graph_name)
        if any(isinstance(t, ox.BlankNode) for t in terms):
            blank.append(" ".join("_" if isinstance(t, ox.BlankNode) else str(t) for t in terms))
        else:
            ground.add(quad)
    return ground, sorted(blank)


def test_kill_9_of_a_serving_server_loses_no_acknowledged_change(tmp_path: Path) -> None:
    """End to end, once (the rounds above repeat it on the journal): a server taking changes over HTTP is killed
    with SIGKILL while a client sends them; every change it acknowledged is in the map reopened from the files and
    the journal, whole."""
    import os
    import signal

    import httpx

    from app_support import free_port

    state = tmp_path / "state"
    token = TokenStore(state).create("dufour-2025", "Team")[1]
    port = free_port()
    env = {**os.environ, "EVIDENCEMAP_PERSISTENT_STORE": "false", "EVIDENCEMAP_SPARQL_WORKERS": "1"}
    server = subprocess.Popen([sys.executable, "-m", "evidencemap.cli", "serve", "--state", str(state), "--port",
                               str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    acknowledged: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/api/changes", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        stop = threading.Event()

        def send() -> None:
            for n in range(100):
                slug = f"served-{n}-2026"
                try:
                    response = httpx.post(f"{base}/api/studies", params={"message": "m"}, timeout=30,
                                          content=study_body(slug, 970 + n),
                                          headers={"Authorization": f"Bearer {token}",
                                                   "Content-Type": "application/json"})
                except httpx.TransportError:
                    return
                if response.status_code == 201:
                    acknowledged.append(slug)
                if stop.is_set():
                    return

        client = threading.Thread(target=send)
        client.start()
        while len(acknowledged) < 2 and client.is_alive():
            time.sleep(0.05)
        time.sleep(random.Random(13).uniform(0.0, 0.3))
        os.kill(server.pid, signal.SIGKILL)
        stop.set()
        client.join()
    finally:
        server.kill()
        server.wait()
    assert len(acknowledged) >= 2
    reopened = LivingMap(EvidenceMap.load(Settings(persistent_store=False)), state)
    try:
        for slug in acknowledged:
            rows = reopened.map.select(READ.replace("reader-2026", slug))[0]
            assert (int(rows["studies"]), int(rows["findings"]), int(rows["facts"])) == (1, 3, 3), slug
        assert len(reopened.journal) >= len(acknowledged)
    finally:
        reopened.close()
