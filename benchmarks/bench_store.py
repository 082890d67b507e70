"""Store benchmark: rdflib in memory, raw pyoxigraph in memory and the product's own path, side by side.

For each size, a synthetic map shaped like the real one (``synthetic.py``) is loaded by each candidate in a fresh
process (so that peak memory is that candidate's alone), then every named query of the bundled map (the core
``api/queries`` and its own ``maps/dufour-2025/queries``, with their default parameters, bound as the product binds
them) and the product's facet queries are timed. SHACL validation with the project's shapes runs in another fresh
process per candidate, and is skipped at larger sizes once it passes its cap.
Finally the time from starting ``evidencemap serve`` to its first successful HTTP response is measured.

    python benchmarks/bench_store.py --sizes 1000,10000,100000 --repeat 5 --out docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import socket
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx

from candidates import CANDIDATES, COUNTS_ROW, STUDIES_ROW
from synthetic import write_map

HERE = Path(__file__).resolve().parent
NAMED_QUERY_TARGET = 1.5  # each named query within 1.5x of raw pyoxigraph (issue 2)
TARGET_SIZES = (10_000, 100_000)
LOAD_TARGET = (100_000, 15.0)  # 100,000 studies loaded in 15 s or less
SERVE_TARGET = 1.0
SERVE_PATHS = ("/api/facets", "/", "/docs")
RATIO_COLUMN = "evidencemap ÷ pyoxigraph"
BEGIN, END = "<!-- bench_store.py: begin -->", "<!-- bench_store.py: end -->"


def machine() -> list[str]:
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    versions = ", ".join(f"{p} {_version(p)}" for p in ("pyoxigraph", "rdflib", "pyshacl", "fastapi", "uvicorn"))
    return [
        f"- machine: {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs (nproc), "
        f"{mem_kb / 1024 / 1024:.1f} GiB RAM, load average {os.getloadavg()[0]:.2f} at start",
        f"- Python {platform.python_version()}; {versions}",
    ]


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def run_worker(kind: str, name: str, path: Path, repeat: int, cap: float, timeout: float) -> dict[str, Any]:
    """Run one candidate in a fresh process and return its RESULT (or an error)."""
    command = [sys.executable, str(HERE / "candidates.py"), kind, name, str(path), str(repeat), str(cap)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"candidate": name, "error": f"killed after {timeout:.0f} s"}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line[len("RESULT "):])
            return result
    tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
    return {"candidate": name, "error": f"exit {done.returncode}: {tail[:120]}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_start(repeat: int, limit: float = 60.0) -> tuple[list[float], str]:
    """Seconds from starting ``evidencemap serve`` (bundled map) to its first 2xx answer, and the path answered."""
    script = Path(sys.executable).with_name("evidencemap")
    base = [str(script)] if script.exists() else [sys.executable, "-m", "evidencemap.cli"]
    times, answered = [], "none"
    for _ in range(repeat):
        port = free_port()
        started = time.perf_counter()
        process = subprocess.Popen([*base, "serve", "--port", str(port)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            with httpx.Client(timeout=2.0) as client:
                while time.perf_counter() - started < limit and process.poll() is None:
                    path = first_success(client, port)
                    if path is not None:
                        times.append(time.perf_counter() - started)
                        answered = path
                        break
                    time.sleep(0.01)
        finally:
            process.terminate()
            process.wait(timeout=10)
    return times, answered


def first_success(client: httpx.Client, port: int) -> str | None:
    """The first of SERVE_PATHS that answers 2xx, or None (not listening yet, or no such page)."""
    for path in SERVE_PATHS:
        try:
            response = client.get(f"http://127.0.0.1:{port}{path}")
        except httpx.TransportError:
            return None
        if response.is_success:
            return path
    return None


def fmt_seconds(value: Any, unit: str = "s") -> str:
    if not isinstance(value, int | float):
        return str(value)
    if unit == "s":
        return f"{value:.2f} s"
    ms = value * 1000
    return f"{ms:,.0f} ms" if ms >= 100 else f"{ms:.1f} ms" if ms >= 10 else f"{ms:.2f} ms"


def ratio(product: Any, raw: Any) -> float | None:
    if isinstance(product, int | float) and isinstance(raw, int | float) and raw > 0:
        return float(product) / float(raw)
    return None


def size_table(size: int, triples: int, results: dict[str, dict[str, Any]], validation: dict[str, str],
               names: list[str]) -> list[str]:
    loaded = next((r["triples"] for r in results.values() if "triples" in r), None)
    lines = [
        f"### {size:,} studies",
        "",
        f"Synthetic file: {triples:,} triples ({triples / size:.0f} a study); "
        + (f"{loaded:,} quads once loaded with the vocabulary and the materialised findings." if loaded else ""),
        "",
        "| measure | " + " | ".join(CANDIDATES) + f" | {RATIO_COLUMN} |",
        "|---|" + "---:|" * (len(CANDIDATES) + 1),
    ]

    def cell(name: str, key: str, unit: str = "s") -> str:
        result = results.get(name, {})
        if "skipped" in result:
            return str(result["skipped"])
        if "error" in result:
            return str(result["error"])
        return fmt_seconds(result.get(key, "-"), unit)

    def row(label: str, cells: list[str], rate: float | None, mark: str = "") -> None:
        shown = f"{rate:.2f}{mark}" if rate is not None else "-"
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {shown} |")

    def value(name: str, key: str) -> Any:
        return results.get(name, {}).get(key)

    row("load", [cell(c, "load_s") for c in CANDIDATES],
        ratio(value("evidencemap", "load_s"), value("pyoxigraph", "load_s")))
    row("SHACL validation", [validation.get(c, "-") for c in CANDIDATES], None)
    rss = [f"{results[c]['peak_rss_mb']:.0f} MB" if "peak_rss_mb" in results.get(c, {}) else cell(c, "-")
           for c in CANDIDATES]
    row("peak RSS (load + queries)", rss,
        ratio(value("evidencemap", "peak_rss_mb"), value("pyoxigraph", "peak_rss_mb")))
    for query in [*names, STUDIES_ROW, COUNTS_ROW]:
        cells = []
        for c in CANDIDATES:
            result = results.get(c, {})
            if "queries" in result:
                cells.append(fmt_seconds(result["queries"].get(query, "-"), "ms"))
            else:
                cells.append(cell(c, "-"))
        product = results.get("evidencemap", {})
        rate = ratio(product.get("queries", {}).get(query), product.get("paired_raw", {}).get(query))
        mark = ""
        if rate is not None and query in names and size in TARGET_SIZES:
            mark = " ✓" if rate <= NAMED_QUERY_TARGET else " ✗"
        label = f"query `{query}`" if query in names else query
        row(label, cells, rate, mark)
    lines += [
        "",
        "Query times are medians. The last column divides the product's time by raw pyoxigraph's, both taken in "
        "turns in one process on the same store (so that both see the same machine load); for load and memory it "
        "divides the figures of the two separate processes. ✓/✗: within the 1.5x target or not.",
    ]
    return [*lines, ""]


def targets(all_results: dict[int, dict[str, dict[str, Any]]], names: list[str],
            serve: tuple[list[float], str] | None) -> list[str]:
    lines = ["### Targets of issue 2", "", "| target | measured | verdict |", "|---|---|---|"]
    for size in TARGET_SIZES:
        results = all_results.get(size)
        if not results:
            lines.append(f"| named queries within {NAMED_QUERY_TARGET}x of raw pyoxigraph at {size:,} | not run | - |")
            continue
        product = results.get("evidencemap", {})
        rates = {q: ratio(product.get("queries", {}).get(q), product.get("paired_raw", {}).get(q)) for q in names}
        known = {q: r for q, r in rates.items() if r is not None}
        missing = sorted(set(names) - set(known))
        if known:
            worst = max(known, key=lambda q: known[q])
            verdict = "met" if known[worst] <= NAMED_QUERY_TARGET else "missed"
            measured = f"worst `{worst}` {known[worst]:.2f}x"
        else:
            verdict, measured = "not measured", "-"
        if missing:
            measured += f"; not comparable (timeout/error): {', '.join(missing)}"
        lines.append(f"| named queries within {NAMED_QUERY_TARGET}x of raw pyoxigraph at {size:,} studies "
                     f"| {measured} | {verdict} |")
    size, limit = LOAD_TARGET
    load = all_results.get(size, {}).get("evidencemap", {}).get("load_s")
    measured = f"{load:.1f} s | {'met' if load <= limit else 'missed'}" if load is not None else "not run | -"
    lines.append(f"| {size:,} studies loaded in {limit:.0f} s or less | {measured} |")
    product = next((r["evidencemap"] for r in all_results.values() if "inferred_without_finding" in
                    r.get("evidencemap", {})), None)
    if product is not None:
        ok = product["inferred_without_finding"] == 0 and product["hierarchy_by_property_path"]
        lines.append("| concept hierarchies by SPARQL property paths, not materialised inference | inferred graph "
                     f"holds {product['inferred_without_finding']} statements beyond the findings'; facet query "
                     f"{'uses' if product['hierarchy_by_property_path'] else 'does not use'} `skos:broader*` "
                     f"| {'met' if ok else 'missed'} |")
    if serve is not None:
        times, path = serve
        if times:
            median = statistics.median(times)
            lines.append(f"| bundled map serving within {SERVE_TARGET:.0f} s of start | first 2xx of GET {path} "
                         f"after {median:.2f} s (median of {len(times)}) | "
                         f"{'met' if median <= SERVE_TARGET else 'missed'} |")
        else:
            lines.append(f"| bundled map serving within {SERVE_TARGET:.0f} s of start | no 2xx answer | missed |")
    return [*lines, ""]


def write_out(path: Path, block: list[str]) -> None:
    """Put the generated block between the markers of ``path``, keeping the prose around it."""
    text = "\n".join([BEGIN, *block, END])
    if path.exists() and BEGIN in (old := path.read_text(encoding="utf-8")) and END in old:
        text = old[: old.index(BEGIN)] + text + old[old.index(END) + len(END):]
    elif path.exists():
        text = old.rstrip("\n") + "\n\n" + text + "\n"
    else:
        text += "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated numbers of studies")
    parser.add_argument("--repeat", type=int, default=5, help="runs per query (at least; the median is shown)")
    parser.add_argument("--out", type=Path, help="Markdown file to write the figures into (between markers)")
    parser.add_argument("--skip-rdflib-above", type=int, default=10_000, help="largest size rdflib is run at")
    parser.add_argument("--query-cap", type=float, default=60.0, help="seconds a query may take, all runs together")
    parser.add_argument("--validation-cap", type=float, default=120.0,
                        help="seconds SHACL validation may take; larger sizes are skipped once it is passed")
    parser.add_argument("--skip-validation", action="store_true", help="do not run SHACL validation")
    parser.add_argument("--no-serve", action="store_true", help="do not measure the start of evidencemap serve")
    parser.add_argument("--candidates", default=",".join(CANDIDATES),
                        help=f"comma-separated subset of {', '.join(CANDIDATES)}")
    parser.add_argument("--data-dir", type=Path, help="folder for the synthetic maps (default: a temp folder)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    chosen = {c.strip() for c in args.candidates.split(",") if c.strip()}
    if chosen - set(CANDIDATES):
        parser.error(f"unknown candidates {', '.join(sorted(chosen - set(CANDIDATES)))}: use {', '.join(CANDIDATES)}")

    from evidencemap.model.queries import named_queries

    names = [q.name for q in named_queries()]
    command = "python benchmarks/bench_store.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    header = ["## Figures", "", *machine(), f"- command: `{command}`", ""]
    print("\n".join(header), flush=True)
    block = list(header)
    all_results: dict[int, dict[str, dict[str, Any]]] = {}
    validation_over: dict[str, float] = {}
    for size in sizes:
        started = time.perf_counter()
        synthetic = write_map(size, args.data_dir)
        print(f"(map of {size:,} studies ready in {time.perf_counter() - started:.1f} s: {synthetic.path})",
              file=sys.stderr, flush=True)
        results: dict[str, dict[str, Any]] = {}
        validation: dict[str, str] = {}
        for name in CANDIDATES:
            if name not in chosen:
                results[name] = {"skipped": "not run"}
                validation[name] = "not run"
                continue
            if name == "rdflib" and size > args.skip_rdflib_above:
                results[name] = {"skipped": f"skipped (> {args.skip_rdflib_above:,} studies)"}
                validation[name] = results[name]["skipped"]
                continue
            budget = 1800 + args.query_cap * (len(names) + 2)
            results[name] = run_worker("run", name, synthetic.path, args.repeat, args.query_cap, budget)
            print(f"({name}: done at {size:,} studies)", file=sys.stderr, flush=True)
            if args.skip_validation:
                validation[name] = "not run (--skip-validation)"
            elif name == "pyoxigraph":
                validation[name] = "as evidencemap (same pyshacl path)"
            elif name in validation_over:
                validation[name] = f"skipped (>{validation_over[name]:.0f}s)"
            else:
                outcome = run_worker("validate", name, synthetic.path, 1, args.validation_cap,
                                     1800 + args.validation_cap)
                seconds = outcome.get("validation")
                if isinstance(seconds, int | float):
                    validation[name] = f"{seconds:.2f} s" + ("" if outcome.get("conforms") else " (violations)")
                elif seconds == "timeout" or "killed" in str(outcome.get("error", "")):
                    validation_over[name] = args.validation_cap
                    validation[name] = f"skipped (>{args.validation_cap:.0f}s)"
                else:
                    validation[name] = str(seconds or outcome.get("error"))
        all_results[size] = results
        table = size_table(size, synthetic.triples, results, validation, names)
        print("\n".join(table), flush=True)
        block.extend(table)
    serve = None if args.no_serve else serve_start(3)
    summary = targets(all_results, names, serve)
    print("\n".join(summary), flush=True)
    block.extend(summary)
    if args.out:
        write_out(args.out, block)
        print(f"(figures written to {args.out})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
