"""Validate a file of OpenLineage events (one JSON object per line) against the official spec schemas
and the provider's facet schemas: ``python scripts/check_lineage.py .parity/demo/openlineage.jsonl``.

Exit 0 when every event validates, 1 otherwise (each invalid event named), 2 when the file is missing.
The spec's schemas are read from ``../shared/openlineage-spec/`` beside the checkout (see
``tests/lineage_schemas.py``).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from lineage_schemas import validate_event  # the tests folder is put on the path above


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).is_file():
        print("usage: check_lineage.py EVENTS.jsonl (an existing file)", file=sys.stderr)
        return 2
    events = [json.loads(line) for line in Path(argv[0]).read_text().splitlines() if line.strip()]
    bad = 0
    for event in events:
        try:
            validate_event(event)
        except Exception as exc:  # report every invalid event, not only the first
            bad += 1
            print(f"INVALID {event['job']['name']} {event['eventType']}: {str(exc).splitlines()[0]}")
    kinds = Counter(event["eventType"] for event in events)
    print(f"{len(events)} events ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}): "
          f"{len(events) - bad} valid, {bad} invalid")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
