"""The error family: each error carries the HTTP status it maps to and a message a person can act on."""

from __future__ import annotations

from collections.abc import Iterable


class EvidenceMapError(Exception):
    """Base of every error evidencemap reports to a user (CLI or HTTP). Its text is the message, then the hint:

    >>> error = InvalidParameter("Unknown facet 'colour'.", hint="Use one of: delivery, design.",
    ...                          allowed=["delivery", "design"])
    >>> str(error), error.status, error.allowed
    ("Unknown facet 'colour'. Use one of: delivery, design.", 422, ('delivery', 'design'))
    """

    status: int = 400

    def __init__(self, message: str, *, hint: str | None = None, allowed: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        # The valid choices when the error is about a choice (facet names, values, formats, media types).
        self.allowed: tuple[str, ...] = tuple(allowed)

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} {self.hint}"


class BadRequest(EvidenceMapError):
    """The request cannot be understood as it is (400)."""

    status = 400


class InvalidParameter(EvidenceMapError):
    """A parameter has the wrong type or an unknown value (422 when the type is wrong)."""

    status = 422


class NotFound(EvidenceMapError):
    """No resource under that identifier (404)."""

    status = 404


class Gone(EvidenceMapError):
    """A resource that was there and was replaced or withdrawn on purpose (410)."""

    status = 410


class NotAcceptable(EvidenceMapError):
    """None of the media types the client accepts can be produced (406)."""

    status = 406


class UnsupportedMediaType(EvidenceMapError):
    """The request body's media type is not one this endpoint reads (415)."""

    status = 415


class QueryRefused(EvidenceMapError):
    """A SPARQL request this read-only endpoint will not run (update, SERVICE, LOAD) (403)."""

    status = 403


class QueryTimeout(EvidenceMapError):
    """A query ran past the time limit and was stopped (503, as Apache Jena Fuseki answers)."""

    status = 503


class DataError(EvidenceMapError):
    """A data file is missing, unreadable or not valid RDF; nothing is loaded."""

    status = 400
