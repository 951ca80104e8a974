"""helm-python-sdk behind a JSON-lines pipe, run as a child of the test session.

Helm's Go runtime installs its own signal handlers and threads when its library loads; kept in
this process, it never meets the test session's forks, Spark's JVM or pytest-timeout's alarm.
One request per stdin line: {"op": "render" | "lint", "chart": path, ...}; one answer per
stdout line: {"result": ...} or {"error": exception class name, "message": text}.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def handle(request: dict[str, Any]) -> Any:
    import helm_python as helm

    op = request["op"]
    if op == "render":
        with helm.Chart.load(request["chart"]) as chart:
            return chart.render(request["values"], name=request["name"], namespace=request["namespace"])
    if op == "lint":
        return helm.lint(request["chart"], request["values"], namespace=request["namespace"],
                         kube_version=request["kube_version"])
    raise ValueError(f"unknown op {op!r}")


def main() -> None:
    for line in sys.stdin:
        try:
            answer = {"result": handle(json.loads(line))}
        except Exception as exc:  # every failure goes back to the test, which decides
            answer = {"error": type(exc).__name__, "message": str(exc)}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
