"""A long schemathesis run over the whole OpenAPI document, /sparql included (issue 9): counts responses by status
and fails when any is a 500. The short seeded run of ``make test`` is tests/test_no_500.py (without /sparql).

    .venv/bin/python scripts/schemathesis_sparql.py --cases 5000 --seed 9
"""

from __future__ import annotations

import argparse
import collections
import sys

import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from starlette.testclient import TestClient

from evidencemap.settings import Settings
from evidencemap.web.app import create_app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=5000, help="cases in all, shared among the operations")
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    app = create_app(Settings(query_timeout=2.0))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    per_operation = max(1, args.cases // max(1, len(operations)))
    statuses: collections.Counter[int] = collections.Counter()
    failures: list[str] = []
    with TestClient(app) as client:
        for operation in operations:
            @seed(args.seed)
            @settings(max_examples=per_operation, deadline=None, phases=[Phase.generate],
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy())
            def run(case: schemathesis.Case) -> None:
                response = client.request(**case.as_transport_kwargs(base_url="http://testserver"))
                statuses[response.status_code] += 1
                if response.status_code >= 500 and response.status_code != 503:
                    failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}")

            run()
    print(f"{sum(statuses.values())} requests over {len(operations)} operations: {dict(sorted(statuses.items()))}")
    for failure in failures[:20]:
        print("FAIL", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
