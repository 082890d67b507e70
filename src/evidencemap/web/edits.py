"""Writes over HTTP, for a review team holding a write token (docs/living-map.md): add, update and retract a study,
add facts or claims. Each change needs ``?message=`` (why) and ``Authorization: Bearer <token>``; without a state
folder (``evidencemap serve --state DIR``) the server is read-only and these routes answer 405.

Statuses: 201 (added) or 200 with the change; 401 without a valid token (``WWW-Authenticate: Bearer``); 403 for a
token of another map; 404 / 409 / 410 for a study that is not there, already there or retracted; 415 for a body
that is not JSON, Turtle or JSON-LD; 422 with every problem the shapes and the claims check found, nothing written.
"""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Annotated

import pyoxigraph as ox
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from evidencemap.errors import BadRequest, EvidenceMapError, NotFound, UnsupportedMediaType
from evidencemap.graph.journal import Record
from evidencemap.graph.tokens import TokenEntry
from evidencemap.graph.writes import LivingMap
from evidencemap.model import edits
from evidencemap.model.changes import Refused, as_dict, change_info, retraction_of, submit
from evidencemap.model.studies import find_study
from evidencemap.model.vocabulary import Vocabulary, vocabulary_of
from evidencemap.namespaces import last_segment
from evidencemap.web.context import AppContext, get_context
from evidencemap.web.errors import error_body, error_response

router = APIRouter(prefix="/api", tags=["review team"])

Message = Annotated[str, Query(max_length=2000, description="Why the change is made (required), shown in the "
                                                           "change list and the feeds.")]


class MethodNotAllowed(EvidenceMapError):
    status = 405


class Unauthorized(EvidenceMapError):
    status = 401


class Forbidden(EvidenceMapError):
    status = 403


def install_living(app: FastAPI, context: AppContext) -> None:
    """Open the map for writing when the settings name a state folder (its journal replayed), and answer 410 for a
    retracted study."""
    app.state.living = None
    app.state.living_maps = {}
    state = getattr(context.settings, "state", "")
    if state:
        evidence_map = context.evidence_map
        slugs = evidence_map.map_slugs()
        if len(slugs) > 1:  # several maps: each its own journal, written through its scoped view
            app.state.living_maps = {slug: LivingMap(evidence_map.scoped(slug), Path(state), slug) for slug in slugs}
        else:
            living = LivingMap(evidence_map, Path(state), slugs[0] if slugs else None)
            app.state.living_maps = {living.slug: living}
            app.state.living = living

    app.add_middleware(RetractedStudies)


