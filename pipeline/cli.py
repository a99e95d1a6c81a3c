"""The ``complaints`` command: predict, train, evaluate, mask, report, models.

Thin wiring over the library. Heavy imports happen inside each command so that
``complaints predict "…"`` starts fast, and nothing here imports Prefect.
Every user error ends as one line on stderr and exit code 2, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .errors import ComplaintsError, one_line

EXIT_USAGE = 2


def _settings():
    from .config import load_settings

    return load_settings()


def _load(model_arg):
    from .registry import load_model, resolve_model_dir

    settings = _settings()
    return load_model(resolve_model_dir(settings.paths.models, model_arg)), settings


# -- predict ------------------------------------------------------------------------------
def cmd_predict(args) -> int:
    if args.text is not None and args.input:
        raise ComplaintsError("give either a text or --input FILE, not both")
    if args.text is None and not args.input:
        raise ComplaintsError('nothing to score: give a text (complaints predict "…") or --input FILE')
    model, settings = _load(args.model)
    if args.text is not None:
        import pandas as pd

        context = pd.DataFrame({"channel": [args.channel], "rating": [args.rating]})
        result = model.predict_frame([args.text], ["1"], context)
        record = _record(result.iloc[0])
        print(json.dumps(record, ensure_ascii=False, indent=2) if args.json else _readable(record))
        _exit_now()
        return 0
    return _predict_file(model, settings, args)


def _predict_file(model, settings, args) -> int:
    from .scoring import score_file

    bar = _ProgressBar(args.quiet)
    try:
        rows, flagged = score_file(
            model, args.input, args.output, settings["scoring"]["chunk_size"], fmt=args.format,
            out_format=args.output_format or (None if args.output != "-" else "jsonl"),
            text_column=args.text_column, id_column=args.id_column, on_total=bar.start, progress=bar.update)
    finally:
        bar.close()
    if args.output != "-" and not args.quiet:
        print(f"{rows} rows scored -> {args.output} ({flagged} to review)", file=sys.stderr)
    return 0


class _ProgressBar:
    """Shown once the row count is known, and only for long inputs."""

    def __init__(self, quiet: bool):
        self.quiet, self.bar = quiet, None

    def start(self, total: int) -> None:
        if not self.quiet and total >= 2000:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="doc", file=sys.stderr, desc="scoring")

    def update(self, rows: int) -> None:
        if self.bar:
            self.bar.update(rows)

    def close(self) -> None:
        if self.bar:
            self.bar.close()


def _exit_now() -> None:
    """End the process without tearing down the loaded model object by object.

    Interpreter teardown frees the unpickled model piece by piece (~0.4 s): after a
    single-text answer is printed and flushed there is nothing left to do or to close.
    Only when run as the `complaints` command: a caller of main() keeps its process."""
    if _RUNNING_AS_COMMAND:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


_RUNNING_AS_COMMAND = False


def _record(row) -> dict:
    import math

    record = {}
    for key, value in row.items():
        if isinstance(value, float) and math.isnan(value):
            value = None
        elif hasattr(value, "item"):
            value = value.item()
        record[key] = value
    return record


def _readable(record: dict) -> str:
    from .taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    if record["sector"] is None:
        return f"Non classé : {record['flags'] or 'texte inutilisable'} (à revoir)"
    lines = []
    for head, title in (("sector", "Secteur"), ("root_cause", "Cause"), ("urgency", "Urgence")):
        label = record[head]
        lines.append(
            f"{title:<9}{label} — {taxonomy.label(head, label)}  ({record[head + '_proba']:.0%}; "
            f"ensuite : {record[head + '_alt']} {record[head + '_alt_proba']:.0%})"
        )
        if head == "root_cause":
            lines.append(f"{'':<9}responsable : {taxonomy.owner(label)}")
        if head == "urgency" and record["urgency_rule"]:
            lines.append(f"{'':<9}règle déclenchée : {record['urgency_rule']}")
    review = "oui (" + record["review_reasons"] + ")" if record["needs_review"] else "non"
    lines.append(f"{'À revoir':<9}{review}")
    lines.append(f"{'Indices':<9}" + f"\n{'':<9}".join(record["evidence"].split(" | ")))
    lines.append(f"{'Modèle':<9}{record['model_version']} · taxonomie v{record['taxonomy_version']}")
    return "\n".join(lines)


# -- train / evaluate -----------------------------------------------------------------------
def cmd_train(args) -> int:
    from datetime import datetime, timezone

    from .registry import new_version, save_model, set_current
    from .taxonomy import load_taxonomy
    from .training import data_fingerprint, load_labelled, train

    settings = _settings()
    taxonomy = load_taxonomy()
    data_path = Path(args.data) if args.data else settings.paths.corpus
    data = load_labelled(data_path, taxonomy, args.text_column)
    fingerprint = data_fingerprint(data)
    version = args.version or new_version(fingerprint)
    print(f"training {version} on {len(data)} labelled texts from {data_path}", file=sys.stderr)
    model, metrics = train(data, settings, taxonomy, version)
    out = Path(args.out) if args.out else settings.paths.models / version
    card = {
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "training_data": {"path": str(data_path), "sha256": fingerprint, "rows": int(len(data)),
                          "label_counts": {h: data[h].value_counts().to_dict() for h in ("sector", "root_cause", "urgency")}},
        "settings": {"model": settings["model"], "preprocess": settings["preprocess"], "review": settings["review"]},
        "metrics": metrics,
    }
    save_model(model, out, card, fmt=args.format)
    if not args.no_promote and out.parent.resolve() == settings.paths.models.resolve():
        set_current(settings.paths.models, out.name)
    for head, m in metrics.get("heads", {}).items():
        print(f"  {head:<11} held-out macro-F1 {m['macro_f1']:.3f}  accuracy {m['accuracy']:.3f}", file=sys.stderr)
    print(out)
    return 0


def cmd_evaluate(args) -> int:
    from .evaluation import format_metrics
    from .taxonomy import load_taxonomy
    from .training import evaluate_model, load_labelled

    model, settings = _load(args.model)
    taxonomy = load_taxonomy()
    results = evaluate_model(model, load_labelled(args.data, taxonomy, args.text_column), taxonomy)
    print(json.dumps(results, ensure_ascii=False, indent=2) if args.json else format_metrics(results))
    return 0


# -- mask -------------------------------------------------------------------------------------
def cmd_mask(args) -> int:
    from .io import decode
    from .privacy import mask_text

    if args.input and args.input != "-":
        try:
            data = Path(args.input).read_bytes()
        except OSError as exc:
            raise ComplaintsError(f"{args.input}: cannot read ({exc.strerror or exc})") from None
    else:
        data = sys.stdin.buffer.read()
    lines = decode(data, args.input or "stdin").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    masked = "".join(mask_text(line.rstrip("\r"), names=args.names) + "\n" for line in lines)
    if args.output and args.output != "-":
        from .io import write_text_atomic

        write_text_atomic(args.output, masked)
    else:
        sys.stdout.write(masked)
    return 0


# -- report -------------------------------------------------------------------------------------
def cmd_report(args) -> int:
    from .registry import current_version
    from .report import make_report

    settings = _settings()
    version = args.model_version or current_version(settings.paths.models)
    if not version:
        raise ComplaintsError("no model version to report on: train a model or pass --model-version")
    out = Path(args.out) if args.out else settings.paths.reports / f"{args.date_from}_{args.date_to}"
    filters = {k: v for k, v in (("company", args.company), ("product", args.product), ("channel", args.channel)) if v}
    paths = make_report(settings, version, _date(args.date_from), _date(args.date_to), out, **filters)
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


def _date(value: str):
    from datetime import date

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ComplaintsError(f"invalid date {value!r}: expected YYYY-MM-DD") from None


# -- models -------------------------------------------------------------------------------------
def cmd_models(args) -> int:
    from .registry import current_version, read_card

    settings = _settings()
    root = settings.paths.models
    current = current_version(root)
    folders = sorted(p for p in root.iterdir() if p.is_dir() and (p / "model_card.json").exists()) if root.is_dir() else []
    if not folders:
        print(f"no model in {root}; run `complaints train`")
        return 0
    for folder in folders:
        card = read_card(folder)
        heads = card.get("metrics", {}).get("heads", {})
        scores = "  ".join(f"{h}={m['macro_f1']:.2f}" for h, m in heads.items())
        mark = "*" if folder.name == current else " "
        status = card.get("promotion", {}).get("decision", "")
        print(f"{mark} {folder.name}  rows={card.get('training_data', {}).get('rows', '?')}  {scores}  {status}")
    return 0


# -- wiring -------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="complaints", description="Tag French complaints with sector, root cause and urgency."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("predict", help="score one text or a file")
    p.add_argument("text", nargs="?", help="a complaint text (or use --input)")
    p.add_argument("--input", "-i", help="CSV, JSONL, Parquet or .txt file; - for stdin (one text per line)")
    p.add_argument("--output", "-o", default="-", help="output file (format from extension); - for stdout (JSONL)")
    p.add_argument("--format", choices=["csv", "jsonl", "parquet", "txt"], help="input format if not from extension")
    p.add_argument("--output-format", choices=["csv", "jsonl", "parquet"], help="output format if not from extension")
    p.add_argument("--text-column", help="name of the text column (default: text, texte, message…)")
    p.add_argument("--id-column", default="id", help="name of the id column (default: id; generated if absent)")
    p.add_argument("--channel", help="the text's channel (email, avis, tweet, formulaire…); a file's own "
                                     "channel column is used with --input")
    p.add_argument("--rating", help="a review's star rating, 1-5; a file's rating/note column with --input")
    p.add_argument("--json", action="store_true", help="print one text's result as JSON")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary")
    _model_arg(p)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("train", help="train a model version from labelled data")
    p.add_argument("--data", help="labelled file or folder (default: the bundled corpus data/raw/corpus)")
    p.add_argument("--out", help="output folder (default: models/<version>, which becomes current)")
    p.add_argument("--version", help="version name (default: timestamp + data hash)")
    p.add_argument("--text-column")
    p.add_argument("--format", choices=["pickle", "skops"], default="pickle",
                   help="model file format (skops loads only allow-listed types)")
    p.add_argument("--no-promote", action="store_true", help="do not make the new version current")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="precision, recall, macro-F1 and confusion matrices on labelled data")
    p.add_argument("--data", required=True)
    p.add_argument("--text-column")
    p.add_argument("--json", action="store_true")
    _model_arg(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("mask", help="mask personal data: one text per line in, one per line out")
    p.add_argument("--input", "-i", help="file (default: stdin)")
    p.add_argument("--output", "-o", help="file (default: stdout)")
    p.add_argument("--names", choices=["rules", "ner"], default="rules",
                   help="person names by rules only, or also spaCy NER (slower)")
    p.set_defaults(func=cmd_mask)

    p = sub.add_parser("report", help="root-cause report for a period (HTML, CSV, Markdown)")
    p.add_argument("--from", dest="date_from", required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", required=True, help="last day, YYYY-MM-DD")
    p.add_argument("--out", help="output folder (default: reports/<from>_<to>)")
    p.add_argument("--model-version", help="predictions of this model version (default: current)")
    p.add_argument("--company")
    p.add_argument("--product")
    p.add_argument("--channel")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("models", help="list model versions (* = current)")
    p.set_defaults(func=cmd_models)
    return parser


def _model_arg(p):
    p.add_argument("--model", "-m", help="a model version folder (default: the current one in models/)")


def command() -> int:
    """Entry point of the `complaints` console script."""
    global _RUNNING_AS_COMMAND
    _RUNNING_AS_COMMAND = True
    return main()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ComplaintsError, ImportError) as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:
        # Full disk, read-only folder, permission: the user can act on these.
        print(one_line(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")), file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(command())
