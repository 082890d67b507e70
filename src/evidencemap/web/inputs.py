"""The input contract of the HTTP layer: every route reads its request input through these functions, so that the
same mistake gets the same status and the same error body everywhere (docs/api.md, "Errors").

- facet filters (``?delivery=online``): resolved against the vocabulary; an unknown facet or value is a **400** that
  lists what is allowed, a value of the wrong type (a year that is not a number) a **422**;
- other choices (gap-map axes and colour, network kind and layout, a cell, the support level): an unknown one is a
  **400**;
- paging: ``limit`` of the wrong type or out of range is a **422** (FastAPI checks the type; :func:`page` the size);
- ``format``: one parser for every endpoint, over a table of format name -> media type per endpoint; an unknown
  format is a **400**, and without ``format`` the ``Accept`` header chooses (web/negotiation.py), a **406** when it
  rules out every media type the endpoint offers;
- IRIs built from URL paths (``/data/...``, ``/concept/...``, ``/ontology/...``): a path that cannot make an IRI
  (a space, ``<``, ``"``, a control character, broken percent-encoding) names nothing: **404**, checked before any
  store sees it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import pyoxigraph as ox
from starlette.requests import Request

from evidencemap.errors import BadRequest, InvalidParameter, NotAcceptable, NotFound
from evidencemap.graph.formats import FILE_FORMATS, RDF_FORMATS, Format
from evidencemap.graph.store import EvidenceMap
from evidencemap.model.facets import Selection
from evidencemap.model.recorded import is_recorded, not_recorded_sentence, recorded_facets
from evidencemap.model.support import support_levels
from evidencemap.model.vocabulary import Vocabulary
from evidencemap.settings import Settings
from evidencemap.web.negotiation import preferred

JSON, JSONLD, CSV = FILE_FORMATS["json"].media_type, RDF_FORMATS["jsonld"].media_type, FILE_FORMATS["csv"].media_type
HTML, SVG, PNG = FILE_FORMATS["html"].media_type, FILE_FORMATS["svg"].media_type, FILE_FORMATS["png"].media_type
GRAPHML, GEXF = FILE_FORMATS["graphml"].media_type, FILE_FORMATS["gexf"].media_type

# format name -> media type, per kind of endpoint (from the formats registry); the first is the default (what ``*/*``
# or no Accept gets).
Formats = Mapping[str, str]


def offered(*formats: Format) -> Formats:
    """The ``format=`` names an endpoint answers to, each with its media type, in the endpoint's order."""
    return {f.name: f.media_type for f in formats}


API_FORMATS = offered(FILE_FORMATS["json"], RDF_FORMATS["jsonld"])
STUDIES_FORMATS = offered(FILE_FORMATS["json"], RDF_FORMATS["jsonld"], FILE_FORMATS["csv"])
JSON_ONLY = offered(FILE_FORMATS["json"])
GAPMAP_FORMATS = offered(FILE_FORMATS["json"], FILE_FORMATS["csv"], FILE_FORMATS["svg"])
NETWORK_FORMATS = offered(FILE_FORMATS["json"], FILE_FORMATS["graphml"], FILE_FORMATS["gexf"])
SVG_ONLY = offered(FILE_FORMATS["svg"])
PNG_ONLY = offered(FILE_FORMATS["png"])
PAGE_FORMATS = offered(FILE_FORMATS["html"], FILE_FORMATS["json"])

# Characters that cannot appear in an IRI (RFC 3987: outside iunreserved, reserved and pct-encoded).
_NOT_IN_IRI = re.compile(r'[\x00-\x20\x7f-\x9f<>"{}|\\^`]')
_BROKEN_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


# -- choices -------------------------------------------------------------------------------------------------------


def unknown_choice(message: str, choices: Sequence[str], what: str = "Use one of") -> BadRequest:
    """The 400 for a value that is not among ``choices``, listing them (``allowed`` in the error body)."""
    return BadRequest(message, hint=f"{what}: {', '.join(choices)}.", allowed=choices)


def _is_about_a_choice(error: InvalidParameter) -> bool:
    """Whether the core refused a name or value it does not know (rather than one of the wrong type)."""
    return bool(error.allowed) or (error.hint or "").startswith("Use one of") or error.message.startswith(
        ("Unknown ", "No ")
    )


@contextmanager
def choices_checked() -> Iterator[None]:
    """Report the core's "unknown facet / value / axis / cell" (InvalidParameter, 422) as the contract's 400; an
    InvalidParameter about a type (a year that is not a number) stays a 422."""
    try:
        yield
    except InvalidParameter as error:
        if not _is_about_a_choice(error):
            raise
        raise BadRequest(error.message, hint=error.hint, allowed=error.allowed or hinted(error.hint)) from None


def hinted(hint: str | None) -> tuple[str, ...]:
    """The choices listed by a hint of the form "Use one of: a, b, c." (empty when it lists none)."""
    if not hint:
        return ()
    match = re.match(r"^(?:Use one of|Schemes|Versions|Graphs|Use at most)[^:]*:\s*(.*?)\.?\s*$", hint, re.S)
    if not match or hint.startswith("Use at most"):
        return ()
    listed = re.sub(r"\s*\(.*\)$", "", match.group(1))
    return tuple(part.strip() for part in listed.split(",") if part.strip())


def choice(value: str | None, allowed: Sequence[str], name: str, default: str) -> str:
    """One of ``allowed`` (``default`` when the parameter is absent or blank); :raises BadRequest: otherwise."""
    chosen = (value or "").strip() or default
    if chosen not in allowed:
        raise unknown_choice(f"Unknown {name} {chosen!r}.", allowed)
    return chosen


