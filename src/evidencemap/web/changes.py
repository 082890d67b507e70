"""What changed in a living map: ``/api/changes`` (paged, JSON or Turtle), one change, the Atom feed of every
change (``/changes.atom``), the feed of the changes affecting a study list (``/api/studies.atom?<the list's
filters>``), the "What changed" page (``/changes``), and the map at an old version (``/versions/{n}/map.nq``).
A read-only server (no state folder) has no changes: the lists are empty."""

from __future__ import annotations

from typing import Annotated

import pyoxigraph as ox
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel

from evidencemap.errors import NotFound
from evidencemap.graph.journal import Record, parse_quads
from evidencemap.graph.writes import LivingMap
from evidencemap.model.changes import ChangeInfo, affects, as_dict, change_info
from evidencemap.publish.feeds import ATOM_TYPE, FeedEntry, atom_feed
from evidencemap.publish.versions import version_dump as dump_of_version
from evidencemap.web import inputs
from evidencemap.web.api import parse_selection
from evidencemap.web.context import AppContext, get_context
from evidencemap.web.templating import render_page

router = APIRouter(tags=["changes"])

TURTLE = "text/turtle"


class ChangeItem(BaseModel):
    map: str
    number: int
    iri: str
    time: str
    holder: str
    message: str
    kind: str
    version: str
    studies: list[str]
    added: int
    removed: int
    url: str


class ChangesPage(BaseModel):
    total: int
    limit: int
    offset: int
    changes: list[ChangeItem]
    next: str | None = None
    prev: str | None = None
    feed: str = "/changes.atom"
    writable: bool = False


def _maps(request: Request) -> dict[str, LivingMap]:
    found: dict[str, LivingMap] = getattr(request.app.state, "living_maps", None) or {}
    return found


def _living(request: Request, slug: str | None = None) -> LivingMap | None:
    """The map open for writing named ``slug``, or the only one; None on a read-only server.

    :raises NotFound: when several maps are open and none is named (or an unknown one is).
    """
    maps = _maps(request)
    if not maps:
        return None
    if slug is None and len(maps) == 1:
        return next(iter(maps.values()))
    if slug not in maps:
        raise NotFound("Name the map: ?map=SLUG." if slug is None else f"No map {slug!r} here.", allowed=sorted(maps))
    return maps[slug]


def _records(request: Request) -> list[Record]:
    """Every change of every map open for writing, oldest first (by time, then map and number)."""
    records = [r for living in _maps(request).values() for r in living.journal]
    return sorted(records, key=lambda r: (r.time, r.map, r.number))


def _item(ctx: AppContext, record: Record) -> ChangeItem:
    info: ChangeInfo = change_info(ctx.evidence_map, record)
    return ChangeItem.model_validate({**as_dict(info), "map": record.map,
                                      "url": f"/api/changes/{record.number}?map={record.map}"})


def build_changes_page(request: Request, ctx: AppContext, limit: int | None, offset: int) -> ChangesPage:
    page = inputs.page(ctx.settings, limit, offset)
    records = list(reversed(_records(request)))
    chosen = records[page.offset:page.offset + page.size]
    total = len(records)
    nxt = f"/api/changes?limit={page.size}&offset={page.offset + page.size}" if page.offset + page.size < total \
        else None
    prev = f"/api/changes?limit={page.size}&offset={max(0, page.offset - page.size)}" if page.offset else None
    return ChangesPage(total=total, limit=page.size, offset=page.offset, changes=[_item(ctx, r) for r in chosen],
                       next=nxt, prev=prev, writable=bool(_maps(request)))


def _prov_turtle(ctx: AppContext, records: list[Record]) -> bytes:
    base = ctx.evidence_map.settings.base_iri
    triples: list[ox.Triple] = []
    for record in records:
        triples.extend(ox.Triple(q.subject, q.predicate, q.object) for q in parse_quads(record.added, base)
                       if isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value.endswith("/changes"))
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes={"prov": "http://www.w3.org/ns/prov#"}) or b""


@router.get("/api/changes", response_model=ChangesPage, summary="The map's changes, newest first")
def get_changes(request: Request, ctx: Annotated[AppContext, Depends(get_context)],
                limit: Annotated[int | None, Query(ge=1)] = None, offset: Annotated[int, Query(ge=0)] = 0,
                format: Annotated[str | None, Query(pattern="^(json|ttl)$")] = None) -> Response:
    """Every change (newest first, paged): number, time, holder, message, kind, the edition's version after it and
    the studies it touched. `format=ttl` or `Accept: text/turtle` gives their PROV records as Turtle."""
    model = build_changes_page(request, ctx, limit, offset)
    if format == "ttl" or (format is None and TURTLE in request.headers.get("accept", "")):
        numbers = {c.number for c in model.changes}
        chosen = [r for r in _records(request) if r.number in numbers]
        return Response(_prov_turtle(ctx, chosen), media_type=TURTLE + "; charset=utf-8")
    return JSONResponse(model.model_dump())


