"""Content negotiation: which media type to answer with, from ``Accept`` (with q-values, RFC 9110 12.5.1) or from
a ``format`` parameter. Pure functions, no request objects; every part of the HTTP surface negotiates through them:
:func:`best` and :func:`preferred` for /api, the linked-data documents and the error pages, :func:`negotiate` for
/sparql, whose ``format`` values and separate tables for tabular (SELECT), boolean (ASK) and graph (CONSTRUCT,
DESCRIBE, the service description) results are defined here too.

>>> choose(OFFERS["tabular"], parse_accept("text/csv;q=0.5, application/sparql-results+xml")).media_type
'application/sparql-results+xml'
>>> choose(OFFERS["graph"], parse_accept("*/*")).media_type
'text/turtle'
>>> choose(OFFERS["graph"], parse_accept("application/sparql-results+json")) is None
True
>>> preferred("application/ld+json;q=0.5, */*;q=0.1", ("application/json", "application/ld+json"))
'application/ld+json'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from evidencemap.errors import BadRequest, NotAcceptable

T = TypeVar("T")


@dataclass(frozen=True)
class Offer:
    """A media type the endpoint can answer with, and the serialiser that writes it (``html``: the editor page)."""

    media_type: str
    serialiser: str


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float

    def specificity(self, media_type: str) -> int:
        """How precisely this range names ``media_type``: 2 exact, 1 ``type/*``, 0 ``*/*``, -1 not at all."""
        kind, _, sub = media_type.partition("/")
        if self.type == "*":
            return 0
        if self.type != kind:
            return -1
        if self.subtype == "*":
            return 1
        return 2 if self.subtype == sub else -1


HTML = Offer("text/html", "html")

# In the order the server prefers them when the client has no preference. Aliases answer with their own type.
OFFERS: dict[str, tuple[Offer, ...]] = {
    "tabular": (
        Offer("application/sparql-results+json", "json"),
        Offer("application/sparql-results+xml", "xml"),
        Offer("text/csv", "csv"),
        Offer("text/tab-separated-values", "tsv"),
        Offer("application/json", "json"),
        Offer("application/xml", "xml"),
        Offer("text/xml", "xml"),
        HTML,
        Offer("application/xhtml+xml", "html"),
    ),
    "boolean": (
        Offer("application/sparql-results+json", "json"),
        Offer("application/sparql-results+xml", "xml"),
        Offer("application/json", "json"),
        Offer("application/xml", "xml"),
        Offer("text/xml", "xml"),
        HTML,
        Offer("application/xhtml+xml", "html"),
    ),
    "graph": (
        Offer("text/turtle", "turtle"),
        Offer("application/n-triples", "ntriples"),
        Offer("application/ld+json", "jsonld"),
        Offer("application/rdf+xml", "rdfxml"),
        Offer("application/x-turtle", "turtle"),
        Offer("text/plain", "ntriples"),
        Offer("application/json", "jsonld"),
        Offer("application/xml", "rdfxml"),
        Offer("text/xml", "rdfxml"),
        HTML,
        Offer("application/xhtml+xml", "html"),
    ),
}

# ``format`` values: a short name for each kind of result; full media types are accepted too.
FORMATS: dict[str, dict[str, str]] = {
    "json": {"tabular": "application/sparql-results+json", "boolean": "application/sparql-results+json",
             "graph": "application/ld+json"},
    "xml": {"tabular": "application/sparql-results+xml", "boolean": "application/sparql-results+xml",
            "graph": "application/rdf+xml"},
    "csv": {"tabular": "text/csv"},
    "tsv": {"tabular": "text/tab-separated-values"},
    "html": {"tabular": "text/html", "boolean": "text/html", "graph": "text/html"},
    "turtle": {"graph": "text/turtle"},
    "ttl": {"graph": "text/turtle"},
    "ntriples": {"graph": "application/n-triples"},
    "nt": {"graph": "application/n-triples"},
    "jsonld": {"graph": "application/ld+json"},
    "json-ld": {"graph": "application/ld+json"},
    "rdfxml": {"graph": "application/rdf+xml"},
    "rdf": {"graph": "application/rdf+xml"},
}


def parse_accept(header: str | None) -> list[MediaRange]:
    """The media ranges of an ``Accept`` header; a missing or empty header accepts everything.

    Malformed parts (no ``/``, an unreadable q) are skipped rather than failing the request.
    """
    if not header or not header.strip():
        return [MediaRange("*", "*", 1.0)]
    ranges = []
    for part in header.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        kind, slash, sub = media.lower().partition("/")
        if not slash or not kind or not sub:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        ranges.append(MediaRange(kind, sub, q))
    return ranges


def quality(ranges: list[MediaRange], media_type: str) -> float:
    """The q the client gives ``media_type``: that of the most specific range naming it (RFC 9110 12.5.1)."""
    closest, q = -1, 0.0
    for r in ranges:
        s = r.specificity(media_type)
        if s > closest:
            closest, q = s, r.q
    return q if closest >= 0 else 0.0


def best(candidates: Sequence[T], ranges: list[MediaRange], media_types: Callable[[T], Iterable[str]]) -> T | None:
    """The candidate with the highest q above 0, a candidate taking the best q of its media types (a type and its
    aliases); the candidates' order (the server's preference) breaks ties. None when nothing is acceptable."""
    scored = [(max((quality(ranges, m) for m in media_types(c)), default=0.0), -i, c) for i, c in enumerate(candidates)]
    if not scored:
        return None
    q, _, chosen = max(scored, key=lambda t: (t[0], t[1]))
    return chosen if q > 0 else None


def choose(offers: tuple[Offer, ...], ranges: list[MediaRange]) -> Offer | None:
    """The offer with the highest q above 0 (the server's order breaks ties); None when nothing is acceptable."""
    return best(offers, ranges, lambda o: (o.media_type,))


def preferred(accept: str | None, offered: Sequence[str]) -> str | None:
    """The media type of ``offered`` that the ``Accept`` header prefers; the first one when it has no preference
    (no header, ``*/*`` or a tie); None when it rules out every one (answer :func:`not_acceptable`)."""
    return best(offered, parse_accept(accept), lambda m: (m,))


def not_acceptable(accept: str | None, offered: Iterable[str]) -> NotAcceptable:
    """The 406 for an ``Accept`` header that rules out everything offered, naming what would do."""
    return NotAcceptable(f"Cannot answer with {(accept or '').strip()!r}.", hint=f"Use one of: {', '.join(offered)}.")


def negotiate(accept: str | None, fmt: str | None = None) -> dict[str, Offer]:
    """For each kind of result, the offer to answer with; kinds the client cannot take are left out.

    :param accept: the ``Accept`` header.
    :param fmt: the ``format`` parameter (a short name such as ``csv`` or a media type); it overrides ``Accept``.
    :raises BadRequest: for an unknown ``format``.
    :raises NotAcceptable: when no kind of result at all can be sent in an acceptable type.
    """
    if fmt:
        return _by_format(fmt)
    ranges = parse_accept(accept)
    chosen = {kind: choose(offers, ranges) for kind, offers in OFFERS.items()}
    found = {kind: offer for kind, offer in chosen.items() if offer is not None}
    if not found:
        raise not_acceptable(accept, media_types())
    return found


def _by_format(fmt: str) -> dict[str, Offer]:
    name = fmt.strip().lower()
    if name in FORMATS:
        wanted: Mapping[str, str] = FORMATS[name]
    elif "/" in name:
        wanted = {kind: name for kind, offers in OFFERS.items() if any(o.media_type == name for o in offers)}
    else:
        wanted = {}
    if not wanted:
        raise BadRequest(
            f"Unknown format {fmt!r}.",
            hint=f"Use one of: {', '.join(FORMATS)} (or a media type such as text/csv).",
        )
    return {kind: next(o for o in OFFERS[kind] if o.media_type == media) for kind, media in wanted.items()}


def media_types(kind: str | None = None) -> list[str]:
    """The media types offered (for one kind of result, or for any), without repeats."""
    kinds = [kind] if kind else list(OFFERS)
    return list(dict.fromkeys(o.media_type for k in kinds for o in OFFERS[k]))