def one(request: Request, name: str) -> str | None:
    """A parameter given once or repeated (joined with commas); None when absent or blank."""
    values = [v for v in request.query_params.getlist(name) if v.strip()]
    return ",".join(values) if values else None


def support_level(evidence_map: EvidenceMap, value: str | None) -> str:
    """The ``support`` parameter: the weakest support kind the reader accepts, one of the ontology's kinds (cited,
    derived, inferred); the weakest (every fact) when absent. :raises BadRequest: for another value, listing them."""
    levels = support_levels(evidence_map)
    return choice((value or "").strip().lower() or None, levels.names, "support level", levels.weakest)


def support_params(evidence_map: EvidenceMap, level: str | None) -> list[tuple[str, str]]:
    """``[("support", level)]`` for a level stricter than the default (so that a share link keeps it), else []."""
    return [("support", level)] if level and support_levels(evidence_map).is_strict(level) else []


# -- facet filters -------------------------------------------------------------------------------------------------


def selection(
    vocabulary: Vocabulary,
    items: Iterable[tuple[str, str]],
    reserved: Sequence[str],
    evidence_map: EvidenceMap | None = None,
) -> Selection:
    """The facet filters among the query parameters: every parameter not in ``reserved`` names a facet.

    :raises BadRequest: for an unknown parameter (neither reserved nor a facet) or an unknown value, with the
        valid ones in ``allowed``; for a facet ``evidence_map`` (when given) does not record, whose filter would
        answer "0 studies" where the truth is "this map does not say" (model/recorded.py);
    :raises InvalidParameter: for a value of the wrong type (a year that is not a number).
    """
    grouped: dict[str, list[str]] = {}
    for key, value in items:
        if key not in reserved:
            grouped.setdefault(key, []).append(value)
    names = [f.name for f in vocabulary.facets]
    for name, values in grouped.items():
        if name not in names:
            raise unknown_choice(f"Unknown facet {name!r}.", [*names, *reserved])
        facet = vocabulary.facet(name)
        if evidence_map is not None and not is_recorded(evidence_map, facet):
            recorded = [f.name for f in recorded_facets(evidence_map, vocabulary.facets)]
            raise BadRequest(f"{not_recorded_sentence(facet)} No study of it can be chosen by {facet.label}.",
                             hint="Filter by what the map records.", allowed=recorded)
        if facet.is_concept_facet:
            slugs = [c.slug for c in facet.concepts]
            for value in (v.strip() for raw in values for v in raw.split(",")):
                if value and value not in slugs:
                    raise unknown_choice(f"Unknown value {value!r} for facet {name!r}.", slugs)
    with choices_checked():
        return Selection.parse(vocabulary, grouped)


# -- paging --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """A page of a list: ``size`` items from ``offset``; ``asked`` is the limit the request gave (None: default)."""

    size: int
    offset: int
    asked: int | None = None


def page(settings: Settings, limit: int | None, offset: int = 0) -> Page:
    """The page a request asks for; :raises InvalidParameter: (422) for a limit above the maximum."""
    if limit is None:
        return Page(settings.default_page_size, offset)
    if limit > settings.max_page_size:
        raise InvalidParameter(f"limit={limit} is too large.", hint=f"Use at most {settings.max_page_size}.")
    return Page(limit, offset, limit)


# -- format and Accept ---------------------------------------------------------------------------------------------


def media_type(request: Request, formats: Formats, fmt: str | None = None) -> str:
    """The media type to answer with: the ``format`` parameter if given, else the one ``Accept`` prefers (the
    table's first on a tie or without a preference).

    :raises BadRequest: for a format not in ``formats`` (400, listing them);
    :raises NotAcceptable: when ``Accept`` rules out every media type of ``formats`` (406, listing them).
    """
    if fmt is not None and fmt.strip():
        name = fmt.strip().lower()
        if name not in formats:
            raise unknown_choice(f"Unknown format {fmt!r}.", list(formats))
        return formats[name]
    accept = request.headers.get("accept")
    offered = list(dict.fromkeys(formats.values()))
    chosen = preferred(accept, offered)
    if chosen is None:
        raise refused(accept, offered)
    return chosen


def refused(accept: str | None, offered: Sequence[str]) -> NotAcceptable:
    """The 406 for an ``Accept`` header that rules out everything offered, naming (and listing) what would do."""
    return NotAcceptable(f"Cannot answer with {(accept or '').strip()!r}.",
                         hint=f"Use one of: {', '.join(offered)}.", allowed=offered)


# -- IRIs from URL paths -------------------------------------------------------------------------------------------


def checked_iri(iri: str, path: str) -> str:
    """``iri`` (built from the request path ``path``) when it is a valid IRI.

    :raises NotFound: when it is not (nothing can have it): the path holds a space, ``<``, ``>``, ``"``, ``{``,
        ``}``, ``|``, ``\\``, ``^``, a backtick or a control character, or a ``%`` not followed by two hex digits.
    """
    bad = _NOT_IN_IRI.search(iri) or _BROKEN_PERCENT.search(iri)
    if bad is None:
        try:
            ox.NamedNode(iri)
        except ValueError:
            bad = None
        else:
            return iri
    if bad is None:
        where = ""
    elif bad.group() == "%":
        where = " (a '%' must start a percent-encoded byte such as %20)"
    else:
        where = f" ({bad.group()!r} cannot appear in an IRI)"
    raise NotFound(
        f"Nothing at {path!r}: it does not make a valid IRI{where}.",
        hint="IRIs served here are made of letters, digits and - . _ ~ / : characters; "
        "percent-encode anything else once.",
    )