class RetractedStudies:
    """A retracted study's address (``/studies/{id}``, ``/api/studies/{id}``) answers 410 with the change that
    retracted it and why, before the routes (which no longer find it) would answer 404. Plain ASGI, so that a
    request's body streams through untouched (the body cap of web/security.py raises inside it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            found = STUDY_PATH.fullmatch(scope["path"])
            request = Request(scope, receive)
            record = _retraction(request, found.group(1)) if found and living_maps(request) else None
            if found and record is not None:
                response = error_response(
                    request, 410, f"Study {found.group(1)} was retracted by change {record.number} ({record.time}): "
                    f"{record.message}", hint=f"See /api/changes/{record.number}?map={record.map}.")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def refresh_sparql(app: FastAPI) -> None:
    """Give /sparql workers that see the change before the write is answered (the pool's ``refresh``, when it has
    one: a coroutine that returns once the new workers are ready)."""
    refresh = getattr(getattr(app.state, "sparql_pool", None), "refresh", None)
    if refresh is not None:
        outcome = refresh()
        if inspect.isawaitable(outcome):
            await outcome


STUDY_PATH = re.compile(r"/(?:api/)?studies/([A-Za-z0-9._~-]{1,200})")


def living_maps(request: Request) -> dict[str, LivingMap]:
    """The maps open for writing, by slug (none on a read-only server)."""
    found: dict[str, LivingMap] = getattr(request.app.state, "living_maps", None) or {}
    return found


def authorised(request: Request, slug: str | None = None) -> tuple[LivingMap, TokenEntry]:
    """The map a change goes to (``slug``, else the token's own) and the token's entry.

    :raises MethodNotAllowed: on a read-only server; :raises Unauthorized: without a valid token; :raises
        Forbidden: for a token of another map.
    """
    maps = living_maps(request)
    if not maps:
        raise MethodNotAllowed("This server is read-only.",
                               hint="Start it with `evidencemap serve --state DIR` to accept changes.")
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    tokens = next(iter(maps.values())).tokens
    entry = tokens.verify(token) if scheme.lower() == "bearer" else None
    if entry is None:
        raise Unauthorized("A change needs a valid write token: Authorization: Bearer <token>.",
                           hint="A map's maintainers make one with `evidencemap token create --map SLUG --holder "
                                "NAME`.")
    wanted = slug or entry.map
    if entry.map != wanted or wanted not in maps:
        raise Forbidden(f"This token writes to map {entry.map!r}, not {wanted!r}.")
    return maps[wanted], entry


def _retraction(request: Request, identifier: str) -> Record | None:
    for living in living_maps(request).values():
        record = retraction_of(living, identifier)
        if record is not None:
            return record
    return None


def _answer(request: Request, exc: EvidenceMapError) -> Response:
    response = error_response(request, exc.status, exc.message, exc.hint, exc.allowed)
    if isinstance(exc, Unauthorized):
        response.headers["WWW-Authenticate"] = 'Bearer realm="evidencemap"'
    if isinstance(exc, MethodNotAllowed):
        response.headers["Allow"] = "GET, HEAD"
    if isinstance(exc, Refused):
        body = error_body(exc.status, exc.message, exc.hint)
        body["problems"] = [{"focus": p.focus, "message": p.message, "path": p.path} for p in exc.problems]
        return JSONResponse(body, status_code=exc.status)
    return response


async def _body(request: Request) -> tuple[bytes, str]:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in edits.BODY_TYPES:
        raise UnsupportedMediaType(f"A change's body is JSON, Turtle or JSON-LD, not {media or 'unlabelled'}.",
                                   allowed=edits.BODY_TYPES)
    return await request.body(), media


async def _change(request: Request, ctx: AppContext, kind: str, message: str, slug: str | None = None,
                  study: str | None = None) -> Response:
    try:
        living, token = authorised(request, slug)
        body, media = (b"", "") if kind == "retract" else await _body(request)

        def work() -> Response:
            vocabulary = vocabulary_of(living.map)
            if kind == "retract":
                edit = edits.retract_study(living, study or "")
            elif kind == "add":
                edit = edits.add_study(living, edits.parse_body(living, vocabulary, body, media))
            elif kind == "update":
                iri = living.map.canonical(find_study(living.map, study or ""))
                triples = edits.parse_body(living, vocabulary, body, media, iri)
                edit = edits.update_study(living, study or "", triples, json_shape=media == edits.JSON)
            elif kind == "facts":
                edit = edits.add_facts(living, study or "", _facts(living, vocabulary, body, media, study or ""))
            else:
                edit = edits.add_claims(living, edits.parse_body(living, vocabulary, body, media))
            record = submit(living, vocabulary, edit, token, message)
            info = as_dict(change_info(living.map, record))
            return JSONResponse({"ok": True, "change": info}, status_code=201 if kind == "add" else 200,
                                headers={"Location": f"/api/changes/{record.number}"})

        # The facet index of the new version was made from the previous one in the commit (model/facet_index.py):
        # no reader waits for a whole build after a write.
        response = await run_in_threadpool(work)
        await refresh_sparql(request.app)
        return response
    except EvidenceMapError as exc:
        if isinstance(exc, NotFound) and study:
            record = _retraction(request, study)
            if record is not None:
                exc = edits.Gone(f"Study {study} was retracted by change {record.number}: {record.message}",
                                 hint=f"See /api/changes/{record.number}.")
        return _answer(request, exc)


def _facts(living: LivingMap, vocabulary: Vocabulary, body: bytes, media: str, study: str) -> list[ox.Triple]:
    """Facts as findings: a JSON list of facts (the shape of a study's ``facts``), or Turtle / JSON-LD findings."""
    iri = living.map.canonical(find_study(living.map, study))
    if media == edits.JSON:
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise BadRequest(f"The body is not valid JSON: {exc}.") from None
        facts = data.get("facts") if isinstance(data, dict) else data
        current = edits.description(living, iri)
        intervention = next((q.object.value for q in current if q.predicate.value == edits.EVM + "evaluates"
                             and isinstance(q.object, ox.NamedNode)), None)
        return edits.facts_from_json(living, vocabulary, facts, iri, intervention, last_segment(iri))
    return edits.parse_body(living, vocabulary, body, media, iri)


@router.post("/studies", status_code=201, summary="Add a study (write token)")
async def post_study(request: Request, ctx: Annotated[AppContext, Depends(get_context)], message: Message) -> Response:
    """Add a study to the token's map: the body is the study in the JSON shape of `GET /api/studies/{id}` (with
    `facts`, each with `support` and `passage`), or Turtle / JSON-LD."""
    return await _change(request, ctx, "add", message)


@router.post("/maps/{slug}/studies", status_code=201, summary="Add a study to a map (write token)")
async def post_map_study(request: Request, slug: str, ctx: Annotated[AppContext, Depends(get_context)],
                         message: Message) -> Response:
    """As `POST /api/studies`, naming the map: a token of another map gets 403."""
    return await _change(request, ctx, "add", message, slug=slug)


@router.put("/studies/{study_id}", summary="Replace a study's description (write token)")
async def put_study(request: Request, study_id: str, ctx: Annotated[AppContext, Depends(get_context)],
                    message: Message) -> Response:
    """Replace the study's description (its record, report, intervention and findings) by the body's; its IRI
    stays."""
    return await _change(request, ctx, "update", message, study=study_id)


@router.delete("/studies/{study_id}", summary="Retract a study (write token)")
async def delete_study(request: Request, study_id: str, ctx: Annotated[AppContext, Depends(get_context)],
                       message: Message) -> Response:
    """Retract the study: it leaves every list and count; its address then answers 410 with the change (and its
    reason, the message) that retracted it."""
    return await _change(request, ctx, "retract", message, study=study_id)


@router.post("/studies/{study_id}/facts", summary="Add facts to a study (write token)")
async def post_facts(request: Request, study_id: str, ctx: Annotated[AppContext, Depends(get_context)],
                     message: Message) -> Response:
    """Add findings about the study or its intervention: a JSON list of facts, or Turtle / JSON-LD findings."""
    return await _change(request, ctx, "facts", message, study=study_id)


@router.post("/maps/{slug}/claims", summary="Add claims of the review (write token)")
async def post_claims(request: Request, slug: str, ctx: Annotated[AppContext, Depends(get_context)],
                      message: Message) -> Response:
    """Add review-level claims (Turtle or JSON-LD, as in the map's claims.ttl)."""
    return await _change(request, ctx, "claims", message, slug=slug)
