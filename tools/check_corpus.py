"""Validate the bundled corpus (or one slice of it): JSON lines, keys, taxonomy ids.

Usage: python tools/check_corpus.py [data/raw/corpus/*.jsonl]
Prints counts per sector / root cause / urgency / channel and every problem found;
exit 1 when there is a problem. The test suite runs the same checks.
"""
import collections
import json
import sys
from pathlib import Path

root = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(root))
from pipeline.taxonomy import HEADS, load_taxonomy  # noqa: E402

REQUIRED = ("id", "channel", "received_at", "company", "text", *HEADS)


def check(paths: list[Path]) -> tuple[list[dict], list[str]]:
    taxonomy = load_taxonomy()
    problems, rows, ids, texts = [], [], set(), set()
    for path in paths:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            where = f"{path.name}:{n}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{where}: invalid JSON ({exc})")
                continue
            problems += [f"{where}: missing {k}" for k in REQUIRED if not row.get(k)]
            problems += [f"{where}: unknown {h} {row.get(h)!r}" for h in HEADS if row.get(h) not in taxonomy.heads[h]]
            if row.get("root_cause") == "hors_sujet" and row.get("urgency") != "basse":
                problems.append(f"{where}: hors_sujet must be urgency basse")
            if row.get("id") in ids:
                problems.append(f"{where}: duplicate id {row.get('id')}")
            if row.get("text") in texts:
                problems.append(f"{where}: duplicate text")
            ids.add(row.get("id"))
            texts.add(row.get("text"))
            rows.append(row)
    return rows, problems


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted((root / "data" / "raw" / "corpus").glob("*.jsonl"))
    rows, problems = check(paths)
    print(f"{len(rows)} rows")
    for key in (*HEADS, "channel"):
        print(key, dict(collections.Counter(r.get(key) for r in rows).most_common()))
    for p in problems:
        print("PROBLEM", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
