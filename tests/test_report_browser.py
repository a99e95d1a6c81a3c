"""The HTML report in a real browser: headless Chromium renders it without errors.

Skipped only when Chromium is not installed (Debian: ``apt-get install chromium``).
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"]


def chromium(url: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args, url],
                          capture_output=True, text=True, timeout=90)


def console_problems(stderr: str) -> list[str]:
    """Console messages (errors, uncaught exceptions) Chromium logged for the page."""
    return [line for line in stderr.splitlines()
            if ":CONSOLE" in line or "Uncaught" in line or "Failed to load resource" in line]


@pytest.fixture(scope="module")
def html(tmp_path_factory) -> Path:
    from pipeline.report.demo import demo_report
    from pipeline.report.render import write_report

    out = tmp_path_factory.mktemp("report")
    return write_report(demo_report(4000), out)["html"]


@pytest.fixture(scope="module")
def dom_run(html, tmp_path_factory):
    profile = tmp_path_factory.mktemp("profile-dom")
    return chromium(html.as_uri(), profile, "--enable-logging=stderr", "--v=0", "--dump-dom")


def test_console_detector_sees_errors(tmp_path):
    # The check below is only worth something if Chromium reports console errors this way.
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><script>console.error('boom'); missingFn();</script></body></html>")
    run = chromium(bad.as_uri(), tmp_path / "profile", "--enable-logging=stderr", "--v=0", "--dump-dom")
    problems = console_problems(run.stderr)
    assert any("boom" in p for p in problems) and any("Uncaught" in p for p in problems)


def test_no_console_errors(dom_run):
    assert dom_run.returncode == 0, dom_run.stderr[-2000:]
    assert console_problems(dom_run.stderr) == []


def test_rendered_dom_has_the_charts_and_sections(dom_run):
    dom = dom_run.stdout
    assert dom.count("<svg") >= 3
    for section in ("priorites", "pareto", "qui-doit-agir", "secteurs", "tendance", "urgences", "mots", "delais",
                    "qualite"):
        assert f'id="{section}"' in dom, section
    assert "Réclamations : causes à traiter" in dom


def test_screenshot_is_not_blank(html, tmp_path):
    from PIL import Image

    png = tmp_path / "report.png"
    run = chromium(html.as_uri(), tmp_path / "profile", f"--screenshot={png}", "--window-size=1280,4000")
    assert run.returncode == 0 and png.is_file(), run.stderr[-2000:]
    image = np.asarray(Image.open(png).convert("RGB"))
    assert image.shape[:2] == (4000, 1280)
    colours = np.unique(image.reshape(-1, 3)[::7], axis=0)
    assert len(colours) > 50                                   # text, charts, cards: not a flat page
    top = image[:600]
    assert (top.mean(axis=2) < 80).mean() > 0.002              # dark text (title, figures) at the top
    assert image.std() > 10
