"""Benchmark of ``pipeline.privacy``: recall per type, false positives, throughput.

Run: ``.venv/bin/python -m benchmarks.masking [--names rules|ner] [--data PATH]``

Definitions
-----------
found
    A labelled value is *found* when, for every occurrence of the value in its
    sentence, every letter and digit of that occurrence lies inside a span that
    ``find_pii`` returns. Since ``mask_text`` replaces exactly those spans with
    placeholders, this means: after masking, none of the value's letters or
    digits remain at that place (separators such as spaces or dots may be kept
    when they sit between two masked spans, e.g. "Résidence X, 12 rue Y").
typed
    Found, and the span covering the value's first letter or digit has the
    labelled type (``<TEL>`` for a phone number...). Reported beside recall.
recall
    found / labelled values, per type and overall.
false-positive rate
    Share of negative sentences (``pii`` empty) whose masked text differs from
    the input.
throughput
    Texts per second of ``mask_texts`` over every sentence of the data set,
    median of 5 repeats (the spaCy model is loaded before timing), by the wall
    clock and by this process's CPU time (the latter ignores waiting for a core
    on a shared machine).

The data set (``tests/data/pii_sentences.jsonl``) carries a ``split`` field:
``dev`` sentences were written first and used while developing, ``holdout``
sentences were written last and only scored; numbers are given for both.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Iterable, Sequence

from pipeline.privacy import PLACEHOLDERS, PiiSpan, find_pii_batch, mask_texts

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO / "tests" / "data" / "pii_sentences.jsonl"
DEFAULT_RESULTS = REPO / "benchmarks" / "results" / "masking.md"
TYPES = tuple(PLACEHOLDERS)
STRUCTURED_TYPES = tuple(t for t in TYPES if t != "NOM")
SPLITS = ("dev", "holdout")


def load_labelled(path: Path | str = DEFAULT_DATA) -> list[dict]:
    """The labelled sentences, one dict per JSONL line."""
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _occurrences(text: str, value: str) -> Iterable[int]:
    start = text.find(value)
    while start != -1:
        yield start
        start = text.find(value, start + 1)


def _covering_type(spans: Sequence[PiiSpan], pos: int) -> str | None:
    for span in spans:
        if span.start <= pos < span.end:
            return span.type
    return None


def value_status(text: str, value: str, spans: Sequence[PiiSpan]) -> tuple[bool, str | None]:
    """(found, type of the span over the value's first letter or digit), see the docstring."""
    found, first_type = True, None
    for start in _occurrences(text, value):
        for pos in range(start, start + len(value)):
            if not text[pos].isalnum():
                continue
            covering = _covering_type(spans, pos)
            if covering is None:
                found = False
            elif first_type is None:
                first_type = covering
    return found, first_type


def _new_counts() -> dict:
    return {"n": 0, "found": 0, "typed": 0}


def score(records: Sequence[dict], spans_per_record: Sequence[Sequence[PiiSpan]]) -> dict:
    """Per split ("all", "dev", "holdout"): per-type counts, overall counts, FP counts."""
    result = {split: {"types": defaultdict(_new_counts), "neg": 0, "fp": 0, "misses": [], "fps": []}
              for split in ("all", *SPLITS)}
    for record, spans in zip(records, spans_per_record):
        for split in ("all", record.get("split", "dev")):
            _score_record(result[split], record, spans)
    return result


def _score_record(bucket: dict, record: dict, spans: Sequence[PiiSpan]) -> None:
    text = record["text"]
    if not record["pii"]:
        bucket["neg"] += 1
        if spans:
            bucket["fp"] += 1
            bucket["fps"].append((text, [(s.type, s.value) for s in spans]))
        return
    for item in record["pii"]:
        found, span_type = value_status(text, item["value"], spans)
        counts = bucket["types"][item["type"]]
        counts["n"] += 1
        counts["found"] += found
        counts["typed"] += found and span_type == item["type"]
        if not found:
            bucket["misses"].append((item["type"], item["value"], text))


def recall(bucket: dict, types: Iterable[str] = TYPES) -> float:
    """Overall recall of a score bucket over ``types``."""
    n = sum(bucket["types"][t]["n"] for t in types)
    return sum(bucket["types"][t]["found"] for t in types) / n if n else 1.0


def fp_rate(bucket: dict) -> float:
    return bucket["fp"] / bucket["neg"] if bucket["neg"] else 0.0


def throughput(texts: Sequence[str], names: str, repeats: int = 5) -> tuple[float, float]:
    """Median texts/s of ``mask_texts`` over ``texts``: (wall clock, CPU time of this process).

    On a shared machine the wall clock also counts time spent waiting for a core; the
    CPU-time figure is what one dedicated core would do.
    """
    mask_texts(texts[:10], names=names)  # warm-up: loads spaCy in NER mode
    wall, cpu = [], []
    for _ in range(repeats):
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        mask_texts(texts, names=names)
        wall.append(time.perf_counter() - start_wall)
        cpu.append(time.process_time() - start_cpu)
    return len(texts) / statistics.median(wall), len(texts) / statistics.median(cpu)


def _ratio(counts: dict, key: str) -> str:
    return f"{counts[key] / counts['n']:.3f}" if counts["n"] else "–"


def render_markdown(result: dict, names: str, speed: tuple[float, float], command: str, data: Path,
                    texts: Sequence[str], repeats: int = 5) -> str:
    """One markdown section for one names mode."""
    n_texts = len(texts)
    mean_chars = sum(map(len, texts)) / max(n_texts, 1)
    lines = [
        f"## names={names}",
        "",
        f"- command: `{command}`",
        f"- date: {dt.date.today().isoformat()}",
        f"- machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
        f"one process; load average {os.getloadavg()[0]:.1f} when measured (the machine is shared)",
        f"- data: `{_relative(data)}` ({n_texts} sentences, {mean_chars:.0f} characters on average, "
        f"{result['all']['neg']} without personal data)",
        "",
        "| type | values (dev / holdout) | recall all | recall dev | recall holdout | typed all |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for t in TYPES:
        all_c, dev_c, hold_c = (result[s]["types"][t] for s in ("all", *SPLITS))
        lines.append(
            f"| {t} | {all_c['n']} ({dev_c['n']} / {hold_c['n']}) | {_ratio(all_c, 'found')} | "
            f"{_ratio(dev_c, 'found')} | {_ratio(hold_c, 'found')} | {_ratio(all_c, 'typed')} |"
        )
    lines += [
        f"| **structured (all but NOM)** | | {recall(result['all'], STRUCTURED_TYPES):.3f} | "
        f"{recall(result['dev'], STRUCTURED_TYPES):.3f} | {recall(result['holdout'], STRUCTURED_TYPES):.3f} | |",
        f"| **overall** | | {recall(result['all']):.3f} | {recall(result['dev']):.3f} | "
        f"{recall(result['holdout']):.3f} | |",
        "",
        f"- false-positive rate (negative sentences changed by masking): all {fp_rate(result['all']):.3f} "
        f"({result['all']['fp']}/{result['all']['neg']}), dev {fp_rate(result['dev']):.3f}, "
        f"holdout {fp_rate(result['holdout']):.3f} ({result['holdout']['fp']}/{result['holdout']['neg']})",
        f"- throughput: {speed[0]:,.0f} texts/s wall clock, {speed[1]:,.0f} texts/s of CPU time "
        f"({speed[1] * mean_chars:,.0f} characters per CPU second); `mask_texts`, median of {repeats} repeats "
        f"over the {n_texts} sentences",
        "",
    ]
    return "\n".join(lines)


def _relative(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def write_section(path: Path, names: str, section: str) -> None:
    """Replace (or append) this mode's section in the results file."""
    begin, end = f"<!-- masking:{names} -->", f"<!-- /masking:{names} -->"
    block = f"{begin}\n{section}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Personal-data masking benchmark\n\n"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _print_errors(result: dict) -> None:
    for kind, value, text in result["all"]["misses"]:
        print(f"MISS {kind:8} {value!r}  in  {text!r}")
    for text, spans in result["all"]["fps"]:
        print(f"FP   {spans}  in  {text!r}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.masking", description=__doc__.split("\n")[0])
    parser.add_argument("--names", choices=("rules", "ner"), default="rules")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--errors", action="store_true", help="print every missed value and false positive")
    parser.add_argument("--write", type=Path, nargs="?", const=DEFAULT_RESULTS, default=None,
                        help=f"replace this mode's section in a markdown file (default {_relative(DEFAULT_RESULTS)})")
    args = parser.parse_args(argv)

    records = load_labelled(args.data)
    texts = [r["text"] for r in records]
    spans = find_pii_batch(texts, names=args.names)
    result = score(records, spans)
    speed = throughput(texts, args.names, args.repeats)
    command = ".venv/bin/python -m benchmarks.masking " + " ".join(sys.argv[1:] if argv is None else argv)
    section = render_markdown(result, args.names, speed, command.strip(), args.data, texts, args.repeats)
    if args.errors:
        _print_errors(result)
    print(section)
    if args.write:
        write_section(args.write, args.names, section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
