"""RDF terms as the rest of the code sees them: the terms a query may be bound to, and plain Python values."""

from __future__ import annotations

import pyoxigraph as ox

from evidencemap import namespaces as ns

Binding = ox.NamedNode | ox.BlankNode | ox.Literal
PythonValue = str | int | float | bool

_INTEGER_TYPES = frozenset(ns.XSD + t for t in ("integer", "int", "long", "gYear"))
_FLOAT_TYPES = frozenset(ns.XSD + t for t in ("decimal", "double", "float"))
_BOOLEAN_TYPE = ns.XSD + "boolean"


def term_text(term: Binding | ox.Triple) -> str:
    """The text of a term: an IRI, a blank node's id, a literal's lexical form (a quoted RDF-star triple, which maps do
    not hold, as N-Triples).

    >>> term_text(ox.NamedNode("http://example.org/a")), term_text(ox.Literal("2022"))
    ('http://example.org/a', '2022')
    """
    return str(term) if isinstance(term, ox.Triple) else term.value


def to_python(term: Binding) -> PythonValue:
    """A term as a plain Python value: IRI -> str, typed literal -> int/float/bool/str, blank node -> '_:id'.

    >>> to_python(ox.NamedNode("https://w3id.org/evidencemap/data/dufour-2025/study/blay-2025"))
    'https://w3id.org/evidencemap/data/dufour-2025/study/blay-2025'
    >>> to_python(ox.Literal("2022", datatype=ox.NamedNode(ns.XSD + "gYear")))
    2022
    >>> to_python(ox.Literal("true", datatype=ox.NamedNode(ns.XSD + "boolean")))
    True
    >>> to_python(ox.Literal("online", language="en"))
    'online'
    """
    # Called for every value of every row: the datatype sets are built once, above, not on each call.
    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    datatype = term.datatype.value
    if datatype in _INTEGER_TYPES:
        try:
            return int(term.value)
        except ValueError:
            return term.value
    if datatype in _FLOAT_TYPES:
        return float(term.value)
    if datatype == _BOOLEAN_TYPE:
        return term.value == "true"
    return term.value
