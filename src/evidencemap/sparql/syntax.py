"""Where a SPARQL query stops being SPARQL: the line and column of the offending token, for error messages.

rdflib's parser (pyparsing) reports a position that is often not where the text goes wrong, for three reasons:

- it backtracks: when ``?s ?p ]`` fails inside a group, the alternatives that were tried are abandoned and the error
  is reported where the outermost of them started (the subject ``?s``, the ``ORDER`` of an ``ORDER BY`` followed by
  nothing, the ``SELECT`` of a sub-query), with the name of a grammar rule ("Expected SelectQuery") as the message;
- it expands tabs to 8 columns before parsing, so every column after a tab is counted in spaces;
- it replaces ``\\uXXXX`` escapes by their characters first, so every column after an escape is shifted.

:func:`locate` reads the text again with the same grammar and records the furthest position at which any terminal
(a keyword, punctuation, a regular expression) failed to match: no reading of the query got further, so that is the
first character that cannot belong to a query, the usual "furthest failure" of PEG parsers. Tabs are kept and
escapes mapped back, so the line and column count characters of the text as it was sent (1-based).

>>> where = locate("SELECT ?s WHERE {\\n  ?s ?p ?o .\\n  ?s ?p ]\\n}")
>>> (where.line, where.column, where.found)
(3, 9, ']')
>>> locate("ASK { ?s ?p ?o }") is None
True
"""

from __future__ import annotations

import bisect
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

# rdflib's grammar (and pyparsing) are imported on first use, as in the guard: only a query with a syntax error
# pays for this second reading.

EXPECTED_SHOWN = 8
# what is shown as the token found at the position (for the message only: the position is the grammar's)
WORD = re.compile(r"[\w-]")
SHOWN_TOKEN = re.compile(r"""[?$]\w*|<[^\s<>]*>?|"[^"\n]*"?|'[^'\n]*'?|[\w:.-]*\w|\S""")


@dataclass(frozen=True)
class SyntaxPosition:
    """Where the query cannot be read further: 1-based line and column (characters of the text as sent), the
    offset in that text, what stands there (``found``: a token, or "" at the end) and what the grammar would have
    accepted there.

    >>> locate("SELECT ?x WHERE { ?x ?p ?o } LIMT 3").describe()
    "line 1, column 30: unexpected 'LIMT' (expected GROUP, HAVING, LIMIT, OFFSET, ORDER, VALUES or end of text)"
    """

    line: int
    column: int
    offset: int
    found: str
    expected: tuple[str, ...]

    def describe(self) -> str:
        """The position in words: "line 3, column 9: unexpected ']' (expected '.', '}' or FILTER)"."""
        found = f"unexpected {self.found!r}" if self.found else "the query ends too early"
        if not self.expected or len(self.expected) > EXPECTED_SHOWN:  # a long list helps nobody
            return f"line {self.line}, column {self.column}: {found}"
        shown = list(self.expected)
        listed = ", ".join(shown[:-1]) + " or " + shown[-1] if len(shown) > 1 else shown[0]
        return f"line {self.line}, column {self.column}: {found} (expected {listed})"


_LOCK = threading.Lock()  # the tracking below patches pyparsing's class for the length of one reading


class _OverBudget(BaseException):
    """The reading used up its CPU time (a BaseException: no ``except Exception`` of the parser swallows it)."""


CHECK_EVERY = 64  # parse attempts between two looks at the CPU clock


