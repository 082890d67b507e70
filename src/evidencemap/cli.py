"""The ``evidencemap`` command: thin wrappers around plain functions of the package."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .errors import EvidenceMapError
from .settings import Settings


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        data=[Path(p) for p in getattr(args, "data", None) or []] or None,
        base_iri=getattr(args, "base_iri", None),
        query_timeout=getattr(args, "query_timeout", None),
        max_rows=getattr(args, "max_rows", None),
        sparql_workers=getattr(args, "workers", None),
        union_default_graph=getattr(args, "union_default_graph", None),
    )


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .web.app import create_app

    app = create_app(_settings(args))
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="evidencemap", description="Publish and query a scoping review's evidence map.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the map over HTTP (SPARQL endpoint, REST API, pages)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--data", nargs="+", metavar="FILE", help="map files or folders (default: the bundled map)")
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