def _record(request: Request, number: int, slug: str | None) -> Record:
    living = _living(request, slug)
    for record in living.journal if living is not None else []:
        if record.number == number:
            return record
    raise NotFound(f"No change {number} in this map.", hint="/api/changes lists them.")


MapSlug = Annotated[str | None, Query(alias="map", max_length=200, description="The map, on a server of several.")]


@router.get("/api/changes/{number}", summary="One change, with its added and removed triples")
def get_change(request: Request, number: int, ctx: Annotated[AppContext, Depends(get_context)],
               map_slug: MapSlug = None) -> Response:
    """The change as in the list, plus its added and removed quads as N-Quads text."""
    record = _record(request, number, map_slug)
    body = {**_item(ctx, record).model_dump(), "added_quads": record.added, "removed_quads": record.removed}
    return JSONResponse(body)


def _entry(ctx: AppContext, request: Request, record: Record) -> FeedEntry:
    info = change_info(ctx.evidence_map, record)
    names = ", ".join(s.rsplit("/", 1)[-1] for s in record.studies) or "the review's claims"
    verb = {"add": "added", "update": "updated", "retract": "retracted", "facts": "new facts for",
            "claims": "new claims in"}.get(record.kind, record.kind)
    return FeedEntry(id=info.iri, title=f"Change {record.number}: {verb} {names}", updated=record.time,
                     link=str(request.base_url).rstrip("/") + f"/api/changes/{record.number}?map={record.map}",
                     summary=f"{record.message} (by {record.holder}; map version {record.version})",
                     author=record.holder)


def _feed(request: Request, ctx: AppContext, records: list[Record], title: str, alternate: str) -> Response:
    base = str(request.base_url).rstrip("/")
    maps = _maps(request)
    slug = next(iter(maps)) if len(maps) == 1 else "all"
    feed_id = ctx.evidence_map.iri(f"https://w3id.org/evidencemap/data/map/{slug}/changes") + (
        "?" + request.url.query if request.url.query else "")
    body = atom_feed(feed_id, title, base + str(request.url.path) + ("?" + request.url.query if request.url.query
                                                                    else ""),
                     base + alternate, [_entry(ctx, request, r) for r in records])
    return Response(body, media_type=ATOM_TYPE + "; charset=utf-8")


@router.get("/changes.atom", summary="Atom feed of every change", response_class=Response)
def changes_feed(request: Request, ctx: Annotated[AppContext, Depends(get_context)]) -> Response:
    """Every change of the map, newest first, as an Atom feed."""
    return _feed(request, ctx, _records(request)[-100:], f"Changes to {ctx.title or 'the evidence map'}", "/changes")


@router.get("/api/studies.atom", summary="Atom feed of the changes affecting a study list", response_class=Response)
def studies_feed(request: Request, ctx: Annotated[AppContext, Depends(get_context)]) -> Response:
    """The changes that add, update or retract a study matching the facet parameters (as for `/api/studies`)
    before or after the change: follow a question ("new online studies reporting burnout")."""
    selection = parse_selection(ctx.vocabulary, request.query_params.multi_items(), ctx.evidence_map)
    chosen = [r for r in _records(request) if affects(ctx.vocabulary, selection, r)]
    query = request.url.query
    return _feed(request, ctx, chosen[-100:], "Changes to studies" + (f" ({query})" if query else ""),
                 "/studies" + (f"?{query}" if query else ""))


@router.get("/versions/{number}/map.nq", summary="The map as it was after change N (N-Quads)",
            response_class=Response)
def version_dump(request: Request, number: int, ctx: Annotated[AppContext, Depends(get_context)],
                 map_slug: MapSlug = None) -> Response:
    """Every quad of the map after change `number` (0: the map's files), rebuilt from the files and the journal
    (once: the file is kept in the state folder)."""
    living = _living(request, map_slug)
    headers = {"Content-Disposition": f'attachment; filename="map-version-{number}.nq"'}
    if living is None:
        if number != 0:
            raise NotFound("This map has no changes: only version 0 (its files) exists.")
        return Response(ox.serialize(ctx.evidence_map.store, format=ox.RdfFormat.N_QUADS) or b"",
                        media_type="application/n-quads", headers=headers)
    path = dump_of_version(ctx.evidence_map.sources, ctx.evidence_map.settings.base_iri, living.journal, number,
                           living.folder / "versions")
    return FileResponse(path, media_type="application/n-quads", headers=headers)


@router.get("/changes", include_in_schema=False)
def changes_page(request: Request, ctx: Annotated[AppContext, Depends(get_context)],
                 limit: Annotated[int | None, Query(ge=1)] = None,
                 offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    """What changed: the changes, newest first, each with who, when, why and what."""
    model = build_changes_page(request, ctx, limit, offset)
    return render_page(request, "changes.html", model, json_url="/api/changes", title="What changed")
