"""The ``evidencemap`` command: thin wrappers around plain functions of the package.

Exit codes: 0 success; 1 the map does not conform (validate), a claim disagrees (check-claims) or values of a sheet
are unknown (import-csv); 2 bad input (missing file, syntax error, unknown name, a sheet's problems) or a map that
does not conform given to serve, with a message on standard error.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from evidencemap.errors import BadRequest, EvidenceMapError
from evidencemap.graph.formats import RDF_FORMATS, RESULT_FORMATS
from evidencemap.publish.exports import EXPORT_NAMES, GRAPHS
from evidencemap.settings import Settings

if TYPE_CHECKING:
    from evidencemap.authoring.importer import ImportReport
    from evidencemap.authoring.records import ReviewRecord
    from evidencemap.graph.store import Binding, EvidenceMap
    from evidencemap.graph.validation import ValidationResult
    from evidencemap.model.queries import NamedQuery


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        data=[Path(p) for p in getattr(args, "data", None) or []] or None,
        base_iri=getattr(args, "base_iri", None),
        query_timeout=getattr(args, "query_timeout", None),
        max_rows=getattr(args, "max_rows", None),
        sparql_workers=getattr(args, "workers", None),
        union_default_graph=getattr(args, "union_default_graph", None),
        allow_invalid=getattr(args, "allow_invalid", None) or None,
        state=getattr(args, "state", None),
        endpoint=getattr(args, "endpoint", None),
        update_endpoint=getattr(args, "update_endpoint", None),
        processes=getattr(args, "processes", None),
    )


def _load(args: argparse.Namespace) -> EvidenceMap:
    from evidencemap.graph.store import EvidenceMap

    return EvidenceMap.load(_settings(args))


def _write(text: str | bytes, output: str | None) -> None:
    if output:
        Path(output).write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    elif isinstance(text, bytes):
        sys.stdout.buffer.write(text)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def print_report(result: ValidationResult, out: TextIO) -> None:
    """The verdict, then every result with its message whole and where its focus node is written."""
    verdict = "conforms" if result.conforms else f"does NOT conform: {len(result.errors)} violation(s)"
    print(f"SHACL validation (shapes {result.shapes_version}): {verdict}, {len(result.warnings)} warning(s).",
          file=out)
    for v in result.violations:
        print(f"\n{v.severity}: {v.message}", file=out)
        print(f"  focus node: {v.focus}", file=out)
        if v.where:
            print(f"  written at: {', '.join(v.where)}", file=out)


def app_to_serve(settings: Settings, err: TextIO) -> Any:
    """The app (a FastAPI app: typed Any, as only web/ imports FastAPI) serving the map of ``settings``, after
    validating it; None (the report written to ``err``) when the
    map does not conform and the settings do not allow serving it anyway."""
    from evidencemap.web.app import create_app

    evidence_map = map_to_serve(settings, err)
    return None if evidence_map is None else create_app(settings, evidence_map)


def map_to_serve(settings: Settings, err: TextIO) -> EvidenceMap | None:
    """The map of ``settings``, validated; None (the report written to ``err``) when it does not conform and the
    settings do not allow serving it anyway."""
    from evidencemap.graph.validation import validation_report
    from evidencemap.web.processes import open_map

    evidence_map = open_map(settings)
    result = validation_report(evidence_map)  # kept on the map: the app's /validation reuses it
    if not result.conforms:
        print_report(result, err)
        if not settings.allow_invalid:
            print("\nevidencemap: the map does not conform; fix the violations above (evidencemap validate checks "
                  "them), or serve it anyway with --allow-invalid (EVIDENCEMAP_ALLOW_INVALID=1).", file=err)
            return None
        print("\nevidencemap: serving a map that does not conform (--allow-invalid); every page says so.", file=err)
    return evidence_map


def cmd_serve(args: argparse.Namespace) -> int:
    """Validate the map, then serve it; a map that does not conform is refused (exit 2) unless allowed."""
    import uvicorn

    settings = _settings(args)
    if settings.state and not settings.store_cache:
        # A living map's on-disk store changes with each write: it is the state folder's own, never the cache that
        # a read-only server of the same files would open.
        settings = settings.replace(store_cache=str(Path(settings.state) / "store-cache"))
    if settings.processes != 1:
        return serve_processes(settings, args.host, args.port)
    app = app_to_serve(settings, sys.stderr)
    if app is None:
        return 2
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


def serve_processes(settings: Settings, host: str, port: int) -> int:
    """``serve --processes N``: the map validated (and its on-disk store built) here once, then N app processes on
    one port, each opening it (web/processes.py)."""
    import os

    from evidencemap.web.processes import FACTORY, HEALTHCHECK_SECONDS, check_processes, settings_environment

    check_processes(settings)
    if map_to_serve(settings, sys.stderr) is None:
        return 2
    # uvicorn in a fresh interpreter in place of this one (same process id): the supervisor of the app processes
    # does not keep the memory of the validation; the settings reach each process's app factory in its environment.
    sys.stdout.flush()
    sys.stderr.flush()
    command = [sys.executable, "-m", "uvicorn", "--factory", FACTORY, "--workers", str(settings.processes),
               "--timeout-worker-healthcheck", str(HEALTHCHECK_SECONDS), "--host", host, "--port", str(port),
               "--log-level", "info"]
    os.execve(sys.executable, command, {**os.environ, **settings_environment(settings)})


def cmd_push(args: argparse.Namespace) -> int:
    """Load the map into a remote SPARQL engine, graph by graph (docs/deploy.md)."""
    from evidencemap.graph.push import push_map
    from evidencemap.resources import bundled_map_dir

    settings = _settings(args)
    if not args.graph_store and not settings.update_endpoint and not settings.endpoint:
        raise BadRequest("push needs --graph-store URL, --update-endpoint URL or --endpoint URL.")
    pushed, seconds = push_map(settings.data or [bundled_map_dir()], settings.base_iri, graph_store=args.graph_store,
                               update_endpoint=settings.update_endpoint or settings.endpoint)
    for one in pushed:
        print(f"{one.graph}: {one.triples} triples ({one.requests} request{'s' if one.requests != 1 else ''})")
    how = "Graph Store Protocol" if args.graph_store else "SPARQL Update"
    print(f"Pushed {sum(p.triples for p in pushed)} triples in {len(pushed)} graphs with the {how} in "
          f"{seconds:.1f} s; serve it with: evidencemap serve --endpoint {settings.endpoint or 'URL'}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from evidencemap.graph.validation import validate_map

    args.data = args.files
    result = validate_map(_load(args))
    if args.format == "turtle":
        _write(result.report_graph.serialize(format="turtle"), None)
    else:
        print_report(result, sys.stdout)
    return 0 if result.conforms else 1


def _review_record(args: argparse.Namespace, folder: Path) -> ReviewRecord | None:
    """The review's record from ``new``'s options (None when neither --title nor --licence is given)."""
    from evidencemap.authoring.records import ReviewRecord, slugify

    if args.title is None and args.licence is None:
        return None
    if not args.title or not args.licence:
        raise BadRequest("A new map needs both --title (the review's title) and --licence (its licence's IRI).")
    slug = args.slug or slugify(folder.resolve().name)
    return ReviewRecord(slug=slug, title=args.title, licence=args.licence, doi=args.doi)


def cmd_new(args: argparse.Namespace) -> int:
    from evidencemap.authoring.scaffold import write_new_map

    folder = Path(args.folder)
    record = _review_record(args, folder)
    if record is None:
        raise BadRequest("A new map needs --title (the review's title) and --licence (its licence's IRI).",
                         hint="The map is made of your own data: nothing is written as a placeholder.")
    written = write_new_map(folder, record, Path(args.review_text) if args.review_text else None)
    print(f"New map {record.slug} in {folder}: {', '.join(p.name for p in written)}.")
    print(f"Next: fill in the templates (docs/authoring.md), or import an extraction sheet with "
          f"`evidencemap import-csv SHEET --out {folder}`; check with `evidencemap validate {folder}`.")
    return 0


def print_import(report: ImportReport, out: TextIO) -> None:
    print(f"Imported {report.studies} studies and {report.findings} findings from {report.sheet} "
          f"(reference numbers: {report.reference_numbers}).", file=out)
    for problem in report.problems:
        print(f"  problem, row {problem.row}, column {problem.column!r}: {problem.message}", file=out)
    for unknown in report.unknown_values:
        hint = "; did you mean " + " or ".join(f"{s.label!r} ({s.iri})" for s in unknown.suggestions) + "?" \
            if unknown.suggestions else "; no concept is near it (--add-concepts adds it to the scheme)"
        print(f"  unknown value, row {unknown.row}, column {unknown.column!r}: {unknown.value!r}{hint}", file=out)
    for concept in report.added_concepts:
        print(f"  new concept {concept.label!r}: {concept.iri}", file=out)
    if report.unmapped_columns:
        print(f"  not imported (no property in the vocabulary yet): {', '.join(report.unmapped_columns)}", file=out)
    if report.ignored_columns:
        print(f"  not imported (not in the layout or the mapping): {', '.join(report.ignored_columns)}", file=out)


def cmd_import_csv(args: argparse.Namespace) -> int:
    from evidencemap.authoring.importer import REPORT_FILE, import_sheet
    from evidencemap.graph.store import EvidenceMap
    from evidencemap.graph.validation import validate_map

    folder = Path(args.out)
    report = import_sheet(
        Path(args.file), folder, mapping=Path(args.mapping) if args.mapping else None,
        review_text=Path(args.review_text) if args.review_text else None, add_concepts=args.add_concepts,
        review=_review_record(args, folder),
    )
    print_import(report, sys.stdout)
    print(f"The report is in {folder / REPORT_FILE}.")
    if report.problems:
        print(f"evidencemap: {len(report.problems)} problem(s) in the sheet; nothing was imported.", file=sys.stderr)
        return 2
    result = validate_map(EvidenceMap.load(Settings.from_env(data=[folder])))
    print_report(result, sys.stdout)
    return 0 if result.conforms and not report.unknown_values else 1


def _query_text(source: str, evidence_map: EvidenceMap) -> tuple[str, NamedQuery | None]:
    """(query text, the named query or .rq file with its parameters, or None) from SPARQL text, a file or the name of
    a query the map offers (a core one, or one of its own ``queries/``)."""
    from evidencemap.model.queries import get_named_query, parse_named_query

    path = Path(source)
    if source.endswith(".rq") or (path.suffix in {".rq", ".sparql"} and path.exists()):
        if not path.exists():
            raise BadRequest(f"Query file {source!r} does not exist.")
        named = parse_named_query(path)
        return named.text, named
    if "{" not in source and " " not in source.strip():
        named = get_named_query(source.strip(), evidence_map)
        return named.text, named
    return source, None


def _bindings(args: argparse.Namespace, evidence_map: EvidenceMap, named: NamedQuery | None) -> dict[str, Binding]:
    """The terms ``--param NAME=VALUE`` (and the defaults, unless ``--no-defaults``) bind, checked against the
    named query's parameters and the map's vocabulary: the values are never pasted into the query text."""
    pairs = [p.partition("=") for p in args.param or []]
    malformed = [name for name, equals, _ in pairs if not equals or not name]
    if malformed:
        raise BadRequest(f"--param {malformed[0]!r} is not NAME=VALUE.", hint="Write it as --param delivery=online.")
    values = {name: value for name, _, value in pairs}
    if named is None:
        if values:
            raise BadRequest("--param applies to named queries and .rq files with a parameter header.")
        return {}
    from evidencemap.model.vocabulary import load_vocabulary

    return named.bindings(load_vocabulary(evidence_map), values, defaults=not args.no_defaults)


def cmd_query(args: argparse.Namespace) -> int:
    """Run a query through the map's query gate (:meth:`EvidenceMap.query`), its parameters bound there (VALUES),
    and write the answer: SPARQL results JSON, a text table or CSV; Turtle for graphs."""
    from evidencemap.graph.store import Solutions, to_python
    from evidencemap.render.text import csv_text, json_text, text_table
    from evidencemap.sparql.results import write_solutions, write_triples

    evidence_map = _load(args)
    text, named = _query_text(args.query, evidence_map)
    bindings = _bindings(args, evidence_map, named)
    try:
        result = evidence_map.query(text, bindings)
    except SyntaxError as exc:
        raise BadRequest(f"SPARQL syntax error: {exc}") from None
    if isinstance(result, bool):
        _write(json_text({"boolean": result}) if args.format == "json" else str(result).lower(), None)
        return 0
    if not isinstance(result, Solutions):
        _write(write_triples(result, RDF_FORMATS["ttl"].name, max_rows=len(result)).body, None)
        return 0
    if args.format == "json":
        _write(write_solutions(result, RESULT_FORMATS["json"].name, max_rows=len(result)).body, None)
        return 0
    variables = [v.value for v in result.variables]
    rows = [[None if term is None else to_python(term) for term in solution] for solution in result]
    if args.format == "csv":
        _write(csv_text(variables, rows), None)
    else:
        _write(text_table(variables, rows) + f"\n({len(rows)} row{'s' if len(rows) != 1 else ''})", None)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from evidencemap.publish.exports import export

    if args.version is not None:
        return export_version(args)
    _write(export(_load(args), args.format, graph=args.graph), args.output)
    return 0


def cmd_check_claims(args: argparse.Namespace) -> int:
    from evidencemap.model.claims import DISAGREES, check_claims, summary
    from evidencemap.model.vocabulary import load_vocabulary
    from evidencemap.render.text import csv_text, json_text, text_table

    loaded = _load(args)
    slugs = loaded.map_slugs()
    # Several maps: each map's claims are recomputed from its own studies only (its scoped view).
    maps = [loaded.scoped(slug) for slug in slugs] if len(slugs) > 1 else [loaded]
    results = [r for one in maps for r in check_claims(one, load_vocabulary(one))]
    headers = ("claim", "section", "stated", "recomputed", "studies", "verdict")
    rows = [
        (r.label, r.section, r.stated, "–" if r.recomputed is None else r.recomputed,
         ", ".join(map(str, r.studies)) or "–", r.verdict)
        for r in results
    ]
    if args.format == "json":
        _write(json_text([dataclasses.asdict(r) for r in results]), None)
    elif args.format == "csv":
        _write(csv_text(headers, rows), None)
    else:
        print(text_table(headers, rows, max_width=70))
        counts = summary(results)
        print("\n" + ", ".join(f"{n} {verdict}" for verdict, n in counts.items()))
        for r in results:
            if r.verdict == DISAGREES:
                print(f"\nDISAGREES: {r.label} ({r.section}): stated {r.stated}, recomputed {r.recomputed}.")
                for line in r.explanation:
                    print(f"  {line}")
    return 1 if any(r.verdict == DISAGREES for r in results) else 0


def _data_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", nargs="+", metavar="FILE", help="map files or folders (default: the bundled map)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="evidencemap", description="Publish and query a scoping review's evidence map."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the map over HTTP (SPARQL endpoint, REST API, pages)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    _data_option(serve)
    serve.add_argument("--base-iri", help="base of the data and vocabulary IRIs served here")
    serve.add_argument("--query-timeout", type=float, help="seconds a /sparql query may run")
    serve.add_argument("--max-rows", type=int, help="most rows /sparql returns")
    serve.add_argument("--workers", type=int, help="worker processes for /sparql queries (in each app process)")
    serve.add_argument("--processes", type=int, help="app processes answering on the port, each opening the same "
                       "on-disk store (default 1; docs/deploy.md)")
    serve.add_argument(
        "--union-default-graph",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="let queries see the union of the named graphs as default graph (default: yes)",
    )
    serve.add_argument("--allow-invalid", action="store_true",
                       help="serve a map that does not conform to the shapes (every page says so)")
    serve.add_argument("--state", metavar="DIR", help="accept changes from write tokens, journalled in DIR "
                       "(docs/living-map.md); without it the server is read-only")
    serve.add_argument("--endpoint", metavar="URL", help="read the map from this SPARQL 1.1 query endpoint "
                       "(loaded with evidencemap push) instead of an embedded store (docs/deploy.md)")
    serve.add_argument("--update-endpoint", metavar="URL", help="with --endpoint and --state: the engine's SPARQL "
                       "1.1 Update endpoint, where each change is sent (default: the --endpoint URL)")
    serve.set_defaults(func=cmd_serve)

    push = sub.add_parser("push", help="load the map into a remote SPARQL engine, one named graph at a time")
    push.add_argument("--endpoint", metavar="URL", help="the engine's SPARQL query endpoint (also its update "
                      "endpoint when --update-endpoint is not given)")
    push.add_argument("--graph-store", metavar="URL", help="the engine's Graph Store Protocol endpoint: each graph "
                      "is replaced with one PUT (else SPARQL Update: DROP, then INSERT DATA in batches)")
    push.add_argument("--update-endpoint", metavar="URL", help="the engine's SPARQL 1.1 Update endpoint")
    push.add_argument("--base-iri", help="base of the data and vocabulary IRIs the map will be served under")
    _data_option(push)
    push.set_defaults(func=cmd_push)

    validate = sub.add_parser("validate", help="validate map files with the SHACL shapes (exit 1 on violations)")
    validate.add_argument("files", nargs="*", metavar="FILE", help="map files or folders (default: the bundled map)")
    validate.add_argument("--format", choices=("text", "turtle"), default="text", help="report as text or as RDF")
    validate.set_defaults(func=cmd_validate)

    query = sub.add_parser("query", help="run a SPARQL query, a .rq file or a named query")
    query.add_argument("query", help="SPARQL text, a .rq file, or the name of a named query (api/queries, or the "
                                     "map's queries/)")
    query.add_argument("--format", choices=("table", "json", "csv"), default="table")
    query.add_argument("--param", action="append", metavar="NAME=VALUE", help="value of a named query's parameter")
    query.add_argument("--no-defaults", action="store_true", help="leave parameters without a value unbound")
    _data_option(query)
    query.set_defaults(func=cmd_query)

    export = sub.add_parser("export", help="write the map (or a view of it) in another format")
    export.add_argument("--format", choices=EXPORT_NAMES, default=RDF_FORMATS["ttl"].name)
    export.add_argument("--graph", choices=("all", *GRAPHS), default="all")
    export.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")
    export.add_argument("--version", type=int, metavar="N", help="the map after change N of its journal (--state), "
                        "as Turtle files in the folder DIR")
    export.add_argument("--state", metavar="DIR", help="the living map's state folder (with --version)")
    export.add_argument("--map", metavar="SLUG", help="the map's slug (with --version; read from its edition)")
    export.add_argument("folder", nargs="?", metavar="DIR", help="where --version writes the map's files")
    _data_option(export)
    export.set_defaults(func=cmd_export)
    add_living_commands(sub)

    claims = sub.add_parser("check-claims", help="recompute every count the review states (exit 1 on disagreement)")
    claims.add_argument("--format", choices=("table", "json", "csv"), default="table")
    _data_option(claims)
    claims.set_defaults(func=cmd_check_claims)

    new = sub.add_parser("new", help="start a new map: the review's record from your options, templates for the rest")
    new.add_argument("folder", metavar="DIR", help="an empty or new folder")
    _review_options(new)
    new.set_defaults(func=cmd_new)

    sheet = sub.add_parser("import-csv", help="import an extraction sheet (CSV or XLSX, one row per study)")
    sheet.add_argument("file", metavar="FILE", help="the sheet (.csv or .xlsx)")
    sheet.add_argument("--out", required=True, metavar="DIR", help="the map folder (made by new, or made here)")
    sheet.add_argument("--mapping", metavar="FILE", help="JSON or CSV: column heading -> field or fact property")
    sheet.add_argument("--add-concepts", action="store_true",
                       help="add values no concept matches (and none is near) as new concepts of their scheme")
    _review_options(sheet)
    sheet.set_defaults(func=cmd_import_csv)
    return parser


# -- the living map: tokens, edits, versions (docs/living-map.md) -------------------------------------------------


def cmd_token(args: argparse.Namespace) -> int:
    from evidencemap.graph.tokens import TokenStore

    tokens = TokenStore(Path(args.state))
    if args.action == "create":
        if not args.map or not args.holder:
            raise BadRequest("token create needs --map SLUG and --holder NAME.")
        entry, token = tokens.create(args.map, args.holder)
        print(f"Token {entry.id} for {entry.holder} on map {entry.map} (shown once, keep it secret):\n{token}")
    elif args.action == "revoke":
        if not args.id:
            raise BadRequest("token revoke needs the token's id (`evidencemap token list` shows them).")
        entry = tokens.revoke(args.id)
        print(f"Token {entry.id} of {entry.holder} on map {entry.map}: revoked {entry.revoked}.")
    else:
        from evidencemap.render.text import text_table

        rows = [[e.id, e.map, e.holder, e.created, e.revoked or "active"] for e in tokens.entries()
                if not args.map or e.map == args.map]
        print(text_table(("id", "map", "holder", "created", "revoked"), rows))
    return 0


EDIT_TYPES = {".json": "application/json", ".ttl": "text/turtle", ".jsonld": "application/ld+json"}


def cmd_edit(args: argparse.Namespace) -> int:
    """Apply one change to the map of ``--state`` directly (the server of that state must be stopped: a running one
    takes changes over HTTP), checked as the HTTP API checks it."""
    from evidencemap.graph.tokens import TokenEntry
    from evidencemap.graph.writes import LivingMap
    from evidencemap.model import changes, edits
    from evidencemap.model.studies import find_study
    from evidencemap.model.vocabulary import vocabulary_of

    evidence_map = _load(args)
    living = LivingMap(evidence_map, Path(args.state))
    try:
        vocabulary = vocabulary_of(evidence_map)
        body, media = b"", ""
        if args.file:
            path = Path(args.file)
            media = EDIT_TYPES.get(path.suffix.lower(), "")
            if not media:
                raise BadRequest(f"Cannot tell the format of {args.file!r}: use .json, .ttl or .jsonld.")
            body = path.read_bytes()
        study = args.study or ""
        if args.action == "add":
            edit = edits.add_study(living, edits.parse_body(living, vocabulary, body, media))
        elif args.action == "update":
            iri = evidence_map.canonical(find_study(evidence_map, study))
            edit = edits.update_study(living, study, edits.parse_body(living, vocabulary, body, media, iri),
                                      json_shape=media == edits.JSON)
        elif args.action == "retract":
            edit = edits.retract_study(living, study)
        elif args.action == "facts":
            iri = evidence_map.canonical(find_study(evidence_map, study))
            edit = edits.add_facts(living, study, edits.parse_body(living, vocabulary, body, media, iri))
        else:
            edit = edits.add_claims(living, edits.parse_body(living, vocabulary, body, media))
        holder = TokenEntry(id="cli", map=living.slug, holder=args.holder, created="", digest="")
        try:
            record = changes.submit(living, vocabulary, edit, holder, args.message)
        except changes.Refused as refused:
            print(f"evidencemap: {refused.message}", file=sys.stderr)
            for problem in refused.problems:
                print(f"  {problem.focus}: {problem.message}", file=sys.stderr)
            return 1
        print(f"Change {record.number} ({record.kind}) recorded: map {record.map} is now version {record.version}.")
        return 0
    finally:
        living.close()


def export_version(args: argparse.Namespace) -> int:
    from evidencemap.publish.versions import journal_of, store_at_version, write_version

    if not args.state or not args.folder:
        raise BadRequest("export --version N needs --state DIR (the living map's state) and the folder to write.")
    from evidencemap.graph.loading import expand_paths
    from evidencemap.graph.store import EvidenceMap
    from evidencemap.resources import bundled_map_dir

    settings = _settings(args)
    files = expand_paths(list(settings.data) or [bundled_map_dir()])
    slug = args.map or _slug_of(EvidenceMap.load(settings))
    store = store_at_version(files, settings.base_iri, journal_of(Path(args.state), slug), args.version)
    written = write_version(store, files, Path(args.folder))
    print(f"Map {slug} after change {args.version}: {', '.join(str(p) for p in written)}.")
    return 0


def _slug_of(evidence_map: EvidenceMap) -> str:
    from evidencemap.graph.writes import EDITION_QUERY
    from evidencemap.namespaces import last_segment

    rows = evidence_map.select(EDITION_QUERY)
    if not rows:
        raise BadRequest("The map has no edition record (a dcat:Dataset): name it with --map SLUG.")
    return last_segment(str(rows[0]["edition"]))


def add_living_commands(sub: Any) -> None:
    token = sub.add_parser("token", help="create, revoke or list the write tokens of a living map")
    token.add_argument("action", choices=("create", "revoke", "list"))
    token.add_argument("id", nargs="?", help="the token's id (revoke)")
    token.add_argument("--state", required=True, metavar="DIR", help="the state folder the server uses (--state)")
    token.add_argument("--map", metavar="SLUG", help="the map the token writes to (create; filters list)")
    token.add_argument("--holder", metavar="NAME", help="who holds the token (create), recorded with each change")
    token.set_defaults(func=cmd_token)

    edit = sub.add_parser("edit", help="change a living map from the command line (its server stopped)")
    edit.add_argument("action", choices=("add", "update", "retract", "facts", "claims"))
    edit.add_argument("study", nargs="?", help="the study's slug or reference number (update, retract, facts)")
    edit.add_argument("--file", metavar="FILE", help="the study, facts or claims: .json (as GET /api/studies/{id}), "
                      ".ttl or .jsonld")
    edit.add_argument("--state", required=True, metavar="DIR", help="the living map's state folder")
    edit.add_argument("--holder", required=True, metavar="NAME", help="who makes the change")
    edit.add_argument("--message", "-m", required=True, help="why (shown in the change list and the feeds)")
    _data_option(edit)
    edit.set_defaults(func=cmd_edit)


def _review_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--title", help="the review's title, as the article prints it")
    parser.add_argument("--licence", help="the IRI of the review's licence (https://creativecommons.org/...)")
    parser.add_argument("--doi", help="the review's DOI (10.1234/abcd)")
    parser.add_argument("--slug", help="the map's slug, in its IRIs (default: the folder's name)")
    parser.add_argument("--review-text", metavar="FILE", help="the review's text, copied to review.txt")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except EvidenceMapError as exc:
        print(f"evidencemap: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
