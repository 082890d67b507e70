"""Every benchmark in one go (``make bench``): runs each ``benchmarks/bench_*.py`` with its own defaults, the REST
benchmark first, and prints their figures one after the other. A script that cannot run here (a module or a command
it needs is missing) is skipped with a note; the others still run. Exits 1 if any script failed otherwise.

    python benchmarks/run_all.py [--only rest,facets] [--skip store]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIRST = ("bench_rest.py",)
MISSING = ("ModuleNotFoundError", "No module named", "command not found", "FileNotFoundError: [Errno 2]")


def scripts(only: set[str], skip: set[str]) -> list[Path]:
    found = sorted(HERE.glob("bench_*.py"), key=lambda p: (p.name not in FIRST, p.name))
    short = {p: p.stem.removeprefix("bench_") for p in found}
    return [p for p in found if (not only or short[p] in only) and short[p] not in skip]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated names (rest, facets, ...) to run only those")
    parser.add_argument("--skip", default="", help="comma-separated names to leave out")
    args = parser.parse_args(argv)
    failed = []
    for script in scripts({s for s in args.only.split(",") if s}, {s for s in args.skip.split(",") if s}):
        print(f"\n## {script.name}\n", flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, script.name], cwd=HERE, stderr=subprocess.PIPE, text=True)
        took = time.perf_counter() - started
        if result.returncode == 0:
            print(f"({script.name}: {took:.0f} s)", flush=True)
        elif any(marker in result.stderr for marker in MISSING):
            last = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
            print(f"(skipped {script.name}: it needs something missing here: {last})", flush=True)
        else:
            failed.append(script.name)
            print(result.stderr[-2000:], file=sys.stderr)
            print(f"({script.name} failed with exit code {result.returncode})", flush=True)
    if failed:
        print(f"\nFailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
