"""Decide, before anything runs, whether a SPARQL request is a query this read-only endpoint will execute.

Two readings decide, on the text the engine will run (line ends normalised, issue 9): a conservative scan of the
text as the engine's lexer reads it (:mod:`evidencemap.sparql.lexer`), and rdflib's SPARQL parser and algebra,
which is walked for ``SERVICE`` (which pyoxigraph, like rdflib and the Oxigraph server, would otherwise execute as
an outbound HTTP request, issue 2). Text that is not a
query but parses as SPARQL Update (``LOAD``, ``INSERT``, ``CLEAR``...) is refused as an update; text that parses as
neither is a syntax error reported with the parser's line and column.

>>> inspect_query("ASK { ?s ?p ?o }").form
'ASK'
>>> inspect_query("SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }")  # doctest: +ELLIPSIS
Traceback (most recent call last):
evidencemap.errors.QueryRefused: SERVICE is refused: ... (the query calls <http://example.org/sparql>). ...
"""

from __future__ import annotations

import gc
import re
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from evidencemap.errors import BadRequest, QueryRefused
from evidencemap.sparql.lexer import normalise_line_ends, scan
from evidencemap.sparql.syntax import excerpt, locate

if TYPE_CHECKING:
    from pyparsing import ParseBaseException
    from rdflib.plugins.sparql.parserutils import CompValue

# rdflib's SPARQL grammar is imported on first use (a query the scan cannot decide, or one the engine rejected),
# outside the CPU budget of that reading (_warmed): importing and building the grammar takes about 0.25 s of CPU,
# which would otherwise use up the budget of the first such query of each process.

QUERY_FORMS = {"SelectQuery": "SELECT", "AskQuery": "ASK", "ConstructQuery": "CONSTRUCT", "DescribeQuery": "DESCRIBE"}

# rdflib's names of the SPARQL Update operations, as the keywords a person wrote.
UPDATE_KEYWORDS = {
    "Load": "LOAD",
    "Clear": "CLEAR",
    "Drop": "DROP",
    "Create": "CREATE",
    "Add": "ADD",
    "Move": "MOVE",
    "Copy": "COPY",
    "InsertData": "INSERT DATA",
    "DeleteData": "DELETE DATA",
    "DeleteWhere": "DELETE WHERE",
    "Modify": "DELETE/INSERT",
}

READ_ONLY_HINT = "This endpoint is read-only: send SELECT, ASK, CONSTRUCT or DESCRIBE queries only."


@dataclass(frozen=True)
class InspectedQuery:
    """What the guard learnt from a query it accepts."""

    form: str  # SELECT, ASK, CONSTRUCT or DESCRIBE
    has_dataset: bool  # the query names its own dataset (FROM / FROM NAMED)
    prefixes: dict[str, str]  # the query's PREFIX declarations, to write graph results with them
    text: str = ""  # the text that was checked, which is the text the engine must run


def inspect_query(text: str) -> InspectedQuery:
    """Read ``text`` and accept it only if it is a query that calls no other service.

    The text is first normalised (line ends); what is checked is that normalised text, and it is what the engine
    runs (``InspectedQuery.text``). The conservative scan of :mod:`evidencemap.sparql.lexer` (linear time, reads
    the text as the engine does) always decides first: SERVICE anywhere in the code is refused. When the scan finds
    a query form and no update keyword, it has decided and the query goes to the engine, which parses it and reports
    its syntax errors with their position: rdflib's parse took 2-31 ms a query on an idle machine and 80-90 ms
    under load, up to 1,500 times the scan (docs/benchmarks.md, issue 14). Only where the scan cannot decide
    (no query form, update keywords) does rdflib's parse and algebra read the text, for the update's name or the
    syntax error's position, given at most :data:`PARSE_CPU_SECONDS` of CPU: rdflib's parser is orders of magnitude
    slower than the engine on long ``VALUES`` or ``IN`` lists, and such a text is then judged by the scan alone.

    :param text: the SPARQL text as received.
    :raises QueryRefused: for SPARQL Update operations (``LOAD`` among them) and for ``SERVICE``.
    :raises BadRequest: for text that is not SPARQL, with the line and column the parser stopped at.
    """
    text = normalise_line_ends(text)
    reading = scan(text)
    if reading.ambiguous:
        raise BadRequest(
            f"The query has {reading.ambiguous}, which reads both as an IRI and as a comparison with a string.",
            hint="Write an apostrophe in an IRI as %27, or put spaces around < and > in a comparison.",
        )
    if reading.depth > MAX_NESTING:
        raise BadRequest(
            f"The query nests brackets {reading.depth} levels deep; this endpoint reads at most {MAX_NESTING}.",
            hint="Write the query with fewer nested groups, sub-queries or expressions (a deeper query can exhaust "
                 "the engine's stack).",
        )
    if reading.service_at >= 0:
        if reading.form is None and reading.update_words:
            _refuse_update(reading.update_words)
        raise _service_refused(reading.called)
    if reading.form is not None and not reading.update_words:
        return InspectedQuery(reading.form, reading.has_dataset, reading.prefixes, text)
    try:
        inspected = _within_cpu(PARSE_CPU_SECONDS, _inspect_with_rdflib, text)
    except _OutOfTime:
        inspected = None
    if inspected is not None:
        return inspected
    if reading.form is None:
        if reading.update_words:
            _refuse_update(reading.update_words)
        raise BadRequest("The text is not a SPARQL query: it names no SELECT, ASK, CONSTRUCT or DESCRIBE.",
                         hint=READ_ONLY_HINT)
    return InspectedQuery(reading.form, reading.has_dataset, reading.prefixes, text)