def locate(text: str, cpu_seconds: float | None = None) -> SyntaxPosition | None:
    """Where rdflib's SPARQL query grammar can read ``text`` no further; None when it reads the whole text, or when
    the reading took more than ``cpu_seconds`` of CPU (rdflib's parser is slow on long ``VALUES`` or ``IN`` lists:
    the caller then keeps the position it has). The budget is checked by the reading itself, so it holds in any
    thread.

    ``text`` is the query as the guard checks it (line ends already normalised)."""
    from pyparsing import ParseBaseException, ParserElement, Token
    from rdflib.plugins.sparql.parser import Query, expandUnicodeEscapes_re

    expanded, origins = _expand_escapes(text, expandUnicodeEscapes_re)
    grammar = Query.copy()
    grammar.keepTabs = True  # columns count characters, not tab stops
    # comments are skipped before every token: their "#" fails everywhere, and says nothing about the query
    comments = _elements(grammar.ignoreExprs)
    furthest = -1
    expected: set[str] = set()
    deadline = None if cpu_seconds is None else time.process_time() + cpu_seconds
    calls = 0
    with _LOCK:
        original = ParserElement._parse

        def tracking(self: Any, instring: str, loc: int, *args: Any, **kwargs: Any) -> Any:
            nonlocal furthest, calls
            calls += 1
            if deadline is not None and calls % CHECK_EVERY == 0 and time.process_time() > deadline:
                raise _OverBudget
            try:
                return original(self, instring, loc, *args, **kwargs)
            except ParseBaseException as exc:
                if isinstance(self, Token) and id(self) not in comments:
                    if exc.loc > furthest:
                        expected.clear()
                        furthest = exc.loc
                    if exc.loc == furthest and (name := _name(self)):
                        expected.add(name)
                raise

        ParserElement._parse = tracking
        try:
            grammar.parse_string(expanded, parse_all=True)
        except ParseBaseException:
            pass
        except _OverBudget:
            return None
        else:
            return None
        finally:
            ParserElement._parse = original
    offset = origins[furthest] if 0 <= furthest < len(origins) else len(text)
    return _position(text, offset, tuple(sorted(expected, key=_order)))


def _expand_escapes(text: str, pattern: Any) -> tuple[str, list[int]]:
    """``text`` with its ``\\u``/``\\U`` escapes replaced as rdflib does, and for each character of the result (and
    its end) the offset in ``text`` it comes from."""
    pieces: list[str] = []
    origins: list[int] = []
    last = 0
    for match in pattern.finditer(text):
        try:
            char = chr(int(match.group(1), 16))
        except (ValueError, OverflowError):
            continue  # rdflib refuses it; the parse fails earlier or at it
        pieces.append(text[last:match.start()])
        origins.extend(range(last, match.start()))
        pieces.append(char)
        origins.append(match.start())
        last = match.end()
    pieces.append(text[last:])
    origins.extend(range(last, len(text) + 1))
    return "".join(pieces), origins


def _position(text: str, offset: int, expected: tuple[str, ...]) -> SyntaxPosition:
    # a token the grammar began to read and gave up inside (``LIMIT`` read as the start of a prefixed name, then
    # no colon): the token is what is wrong, so the position is its start (and what was expected inside it is not
    # what the reader needs)
    while 0 < offset <= len(text) and WORD.match(text[offset - 1]) and (offset == len(text) or text[offset].isspace()):
        start = offset - 1
        while start > 0 and WORD.match(text[start - 1]):
            start -= 1
        offset, expected = start, ()
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
    index = bisect.bisect_right(starts, offset) - 1
    token = SHOWN_TOKEN.match(text, offset)
    found = token.group(0)[:40] if token else ""
    return SyntaxPosition(line=index + 1, column=offset - starts[index] + 1, offset=offset, found=found,
                          expected=expected)


def excerpt(text: str, line: int, column: int) -> str:
    """The line of ``text`` and a caret under the column (its tabs kept, so that the caret lines up).

    >>> excerpt("ASK {\\n\\t?s ?p ]\\n}", 2, 8)
    '\\t?s ?p ]\\n\\t      ^'
    """
    lines = text.split("\n")
    if not 0 < line <= len(lines) or not lines[line - 1].strip():
        return ""
    shown = lines[line - 1]
    pad = "".join(c if c == "\t" else " " for c in shown[:column - 1])
    return f"{shown}\n{pad}^"


def _elements(roots: list[Any]) -> set[int]:
    """The ids of ``roots`` and of every element inside them."""
    seen: set[int] = set()
    todo = list(roots)
    while todo:
        element = todo.pop()
        if id(element) in seen:
            continue
        seen.add(id(element))
        todo.extend(getattr(element, "exprs", ()))
        inner = getattr(element, "expr", None)
        if inner is not None:
            todo.append(inner)
    return seen


def _name(element: Any) -> str:
    """A terminal as a reader knows it: a keyword or punctuation quoted as written, a rule by its name."""
    match = getattr(element, "match", None)
    if isinstance(match, str) and match:
        return match.upper() if match.isalpha() else repr(match)
    name = str(element)
    if name.startswith("Re:("):
        return ""  # an unnamed pattern: its regular expression would tell a reader nothing
    return name.strip("'\"") if name.startswith(("'", '"')) else name


def _order(name: str) -> tuple[int, str]:
    """Punctuation first, then keywords, then the names of rules (IRI, variable...)."""
    if name.startswith("'"):
        return 0, name
    return (1 if name.isupper() else 2), name
