"""Linked data over HTTP: dereferenceable IRIs with content negotiation, the ontology and its documentation, the
VoID/DCAT description, the dumps, the JSON-LD context and the published SHACL report.

Resolution follows the W3C "Best Practice Recipes for Publishing RDF Vocabularies" with 303 redirects, the same way
for every IRI (data, concepts, the ontology, its named graphs, the dataset): the IRI names a thing, so ``GET`` on it
answers ``303 See Other`` (``Vary: Accept``) to a document about it whose URL carries the format's extension
(``/data/dufour-2025/study/blay-2025`` -> ``/data/dufour-2025/study/blay-2025.ttl``). Documents are plain
resources: one format each, with ``Link: rel="alternate"`` to the others. See docs/linked-data.md.

The HTML documents render page models (web/models.py: :class:`ResourceDescription`, :class:`OntologyDocPage`,
:class:`ValidationPage`) through the one page helper; a path that does not make a valid IRI is a 404 (web/inputs.py)
before any query sees it. web/app.py registers :data:`router` and
:class:`DatasetLinkMiddleware`; the derived documents (dumps, VoID, validation report) are cached by the map, once
per version.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import pyoxigraph as ox
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from rdflib import Graph, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.namespace import DCTERMS, OWL, RDF, SH
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from evidencemap import namespaces as ns
from evidencemap.errors import Gone, NotFound
from evidencemap.graph import validation
from evidencemap.graph.formats import Format
from evidencemap.publish import dataset as ds
from evidencemap.publish import linkeddata as ld
from evidencemap.publish.ontology_docs import ontology_doc
from evidencemap.web.context import AppContext, get_context
from evidencemap.web.errors import error_response
from evidencemap.web.inputs import HTML, checked_iri, refused
from evidencemap.web.jsonld import jsonld_context
from evidencemap.web.models import OntologyDocPage, ResourceDescription, ValidationPage, ValidationRow
from evidencemap.web.negotiation import best, parse_accept
from evidencemap.web.templating import render_page

router = APIRouter(tags=["linked data"])
Context = Annotated[AppContext, Depends(get_context)]

VOID_PATH = "/.well-known/void"
VOID_LINK = f'<{VOID_PATH}>; rel="describedby"; type="text/turtle"'


# -- content negotiation ----------------------------------------------------------------------------------------


def choose_format(accept: str | None) -> Format | None:
    """The document format the client prefers (the server's order breaks ties); None when none is acceptable."""
    return best(ld.DOCUMENT_FORMATS, parse_accept(accept), ld.negotiated_media_types)


def refuse(request: Request) -> Response:
    """The 406 (with ``Vary: Accept``) for an ``Accept`` header that rules out every document format."""
    error = refused(request.headers.get("accept"), [f.media_type for f in ld.DOCUMENT_FORMATS])
    response = error_response(request, error.status, error.message, error.hint, error.allowed)
    response.headers["Vary"] = "Accept"
    return response


def see_other(request: Request, stem: str, headers: dict[str, str] | None = None) -> Response:
    """303 to the document ``<stem>.<extension>`` in the format the ``Accept`` header prefers, or the 406."""
    chosen = choose_format(request.headers.get("accept"))
    if chosen is None:
        return refuse(request)
    root = request.scope.get("root_path", "")
    return RedirectResponse(f"{root}{stem}.{chosen.extension}", status_code=303,
                            headers={"Vary": "Accept", **(headers or {})})


def alternates(request: Request, path: str) -> str:
    root = request.scope.get("root_path", "")
    links = (f'<{root}{path}.{f.extension}>; rel="alternate"; type="{f.media_type}"' for f in ld.DOCUMENT_FORMATS)
    return ", ".join(links)


# -- derived documents, cached per state of the map -----------------------------------------------------------------


# -- documents --------------------------------------------------------------------------------------------------


Triples = Callable[[], list[ox.Triple]]


@dataclass(frozen=True)
class Document:
    """What a path (without extension) stands for: its triples, and its HTML page."""

    triples: Triples
    html: Callable[[Request], Response]


def _resource_document(context: AppContext, iri: str, path: str, triples: Triples) -> Document:
    def render(request: Request) -> Response:
        page = ResourceDescription.model_validate(ld.resource_page(context.evidence_map, iri, triples()))
        return _page(request, "linked_resource.html", path, page)

    return Document(triples, render)


def _ontology_document(context: AppContext, path: str) -> Document:
    def render(request: Request) -> Response:
        evidence_map = context.evidence_map
        page = evidence_map.derive(
            "ontology-doc-page", lambda: OntologyDocPage.model_validate(ontology_doc(evidence_map))
        )
        return _page(request, "linked_ontology.html", path, page)

    return Document(lambda: ld.vocabulary_triples(context.evidence_map), render)


def _page(request: Request, template: str, path: str, page: ResourceDescription | OntologyDocPage) -> Response:
    """The HTML document of ``path``: its JSON twin is the JSON-LD document, and every format is an alternate."""
    root = request.scope.get("root_path", "")
    formats = [(f.label, f.media_type, f"{root}{path}.{f.extension}") for f in ld.DOCUMENT_FORMATS if f.rdf_format]
    return render_page(request, template, page, json_url=f"{root}{path}.{ld.JSON_LD.extension}", media=HTML,
                       link=alternates(request, path), formats=formats)


def find_document(request: Request, context: AppContext, path: str) -> Document:
    """The document for a local path such as ``/data/dufour-2025/study/blay-2025`` or ``/ontology``.

    :raises NotFound: for a path that names nothing in this map, or that does not make a valid IRI.
    """
    evidence_map = context.evidence_map
    iri = checked_iri(ld.iri_for_path(evidence_map, path), path)
    ontology = evidence_map.iri(ns.ONTOLOGY)
    if iri == ontology or iri.startswith(ontology + "/"):
        versions = ld.ontology_versions(evidence_map)
        replaced_by = ld.superseded_ontology_versions(evidence_map).get(iri)
        if replaced_by is not None:
            raise Gone(f"Version <{iri}> of the ontology was replaced by <{replaced_by}>; this server holds only the "
                       "current version.", hint="CHANGELOG.md's 'Vocabulary' headings say what changed in each.")
        if iri != ontology and iri not in versions:
            raise NotFound(f"No version <{iri}> of the ontology.", hint=f"Versions: {', '.join(versions)}.")
        return _ontology_document(context, path)
    if path == VOID_PATH:
        dataset = evidence_map.iri(ds.DATASET)
        return _resource_document(context, dataset, path, lambda: ds.description_of(context.evidence_map))
    if iri.startswith(evidence_map.iri(ns.GRAPH)):
        void = ds.description_of(context.evidence_map)
        graph_root = evidence_map.iri(ns.GRAPH)
        graphs = sorted({t.subject.value for t in void
                         if isinstance(t.subject, ox.NamedNode) and t.subject.value.startswith(graph_root)})
        if iri not in graphs:
            raise NotFound(f"No named graph <{iri}> in this map.", hint=f"Graphs: {', '.join(graphs)}.")

        def graph_triples() -> list[ox.Triple]:
            return ld.with_labels(evidence_map, ds.concise_description(void, iri), iri)

        return _resource_document(context, iri, path, graph_triples)
    if not iri.startswith(ld.served_prefixes(evidence_map)) or not ld.exists(evidence_map, iri):
        raise NotFound(
            f"No resource <{iri}> in this map.",
            hint="IRIs resolved here start with " + ", ".join(ld.served_prefixes(evidence_map)) + ".",
        )
    return _resource_document(context, iri, path, lambda: ld.describe(evidence_map, iri))


def resolve(request: Request, context: AppContext, path: str) -> Response:
    """303 from an IRI to its negotiated document, or the document itself when the path has an extension."""
    stem, fmt = ld.split_extension(path)
    document = find_document(request, context, stem)
    if fmt is None:
        return see_other(request, stem, {"Link": alternates(request, stem)})
    if fmt.rdf_format is None:
        return document.html(request)
    body = ld.serialise(context.evidence_map, document.triples(), fmt)
    media = f"{fmt.media_type}; charset=utf-8" if fmt.media_type.startswith("text/") else fmt.media_type
    return Response(body, media_type=media, headers={"Link": alternates(request, stem)})


# -- routes -------------------------------------------------------------------------------------------------------

RESOLVES: dict[int | str, dict[str, Any]] = {
    303: {"description": "See Other: the document about the IRI in the format the Accept header prefers "
          "(Turtle, HTML, JSON-LD, N-Triples or RDF/XML; Vary: Accept). Add the extension to get one directly."},
    404: {"description": "Nothing in this map has that IRI."},
    406: {"description": "None of the media types in Accept is offered; the message lists those that are."},
}


@router.get("/data/{path:path}", responses=RESOLVES, summary="Resolve a data IRI (303 to a document)")
def data_resource(path: str, request: Request, context: Context) -> Response:
    return resolve(request, context, "/data/" + path)


@router.get("/concept/{path:path}", responses=RESOLVES, summary="Resolve a concept or concept-scheme IRI")
def concept_resource(path: str, request: Request, context: Context) -> Response:
    return resolve(request, context, "/concept/" + path)


@router.get("/ontology", responses=RESOLVES, summary="The ontology (303 to its documentation or an RDF document)")
def ontology(request: Request, context: Context) -> Response:
    return resolve(request, context, "/ontology")


@router.get("/ontology.{extension}", include_in_schema=False)
def ontology_document(extension: str, request: Request, context: Context) -> Response:
    return resolve(request, context, "/ontology." + extension)


@router.get("/ontology/{path:path}", responses=RESOLVES, summary="A version IRI of the ontology")
def ontology_version(path: str, request: Request, context: Context) -> Response:
    return resolve(request, context, "/ontology/" + path)


@router.get("/graph/{path:path}", responses=RESOLVES, summary="A named graph of the map, with its provenance")
def named_graph(path: str, request: Request, context: Context) -> Response:
    return resolve(request, context, "/graph/" + path)


@router.get("/dataset", responses=RESOLVES, summary="The dataset (303 to its VoID/DCAT description)")
def dataset_iri(request: Request, context: Context) -> Response:
    return see_other(request, VOID_PATH)


@router.get(VOID_PATH, responses=RESOLVES, summary="VoID and DCAT description of the dataset (Turtle by default)")
def void(request: Request, context: Context) -> Response:
    return resolve(request, context, VOID_PATH)


@router.get(VOID_PATH + ".{extension}", include_in_schema=False)
def void_document(extension: str, request: Request, context: Context) -> Response:
    return resolve(request, context, f"{VOID_PATH}.{extension}")


@router.get("/dumps/{filename}", summary="Download the whole map (ttl, nt, jsonld, nq, trig)")
def dump(filename: str, request: Request, context: Context) -> Response:
    files = ds.dumps_of(context.evidence_map)
    if filename == "SHA256SUMS":
        return Response(ds.sha256sums(files), media_type="text/plain; charset=utf-8")
    for file in files:
        if file.filename == filename:
            headers = {"ETag": f'"{file.sha256}"', "Link": VOID_LINK}
            media = f"{file.media_type}; charset=utf-8" if file.media_type.startswith("text/") else file.media_type
            return Response(file.content, media_type=media, headers=headers)
    names = ", ".join([f.filename for f in files] + ["SHA256SUMS"])
    raise NotFound(f"No dump named {filename!r}.", hint=f"Use one of: {names}.")


@router.get("/context.jsonld", summary="The JSON-LD context of the REST API's JSON-LD responses")
def context_document(context: Context) -> Response:
    body = jsonld_context(context.vocabulary, context.settings.base_iri)
    document = body if "@context" in body else {"@context": body}
    return Response(json.dumps(document, indent=2, ensure_ascii=False), media_type="application/ld+json")


# -- the published SHACL report ------------------------------------------------------------------------------------


def report_graph(context: AppContext, result: Any) -> Graph:
    """The sh:ValidationReport, saying which shapes (and which version of them) it checked which dataset against."""
    graph = Graph()
    for triple in result.report_graph:
        graph.add(triple)
    shapes = URIRef(context.evidence_map.iri(ns.SHAPES.rstrip("#")))
    graph.add((shapes, OWL.versionInfo, RdfLiteral(result.shapes_version)))
    for report in graph.subjects(RDF.type, SH.ValidationReport):
        graph.add((report, DCTERMS.conformsTo, shapes))
        graph.add((report, DCTERMS.subject, URIRef(context.evidence_map.iri(ds.DATASET))))
    graph.bind("sh", SH)
    graph.bind("dcterms", DCTERMS)
    return graph


@router.get("/validation.ttl", summary="The map's SHACL validation report (Turtle)")
def validation_report(request: Request, context: Context) -> Response:
    graph = report_graph(context, validation.validation_report(context.evidence_map))
    body = graph.serialize(format="turtle")
    return Response(body, media_type="text/turtle; charset=utf-8", headers={"Link": VOID_LINK})


@router.get("/validation", summary="The map's SHACL validation report (page)", response_model=ValidationPage,
            responses={200: {"content": {HTML: {}}, "description": "The page, or its model as JSON."}})
def validation_page(request: Request, context: Context) -> Response:
    """The verdict and every result of the map's SHACL validation; ``format=json`` (or Accept: application/json)
    gives the same as JSON."""
    result = validation.validation_report(context.evidence_map)
    graph = result.report_graph
    rows = []
    for node in graph.subjects(RDF.type, SH.ValidationResult):
        severity = graph.value(node, SH.resultSeverity)
        path = graph.value(node, SH.resultPath)
        rows.append(ValidationRow(
            severity=str(severity).rsplit("#", 1)[-1] if severity is not None else "",
            focus=str(graph.value(node, SH.focusNode)),
            path=str(path) if isinstance(path, URIRef) else "",
            message=str(graph.value(node, SH.resultMessage) or ""),
        ))
    rows.sort(key=lambda r: (r.severity != "Violation", r.focus, r.message))
    root = request.scope.get("root_path", "")
    page = ValidationPage(conforms=result.conforms, shapes_version=result.shapes_version,
                          report_url=f"{root}/validation.ttl", report_text=result.report_text, results=rows)
    # ``result`` (the validator's own object) and the page's fields by name stay in the template context for tools
    # that inspect it.
    return render_page(request, "linked_validation.html", page, json_url=f"{root}/validation?format=json",
                       result=result, results=page.results, report_url=page.report_url)


# -- the Link header on the home page -------------------------------------------------------------------------------


class DatasetLinkMiddleware:
    """Adds ``Link: </.well-known/void>; rel="describedby"`` to the home page, so that tools find the dataset's
    description from the site's root (the home page itself belongs to the pages)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") != "/":
            await self.app(scope, receive, send)
            return

        async def with_link(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"link", VOID_LINK.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_link)
