"""The ``evidencemap`` command: thin wrappers around plain functions of the package.

Exit codes: 0 success; 1 the map does not conform (validate) or a claim disagrees (check-claims); 2 bad input
(missing file, syntax error, unknown name), with a message on standard error.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from evidencemap.errors import BadRequest, EvidenceMapError
from evidencemap.graph.formats import RDF_FORMATS, RESULT_FORMATS
from evidencemap.publish.exports import EXPORT_NAMES, GRAPHS
from evidencemap.settings import Settings

if TYPE_CHECKING:
    from evidencemap.graph.store import Binding, EvidenceMap
    from evidencemap.model.queries import NamedQuery


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        data=[Path(p) for p in getattr(args, "data", None) or []] or None,
        base_iri=getattr(args, "base_iri", None),
        query_timeout=getattr(args, "query_timeout", None),
        max_rows=getattr(args, "max_rows", None),
        sparql_workers=getattr(args, "workers", None),
        union_default_graph=getattr(args, "union_default_graph", None),
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


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from evidencemap.web.app import create_app

    app = create_app(_settings(args))
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from evidencemap.graph.validation import validate_map
    from evidencemap.render.text import text_table

    args.data = args.files
    result = validate_map(_load(args))
    if args.format == "turtle":
        _write(result.report_graph.serialize(format="turtle"), None)
    else:
        rows = [(v.severity, v.focus, v.message) for v in result.violations]
        verdict = "conforms" if result.conforms else f"does NOT conform: {len(result.errors)} violation(s)"
        print(f"SHACL validation (shapes {result.shapes_version}): {verdict}, {len(result.warnings)} warning(s).")
        if rows:
            print(text_table(("severity", "focus node", "message"), rows, max_width=120))
    return 0 if result.conforms else 1


def _query_text(source: str) -> tuple[str, NamedQuery | None]:
    """(query text, the named query or .rq file with its parameters, or None) from SPARQL text, a file or a name."""
    from evidencemap.model.queries import get_named_query, parse_named_query

    path = Path(source)
    if source.endswith(".rq") or (path.suffix in {".rq", ".sparql"} and path.exists()):
        if not path.exists():
            raise BadRequest(f"Query file {source!r} does not exist.")
        named = parse_named_query(path)
        return named.text, named
    if "{" not in source and " " not in source.strip():
        named = get_named_query(source.strip())
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
    text, named = _query_text(args.query)
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

    _write(export(_load(args), args.format, graph=args.graph), args.output)
    return 0


def cmd_check_claims(args: argparse.Namespace) -> int:
    from evidencemap.model.claims import DISAGREES, check_claims, summary
    from evidencemap.model.vocabulary import load_vocabulary
    from evidencemap.render.text import csv_text, json_text, text_table

    evidence_map = _load(args)
    results = check_claims(evidence_map, load_vocabulary(evidence_map))
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
    serve.add_argument("--workers", type=int, help="worker processes for /sparql queries")
    serve.add_argument(
        "--union-default-graph",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="let queries see the union of the named graphs as default graph (default: yes)",
    )
    serve.set_defaults(func=cmd_serve)

    validate = sub.add_parser("validate", help="validate map files with the SHACL shapes (exit 1 on violations)")
    validate.add_argument("files", nargs="*", metavar="FILE", help="map files or folders (default: the bundled map)")
    validate.add_argument("--format", choices=("text", "turtle"), default="text", help="report as text or as RDF")
    validate.set_defaults(func=cmd_validate)

    query = sub.add_parser("query", help="run a SPARQL query, a .rq file or a named query")
    query.add_argument("query", help="SPARQL text, a .rq file, or the name of a query in api/queries")
    query.add_argument("--format", choices=("table", "json", "csv"), default="table")
    query.add_argument("--param", action="append", metavar="NAME=VALUE", help="value of a named query's parameter")
    query.add_argument("--no-defaults", action="store_true", help="leave parameters without a value unbound")
    _data_option(query)
    query.set_defaults(func=cmd_query)

    export = sub.add_parser("export", help="write the map (or a view of it) in another format")
    export.add_argument("--format", choices=EXPORT_NAMES, default=RDF_FORMATS["ttl"].name)
    export.add_argument("--graph", choices=("all", *GRAPHS), default="all")
    export.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")
    _data_option(export)
    export.set_defaults(func=cmd_export)

    claims = sub.add_parser("check-claims", help="recompute every count the review states (exit 1 on disagreement)")
    claims.add_argument("--format", choices=("table", "json", "csv"), default="table")
    _data_option(claims)
    claims.set_defaults(func=cmd_check_claims)
    return parser


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
