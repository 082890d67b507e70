"""Content negotiation: which media type to answer with, from ``Accept`` (with q-values, RFC 9110 12.5.1) or from
a ``format`` parameter. Pure functions, no request objects; every part of the HTTP surface negotiates through them:
:func:`best` and :func:`preferred` for /api, the linked-data documents and the error pages, :func:`negotiate` for
/sparql, which offers separate tables for tabular (SELECT), boolean (ASK) and graph (CONSTRUCT, DESCRIBE, the
service description) results, built here from the formats each kind can be written in
(:data:`evidencemap.sparql.results.WRITABLE`) and their media types in :mod:`evidencemap.graph.formats`.

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

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from evidencemap.errors import BadRequest, NotAcceptable
from evidencemap.graph.formats import FILE_FORMATS, Format
from evidencemap.sparql.results import WRITABLE

T = TypeVar("T")


@dataclass(frozen=True)
class Offer:
    """A media type the endpoint can answer with, and the format it writes (``html``: the editor page)."""

    media_type: str
    format: Format

    @property
    def serialiser(self) -> str:
        """The short name of the format, as a :class:`~evidencemap.sparql.execution.QueryRequest` names it."""
        return self.format.name


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


HTML_PAGE = FILE_FORMATS["html"]


def _offers(formats: tuple[Format, ...]) -> tuple[Offer, ...]:
    """Each format's own media type in the server's order, then their aliases (which answer with their own type),
    then the editor page."""
    return (
        *(Offer(f.media_type, f) for f in formats),
        *(Offer(alias, f) for f in formats for alias in f.aliases),
        *(Offer(m, HTML_PAGE) for m in HTML_PAGE.media_types),
    )


# In the order the server prefers them when the client has no preference.
OFFERS: dict[str, tuple[Offer, ...]] = {kind: _offers(formats) for kind, formats in WRITABLE.items()}


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
    listed = list(offered)
    return NotAcceptable(f"Cannot answer with {(accept or '').strip()!r}.", hint=f"Use one of: {', '.join(listed)}.",
                         allowed=listed)


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
    """The ``format`` parameter: a name of a format (``csv``, ``turtle``; ``json`` and ``xml`` name the JSON and
    XML flavour of every kind) or a media type; each kind of result that can be written so gets its offer."""
    name = fmt.strip().lower()
    if "/" in name:
        found = {kind: next((o for o in offers if o.media_type == name), None) for kind, offers in OFFERS.items()}
    else:
        found = {kind: next((o for o in offers if name in o.format.names), None) for kind, offers in OFFERS.items()}
    chosen = {kind: offer for kind, offer in found.items() if offer is not None}
    if not chosen:
        raise BadRequest(
            f"Unknown format {fmt!r}.",
            hint=f"Use one of: {', '.join(format_names())} (or a media type such as text/csv).",
            allowed=format_names(),
        )
    return chosen


def format_names() -> list[str]:
    """The names the ``format`` parameter takes, without repeats."""
    return list(dict.fromkeys(n for offers in OFFERS.values() for o in offers for n in o.format.names))


def media_types(kind: str | None = None) -> list[str]:
    """The media types offered (for one kind of result, or for any), without repeats."""
    kinds = [kind] if kind else list(OFFERS)
    return list(dict.fromkeys(o.media_type for k in kinds for o in OFFERS[k]))
