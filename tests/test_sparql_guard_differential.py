"""What is checked is what runs (issue 9): for comment, white space, line-end, escape and Unicode variants of
SERVICE, the guard either refuses the query, or pyoxigraph, running exactly the text the guard checked, makes no
connection (a local listener proves it). Also: the guard's own reading is linear, and rdflib's slow parse is
bounded."""

from __future__ import annotations

import time

import pyoxigraph as ox
import pytest

from evidencemap.errors import BadRequest, EvidenceMapError, QueryRefused
from evidencemap.sparql.guard import inspect_query
from evidencemap.sparql.lexer import scan


def variants(iri: str) -> dict[str, str]:
    """Ways of writing SERVICE that a guard reading the text differently from the engine could miss."""
    body = f"<{iri}> {{ ?x ?y ?z }}"
    return {
        "plain": f"SELECT * WHERE {{ SERVICE {body} }}",
        "comment ended by CR (the reported bypass)": f"SELECT * WHERE {{ # c\r SERVICE {body}\n}}",
        "comment ended by CR LF": f"SELECT * WHERE {{ # c\r\n SERVICE {body}\n}}",
        "comment ended by form feed": f"SELECT * WHERE {{ # c\f SERVICE {body}\n}}",
        "comment ended by vertical tab": f"SELECT * WHERE {{ # c\v SERVICE {body}\n}}",
        "comment ended by NEL": f"SELECT * WHERE {{ # c\u0085 SERVICE {body}\n}}",
        "comment ended by line separator": f"SELECT * WHERE {{ # c\u2028 SERVICE {body}\n}}",
        "comment ended by paragraph separator": f"SELECT * WHERE {{ # c\u2029 SERVICE {body}\n}}",
        "lower case": f"select * where {{ service {body} }}",
        "mixed case": f"SeLeCt * WhErE {{ sErViCe {body} }}",
        "tab separated": f"SELECT\t*\tWHERE\t{{\tSERVICE\t{body}\t}}",
        "no space before IRI": f"SELECT * WHERE {{ SERVICE<{iri}>{{ ?x ?y ?z }} }}",
        "SILENT": f"SELECT * WHERE {{ SERVICE SILENT {body} }}",
        "SILENT, CR comment": f"SELECT * WHERE {{ SERVICE # c\r SILENT {body} }}",
        "after a number without space": f"SELECT * WHERE {{ ?s ?p 1SERVICE {body} }}",
        "after a decimal point": f"SELECT * WHERE {{ ?s ?p 1.SERVICE {body} }}",
        "keyword glued to an empty-prefix name": f"PREFIX : <{iri}> SELECT * WHERE {{ SERVICE:x {{ ?x ?y ?z }} }}",
        "keyword glued to a prefixed name": f"PREFIX p: <{iri}> SELECT * WHERE {{ SERVICEp:x {{ ?x ?y ?z }} }}",
        "after a local name escape": f"PREFIX p: <http://e.org/> SELECT * WHERE {{ ?s p:a\\# ?o SERVICE {body} }}",
        "after an IRI with a hash": f"SELECT * WHERE {{ ?s <http://e.org/#x> ?o SERVICE {body} }}",
        "u escape of S": f"SELECT * WHERE {{ \\u0053ERVICE {body} }}",
        "U escape of S": f"SELECT * WHERE {{ \\U00000053ERVICE {body} }}",
        "escaped CR ending a comment": f"SELECT * WHERE {{ # c\\u000D SERVICE {body}\n}}",
        "escaped LF ending a comment": f"SELECT * WHERE {{ # c\\u000A SERVICE {body}\n}}",
        "escaped quote closing a string": f'SELECT * WHERE {{ ?s ?p "a\\u0022 . SERVICE {body} }}',
        "long string then code": f'SELECT * WHERE {{ ?s ?p """a""" . SERVICE {body} }}',
        "apostrophe in an IRI": f"SELECT * WHERE {{ ?s <http://e.org/it's> ?o SERVICE {body} 'x' }}",
        "comparison with a string": f"SELECT * WHERE {{ ?s ?p ?o FILTER(?o<'>') SERVICE {body} }}",
        "in a subquery": f"ASK {{ {{ SELECT * WHERE {{ SERVICE {body} }} }} }}",
        "in EXISTS": f"SELECT * WHERE {{ ?s ?p ?o FILTER EXISTS {{ SERVICE {body} }} }}",
        "fullwidth letters": f"SELECT * WHERE {{ ＳＥＲＶＩＣＥ {body} }}",
        "zero-width joiner inside": f"SELECT * WHERE {{ SERV\u200dICE {body} }}",
        "non-breaking space": f"SELECT * WHERE {{\u00a0SERVICE\u00a0{body} }}",
        "variable endpoint bound by VALUES": f"SELECT * WHERE {{ VALUES ?e {{ <{iri}> }} SERVICE ?e {{ ?x ?y ?z }} }}",
    }


