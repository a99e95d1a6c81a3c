"""A report built from synthetic data, for demos, docs and visual checks.

    .venv/bin/python -m pipeline.report.demo OUT_DIR [--screenshot docs/report-screenshot.png]

No store, no real complaint: :mod:`pipeline.report.synthetic` texts only.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

from .build import Report, build_report
from .render import write_report
from .synthetic import scored_frame

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars")


def demo_report(rows: int = 6000, *, seed: int = 7) -> Report:
    """March 2024 of a fictitious company, with a delivery spike in the last week."""
    from pipeline.config import load_settings
    from pipeline.taxonomy import load_taxonomy

    df = scored_frame(rows, date(2024, 1, 1), date(2024, 3, 31), seed=seed, spike="livraison",
                      spike_from=date(2024, 3, 25), model_version="demo-1")
    quality = {"runs": 31, "rows_read": 2104, "rows_stored": 2032, "duplicates": 41, "quarantined": 31,
               "quarantine_by_reason": {"texte_vide": 19, "langue_non_francaise": 9, "fichier_illisible": 3}}
    return build_report(df, start=date(2024, 3, 1), end=date(2024, 3, 31), taxonomy=load_taxonomy(),
                        settings_report=load_settings()["report"], quality=quality)


def screenshot(html: Path, png: Path, *, width: int = 1280, height: int = 4000) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("chromium not found (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={png}",
                        f"--window-size={width},{height}", html.resolve().as_uri()],
                       check=True, capture_output=True, timeout=120)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--rows", type=int, default=6000)
    parser.add_argument("--screenshot", type=Path)
    parser.add_argument("--height", type=int, default=4000)
    args = parser.parse_args(argv)
    files = write_report(demo_report(args.rows), args.out_dir)
    for name, path in files.items():
        print(f"{name:16s} {path}")
    if args.screenshot:
        args.screenshot.parent.mkdir(parents=True, exist_ok=True)
        screenshot(files["html"], args.screenshot, height=args.height)
        print(f"{'screenshot':16s} {args.screenshot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
