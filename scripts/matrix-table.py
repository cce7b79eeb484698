#!/usr/bin/env python3
"""Prints the compatibility matrix as a Markdown table from the JSON lines that the Matrix tests append
(Tests/IntegrationTests/Matrix, one object per check of a row), then one line per failed check with its reason and
one per check that does not apply. Exit status: 0 when every check ran and none failed, 1 otherwise.

    python3 scripts/matrix-table.py .build/matrix/results.jsonl
"""
import json
import sys

# The columns, in MatrixCheck's order; a row that did not run a check shows "-" there.
CHECKS = [
    "connect", "seed", "pgbench -i", "-S simple", "-S extended", "-S prepared", "COPY in/out", "LISTEN/NOTIFY",
    "cancel", "SCRAM", "SCRAM-PLUS", "replay",
]
CELL = {"ok": "ok", "failed": "**failed**", "n/a": "n/a"}


def main(path):
    try:
        with open(path, encoding="utf-8") as file:
            results = [json.loads(line) for line in file if line.strip()]
    except FileNotFoundError:
        print(f"matrix-table: {path} does not exist: the Matrix tests did not run (PGREEL_MATRIX=1?)", file=sys.stderr)
        return 1
    if not results:
        print(f"matrix-table: {path} is empty: no check ran", file=sys.stderr)
        return 1

    rows = {}
    for result in results:
        row = rows.setdefault(result["row_index"], {"result": result, "checks": {}, "seconds": 0.0})
        row["checks"][result["check"]] = result
        row["seconds"] += result.get("seconds", 0.0)
    extra = sorted({r["check"] for r in results} - set(CHECKS))
    columns = CHECKS + extra

    print("| upstream | client | connection | " + " | ".join(columns) + " | s |")
    print("|---|---|---|" + "---|" * len(columns) + "--:|")
    failures, not_applicable = [], []
    for index in sorted(rows):
        row = rows[index]
        first = row["result"]
        cells = []
        for check in columns:
            result = row["checks"].get(check)
            if result is None:
                cells.append("-")
                continue
            cells.append(CELL.get(result["status"], result["status"]))
            reason = " ".join((result.get("reason") or "").split())
            if len(reason) > 400:
                reason = reason[:400] + "…"
            line = f"- {first['row']} · {check}: {reason}"
            if result["status"] == "failed":
                failures.append(line)
            elif result["status"] == "n/a":
                not_applicable.append(line)
        print(f"| {first['upstream_version']} | psql {first['client_version']} | {first['connection']} | "
              + " | ".join(cells) + f" | {row['seconds']:.0f} |")

    total = sum(len(row["checks"]) for row in rows.values())
    print()
    print(f"{len(rows)} rows, {total} checks: {total - len(failures) - len(not_applicable)} ok, "
          f"{len(failures)} failed, {len(not_applicable)} n/a; {sum(r['seconds'] for r in rows.values()):.0f} s "
          f"of checks")
    if failures:
        print()
        print("Failed:")
        print("\n".join(failures))
    if not_applicable:
        print()
        print("Not applicable:")
        print("\n".join(not_applicable))
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python3 scripts/matrix-table.py RESULTS.jsonl", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