ENDPOINT = "http://127.0.0.1:{port}/sparql"


@pytest.mark.parametrize("name", list(variants("http://x/")))
def test_refused_or_harmless(name: str, listener: tuple[int, list[bytes]]) -> None:
    port, arrived = listener
    text = variants(ENDPOINT.format(port=port))[name]
    before = len(arrived)
    try:
        checked = inspect_query(text).text
    except EvidenceMapError as refusal:
        assert refusal.status in {400, 403}
        return
    # The guard accepted it: the engine runs the very text it checked, and must not call the listener.
    try:
        result = ox.Store().query(checked)
        if isinstance(result, ox.QuerySolutions | ox.QueryTriples):
            list(result)
    except (SyntaxError, OSError):
        pass
    time.sleep(0.05)
    assert len(arrived) == before, f"{name!r}: the guard accepted a query that connected"


def test_the_reported_bypass_is_refused_as_service() -> None:
    with pytest.raises(QueryRefused, match="SERVICE is refused"):
        inspect_query("SELECT * WHERE { # c\r SERVICE <http://127.0.0.1:9/> { ?x ?y ?z }\n}")


def test_the_checked_text_is_the_normalised_text() -> None:
    assert inspect_query("ASK { # c\r\n?s ?p ?o }").text == "ASK { # c\n?s ?p ?o }"


@pytest.mark.parametrize(
    "query",
    [
        'SELECT ?service WHERE { ?service <http://example.org/SERVICE> "SERVICE" } # SERVICE',
        "PREFIX ex: <http://example.org/> SELECT * WHERE { ?s ex:serviceProvider ?o }",
        "SELECT * WHERE { ?s ?p 'service'@en }",
        'SELECT * WHERE { ?s ?p """multi\nline SERVICE""" }',
    ],
)
def test_the_word_service_in_data_and_names_is_accepted(query: str) -> None:
    assert inspect_query(query).form == "SELECT"


def test_ambiguous_apostrophe_in_an_iri_is_a_bad_request() -> None:
    with pytest.raises(BadRequest, match="IRI"):
        inspect_query("SELECT * WHERE { ?s <http://e.org/it's> ?o }")


def test_a_long_in_list_is_read_without_rdflib_in_bounded_time() -> None:
    """rdflib needs seconds for 2,000 values and never finishes 12,000; the guard gives it a CPU budget and falls
    back on its own linear reading, which still sees SERVICE."""
    values = ", ".join(str(i) for i in range(12_000))
    inspected = inspect_query(f"SELECT * WHERE {{ ?s ?p ?o FILTER(?o IN ({values})) }}")
    assert inspected.form == "SELECT" and inspected.has_dataset is False
    with pytest.raises(QueryRefused):
        inspect_query(f"SELECT * WHERE {{ ?s ?p ?o FILTER(?o IN ({values})) SERVICE <http://e.org/> {{ }} }}")


def test_the_scan_is_linear() -> None:
    """Order-based, not timed: the scan of a text 100 times longer reads 100 times as many words."""
    small = "SELECT * WHERE { ?s ?p ?o FILTER(?o IN (" + ", ".join(["1"] * 100) + ")) }"
    large = "SELECT * WHERE { ?s ?p ?o FILTER(?o IN (" + ", ".join(["1"] * 10_000) + ")) }"
    assert len(scan(large).words) - len(scan(small).words) == 9_900


def test_the_scans_work_grows_with_the_text_not_its_square() -> None:
    """A ratio, not a time limit: scanning ten times the words costs about ten times the CPU (the scan once summed
    the code read so far at every word: 7 s for a 73 KB IN list, a hundred times the CPU for ten times the text).
    The bound, 40, sits between the linear 10 and the quadratic 100; the best of three runs of each size."""

    def cpu(values: int) -> float:
        text = "SELECT * WHERE { ?s ?p ?o FILTER(?o IN (" + ", ".join(str(i) for i in range(values)) + ")) }"
        runs = []
        for _ in range(3):
            started = time.process_time()
            scan(text)
            runs.append(time.process_time() - started)
        return min(runs)

    assert cpu(40_000) / cpu(4_000) < 40


def test_service_after_a_long_list_is_named_in_the_refusal() -> None:
    values = ", ".join(str(i) for i in range(5_000))
    reading = scan(f"SELECT * WHERE {{ ?s ?p ?o FILTER(?o IN ({values})) SERVICE <http://e.org/x> {{ }} }}")
    assert reading.service_at > 0 and reading.called == "<http://e.org/x>"