PARSE_CPU_SECONDS = 0.25
# Brackets ( { [ open at once: pyoxigraph's parser and planner recurse on nesting, and crash a worker (its stack
# exhausted) from about 300 nested collections or 3,000 nested groups; a written query rarely goes past 10.
MAX_NESTING = 100


class _OutOfTime(BaseException):
    """rdflib's parse used up its CPU budget (a BaseException, so that no ``except Exception`` swallows it)."""


_WARM = threading.Event()


def _warmed() -> None:
    """rdflib's SPARQL parser imported and exercised once in this process (see the note on the grammar above)."""
    if not _WARM.is_set():
        _WARM.set()
        warm_parser()


def _within_cpu(seconds: float, work: Callable[[str], InspectedQuery], text: str) -> InspectedQuery:
    """``work(text)`` stopped after ``seconds`` of CPU time (in the main thread, where signals are delivered); rdflib's
    parser is made ready before the clock starts."""
    _warmed()
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        return work(text)

    def out_of_time(signum: int, frame: object) -> None:
        raise _OutOfTime

    # No cyclic garbage collection while the timer runs: a collection could run a finaliser just when the timer
    # fires, and the exception raised there would be swallowed ("Exception ignored in ...") with the parse going on.
    collecting = gc.isenabled()
    gc.disable()
    previous = signal.signal(signal.SIGVTALRM, out_of_time)
    signal.setitimer(signal.ITIMER_VIRTUAL, seconds)
    try:
        try:
            return work(text)
        finally:
            signal.setitimer(signal.ITIMER_VIRTUAL, 0)
    finally:  # also when the timer fired just as the work ended: the one-shot timer is then spent
        signal.signal(signal.SIGVTALRM, previous)
        if collecting:
            gc.enable()


def _inspect_with_rdflib(text: str) -> InspectedQuery:
    from pyparsing import ParseBaseException
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery
    from rdflib.plugins.sparql.parserutils import CompValue

    try:
        parsed = parseQuery(text)
    except ParseBaseException as exc:
        _refuse_if_update(text)
        raise syntax_error(exc, text) from None
    except RecursionError:
        raise BadRequest("The query is nested too deeply to be parsed.") from None
    try:
        algebra = translateQuery(parsed).algebra
    except RecursionError:
        raise BadRequest("The query is nested too deeply to be parsed.") from None
    except Exception as exc:  # rdflib reports scoping and aggregation errors as plain exceptions
        raise BadRequest(f"The query is not valid SPARQL 1.1: {exc}") from None
    services = [_describe_service(node) for node in walk(algebra) if node.name == "ServiceGraphPattern"]
    if services:
        raise _service_refused(", ".join(services))
    dataset = algebra.get("datasetClause")
    prefixes = {
        str(decl.get("prefix") or ""): str(decl["iri"])
        for decl in parsed[0]
        if isinstance(decl, CompValue) and decl.name == "PrefixDecl"
    }
    return InspectedQuery(QUERY_FORMS[algebra.name], isinstance(dataset, list) and bool(dataset), prefixes, text)


def _service_refused(called: str) -> QueryRefused:
    return QueryRefused(
        f"SERVICE is refused: this endpoint never sends requests to other servers (the query calls {called}).",
        hint="Run the federated part against the other endpoint yourself, or download its data. (The letters "
        "SERVICE outside a string, an IRI, a comment or a name count as the keyword: rename a prefix that holds "
        "them.)",
    )


def walk(node: object) -> Iterator[CompValue]:
    """Every algebra or syntax node under ``node``, at any depth (inside expressions and EXISTS too)."""
    from rdflib.plugins.sparql.parserutils import CompValue

    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, CompValue):
            yield current
            stack.extend(current.values())
        elif isinstance(current, list | tuple | set):
            stack.extend(current)
        elif isinstance(current, dict):
            stack.extend(current.values())


