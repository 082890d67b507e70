"""A small, linear-time reading of SPARQL text that finds what the engine could read as a keyword.

The guard must see what the engine runs (issue 9: a comment ended by a bare carriage return hid ``SERVICE`` from
rdflib while pyoxigraph read it). So the decision that matters, "could this text call another server?", is made
here, on the exact text the engine receives, and it is made *conservatively*: the text is split into the regions
that can never hold a keyword (string literals, IRIs, comments, variable names, local names of prefixed names,
language tags) and everything else, the code. A keyword the engine reads is a run of letters in the code, so a
query whose code never contains the letters ``service`` (in any case, with or without word boundaries: ``1SERVICE``
and ``SERVICEx:y`` are read by the engine as a number or a keyword followed by another token) cannot call a
service. Each skipped region is at most what the engine itself reads as one token, so nothing the engine treats as
code is skipped:

- IRIs are recognised more generously than the grammar allows (any run without white space or ``<>{}"``), so a
  ``#`` inside an IRI never starts a comment here; such a run cannot hide a keyword, which would need white space
  or a ``{`` group after it. A run holding an apostrophe is refused as ambiguous (``?a<'x'>`` compares with a
  string, ``<a'b>`` is an IRI): the two readings would disagree on where a string starts.
- Variable and local names are skipped only over ASCII letters, digits, ``_`` (and ``-`` inside a local name): the
  engine reads longer names, never shorter ones.
- Outside strings a backslash takes the next character with it (``ex:a\\#b`` is a local name, not a comment).

Unicode escapes (``\\u0053ERVICE``) are read both as they are and once unescaped, as the SPARQL grammar describes
(:func:`unescape_codepoints`), so either reading of the engine is covered.

>>> scan('SELECT * { ?s <http://e.org/SERVICE> "SERVICE" } # SERVICE').service_at
-1
>>> scan("SELECT * WHERE { # c\\r SERVICE <http://127.0.0.1:9/> { ?x ?y ?z } }").called
'<http://127.0.0.1:9/>'
>>> scan("SELECT * { ?s ?p 1SERVICE <http://e.org/> {} }").service_at > 0
True
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

WORD_CHARS = re.compile(r"[A-Za-z0-9_]+")
LOCAL_CHARS = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?")
LANGTAG = re.compile(r"@[A-Za-z]+(?:-[A-Za-z0-9]+)*")
LOOSE_IRI = re.compile(r'<[^\s<>{}"]*>')
END_OF_LINE = re.compile(r"[\n\r]")
ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
CALLED = re.compile(r"\s*(?:silent\b\s*)?(<[^>\s]*>|[?$][A-Za-z0-9_]+|[A-Za-z0-9_-]*:[A-Za-z0-9_.-]*)", re.IGNORECASE)
QUERY_FORMS = ("select", "ask", "construct", "describe")
UPDATE_WORDS = ("load", "clear", "drop", "create", "add", "move", "copy", "insert", "delete", "with")


@dataclass
class Reading:
    """What the scan found: the code (outside literals, IRIs, comments and names) and where SERVICE appears."""

    code: str
    service_at: int = -1  # position of the letters "service" in ``code``; -1 when they never appear
    called: str = ""  # what follows SERVICE [SILENT]: the IRI, variable or prefixed name called
    words: list[str] = field(default_factory=list)  # the code's words, lower case, in order
    prefixes: dict[str, str] = field(default_factory=dict)  # PREFIX declarations
    ambiguous: str = ""  # an IRI-like run with an apostrophe, which the engine may read two ways
    depth: int = 0  # the deepest nesting of brackets ( { [ in the code

    @property
    def form(self) -> str | None:
        """The query form named by the first form keyword (SELECT, ASK, CONSTRUCT, DESCRIBE), if any."""
        for word in self.words:
            if word in QUERY_FORMS:
                return word.upper()
            if word in UPDATE_WORDS:
                return None
        return None

    @property
    def has_dataset(self) -> bool:
        return "from" in self.words

    @property
    def update_words(self) -> list[str]:
        return [w.upper() for w in self.words if w in UPDATE_WORDS]


def normalise_line_ends(text: str) -> str:
    """CR LF and a bare CR become LF: the text that both the guard and the engine read.

    SPARQL ends a comment at CR or LF; some parsers end it only at LF. A browser's form sends CR LF anyway.

    >>> normalise_line_ends("ASK {} # c\\r\\nX\\rY")
    'ASK {} # c\\nX\\nY'
    """
    return text.replace("\r\n", "\n").replace("\r", "\n")


def unescape_codepoints(text: str) -> str:
    """``\\uXXXX`` and ``\\UXXXXXXXX`` replaced by their characters, once, anywhere (SPARQL 1.1 section 19.2).

    >>> unescape_codepoints("\\\\u0053ERVICE")
    'SERVICE'
    """

    def char(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else match.group(0)

    return ESCAPE.sub(char, text)


def scan(text: str) -> Reading:
    """Read ``text`` (and its unescaped form, when it has escapes) and report what could be a keyword."""
    reading = _scan_once(text)
    unescaped = unescape_codepoints(text)
    if unescaped != text and reading.service_at < 0 and not reading.ambiguous:
        other = _scan_once(unescaped)
        if other.service_at >= 0 or other.ambiguous:
            return other
    return reading


def _scan_once(text: str) -> Reading:
    code: list[str] = []
    starts: list[tuple[int, int]] = []  # (index in ``code``, position in the text) of each copied word
    ambiguous = ""
    words: list[str] = []
    prefixes: dict[str, str] = {}
    i, n = 0, len(text)
    pending_prefix: str | None = None  # after PREFIX name:, waiting for its IRI
    level = depth = 0  # brackets open now; the most open at once
    while i < n:
        c = text[i]
        if c in " \t\n\r":
            code.append(" ")
            i += 1
        elif c == "#":  # a comment ends at LF or CR (the SPARQL grammar's end of line)
            match = END_OF_LINE.search(text, i)
            i = match.start() if match else n
        elif c in "\"'":
            i = _skip_string(text, i)
            code.append(" ")
            tag = LANGTAG.match(text, i)
            if tag:
                i = tag.end()
        elif c == "<" and (iri := LOOSE_IRI.match(text, i)):
            if "'" in iri.group(0) and not ambiguous:
                ambiguous = iri.group(0)
            if pending_prefix is not None:
                prefixes[pending_prefix] = iri.group(0)[1:-1]
                pending_prefix = None
            code.append(" ")
            i = iri.end()
        elif c in "?$" and (name := WORD_CHARS.match(text, i + 1)):
            code.append(" ")
            i = name.end()
        elif c == "\\":
            code.append(" ")
            i += 2
        elif WORD_CHARS.match(c) or c == "-" or c == "." or ord(c) > 0x7F:
            j = i
            while j < n and (text[j].isalnum() or text[j] in "_-." or ord(text[j]) > 0x7F):
                j += 1
            word = text[i:j]
            starts.append((len(code), i))
            code.append(word)
            if j < n and text[j] == ":":
                if words and words[-1] == "prefix":
                    pending_prefix = word
                local = LOCAL_CHARS.match(text, j + 1)
                i = local.end() if local else j + 1
                code.append(" ")
            else:
                words.append(word.lower())
                i = j
        elif c == ":":
            if words and words[-1] == "prefix":
                pending_prefix = ""
            local = LOCAL_CHARS.match(text, i + 1)
            i = local.end() if local else i + 1
            code.append(" ")
        else:
            if c in "({[":
                level += 1
                depth = max(depth, level)
            elif c in ")}]":
                level -= 1
            code.append(c)
            i += 1
    joined = "".join(code)
    at = joined.lower().find("service")
    called = _called(text, _in_code(code, starts), at) if at >= 0 else ""
    return Reading(joined, at, called, words, prefixes, ambiguous, depth)


def _in_code(code: list[str], starts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``starts`` with each word's index in ``code`` turned into its position in the joined code: one pass (a sum
    of the lengths before each word, taken at every word, made the scan quadratic: 7 s for a 73 KB ``IN`` list)."""
    offsets = [0, *itertools.accumulate(map(len, code))]
    return [(offsets[index], position) for index, position in starts]


def _called(text: str, starts: list[tuple[int, int]], at: int) -> str:
    """What follows SERVICE [SILENT] in the text: the IRI, variable or prefixed name called (for the message)."""
    in_text = next((t + at - c for c, t in reversed(starts) if c <= at), -1)
    match = CALLED.match(text, in_text + len("service")) if in_text >= 0 else None
    return match.group(1) if match and match.group(1) else "a service"


def _skip_string(text: str, start: int) -> int:
    """The position after the string literal starting at ``start``. A short string ends at its quote or, being
    malformed, at the end of its line (the rest is read as code: the engine refuses such a string anyway)."""
    quote = text[start]
    n = len(text)
    if text.startswith(quote * 3, start):
        i = start + 3
        while i < n:
            if text[i] == "\\":
                i += 2
            elif text.startswith(quote * 3, i):
                return i + 3
            else:
                i += 1
        return n
    i = start + 1
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
        elif ch == quote:
            return i + 1
        elif ch in "\n\r":
            return i
        else:
            i += 1
    return n