def _describe_service(node: CompValue) -> str:
    from rdflib.term import Variable

    term = node.get("term")
    if isinstance(term, Variable):
        return f"?{term}"
    return f"<{term}>" if term is not None else "a service"


def _refuse_if_update(text: str) -> None:
    from pyparsing import ParseBaseException
    from rdflib.plugins.sparql.parser import parseUpdate

    try:
        update = parseUpdate(text)
    except (ParseBaseException, RecursionError):
        return
    keywords = [UPDATE_KEYWORDS.get(op.name, op.name) for op in update.request]
    if keywords:
        _refuse_update(keywords)


def _refuse_update(keywords: list[str]) -> None:
    named = ", ".join(dict.fromkeys(keywords))
    if "LOAD" in keywords:
        raise QueryRefused(
            f"LOAD is refused: this endpoint never fetches data from other servers and is read-only ({named}).",
            hint=READ_ONLY_HINT,
        )
    raise QueryRefused(f"SPARQL Update is refused ({named}).", hint=READ_ONLY_HINT)


class SparqlSyntaxError(BadRequest):
    """A query the parser rejected, with where it stopped (1-based line and column) and that line of the query."""

    def __init__(self, message: str, *, line: int, column: int, excerpt: str) -> None:
        super().__init__(message, hint="Check the query at that position.")
        self.line = line
        self.column = column
        self.excerpt = excerpt


def syntax_error(exc: ParseBaseException, text: str | None = None) -> SparqlSyntaxError:
    """The parser's error as a 400 naming the line and column of the offending token: where no reading of ``text``
    gets further (:func:`evidencemap.sparql.syntax.locate`; rdflib's own position is where the alternatives it
    backtracked from began, counted with tabs expanded and escapes replaced). Without ``text``, rdflib's position."""
    where = locate(text) if text is not None else None
    if where is not None:
        return SparqlSyntaxError(f"SPARQL syntax error at {where.describe()}.", line=where.line,
                                 column=where.column, excerpt=excerpt(text or "", where.line, where.column))
    line = exc.line.rstrip("\n")
    shown = f"{line}\n{' ' * (exc.col - 1)}^" if line.strip() else ""
    return SparqlSyntaxError(
        f"SPARQL syntax error at line {exc.lineno}, column {exc.col}: {exc.msg}.",
        line=exc.lineno,
        column=exc.col,
        excerpt=shown,
    )


def warm_parser() -> None:
    """Import and exercise rdflib's SPARQL grammar (once a process, before the first budgeted reading: _warmed)."""
    inspect_query("SELECT * WHERE { ?s ?p ?o OPTIONAL { ?o ?q ?r } FILTER(?s != ?o) }")
    _inspect_with_rdflib("SELECT * WHERE { ?s ?p ?o OPTIONAL { ?o ?q ?r } FILTER(?s != ?o) }")


def explain_rejection(message: str, text: str) -> BadRequest:
    """The error to report for a query the engine could not parse: rdflib's reading of it, which names what was
    expected where as the editor and the protocol's clients have always been told (it runs only now, for a query
    that failed, not for every query); the engine's own position when rdflib accepts the text or runs out of time."""
    try:
        _within_cpu(PARSE_CPU_SECONDS, _inspect_with_rdflib, text)
    except BadRequest as exc:
        return exc
    except _OutOfTime:
        pass
    return engine_syntax_error(message, text)


def engine_syntax_error(message: str, text: str) -> SparqlSyntaxError:
    """A syntax error reported by the query engine (``error at LINE:COLUMN: ...``) in the same shape.

    >>> engine_syntax_error("error at 1:5: expected OPTIONAL", "ASK {").column
    5
    >>> engine_syntax_error("error at 1:12: expected OPTIONAL", "ASK { 'éé' ]").column  # byte 12 is character 10
    10
    """
    match = re.match(r"error at (\d+):(\d+): (.*)", message, re.DOTALL)
    if match is None:
        return SparqlSyntaxError(f"SPARQL syntax error: {message}", line=0, column=0, excerpt="")
    line_no, byte_column, detail = int(match.group(1)), int(match.group(2)), match.group(3)
    lines = text.split("\n")
    line = lines[line_no - 1] if 0 < line_no <= len(lines) else ""
    # the engine counts columns in UTF-8 bytes; a reader (and an editor) counts characters
    column = len(line.encode("utf-8")[:max(byte_column - 1, 0)].decode("utf-8", errors="ignore")) + 1
    return SparqlSyntaxError(
        f"SPARQL syntax error at line {line_no}, column {column}: {detail}", line=line_no, column=column,
        excerpt=excerpt(text, line_no, column),
    )
