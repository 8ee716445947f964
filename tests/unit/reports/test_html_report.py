"""report.html: self-contained, review text escaped in markup and in inlined JSON, rendered in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from review_cls.reports.html_report import inline_json, write_report
from review_cls.reports.insights import InsightSummary
from tests.unit.monitoring.streams import counted, stream

REPO_ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = REPO_ROOT / "test-artifacts"
ATTACKS = ["<script>document.body.setAttribute('data-pwned','script')</script>",
           "</script><script>document.body.setAttribute('data-pwned','json')</script>",
           "<img src=x onerror=\"document.body.setAttribute('data-pwned','img')\">"]
LABELS = ["bug", "delivery", "price"]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--virtual-time-budget=10000", "--enable-logging=stderr", "--v=0"]


def predictions(rows: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    texts = [f"review {i} 配送太慢了 😡 " + "long " * (100 if i % 7 == 0 else 1) for i in range(rows)]
    texts[:len(ATTACKS)] = ATTACKS
    return pd.DataFrame({
        "review": texts, "predicted_label": rng.choice(LABELS, rows), "confidence": rng.uniform(0.3, 1.0, rows),
        "date": pd.date_range("2026-01-01", periods=rows, freq="6h").astype(str), "rating": rng.integers(1, 6, rows)})


def report(tmp_path: Path, frame: pd.DataFrame, sample_rows: int = 1000) -> tuple[Path, InsightSummary]:
    summary = InsightSummary(LABELS, "review", 3, "date", "rating", sample_rows,
                             made_by="the model blended with its TF-IDF baseline (0.50 model + 0.50 TF-IDF, rule f1)")
    for start in range(0, len(frame), 120):
        summary.update(frame.iloc[start:start + 120])
    path = tmp_path / "report.html"
    write_report(summary, path, "reviews.csv", str(tmp_path / "missing.ckpt"))
    return path, summary


def test_inline_json_cannot_close_its_script_element():
    text = inline_json({"text": ATTACKS[1] + "<!-- \u2028"})
    assert "<" not in text and ">" not in text and "\u2028" not in text
    assert json.loads(text) == {"text": ATTACKS[1] + "<!-- \u2028"}


def test_page_is_self_contained_and_holds_no_review_markup(tmp_path):
    path, _ = report(tmp_path, predictions())
    page = path.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link|img)[^>]+src=", page)  # nothing fetched when the page opens
    assert page.count("</script>") == page.count("<script")  # no review closes or opens a script element
    assert all(attack not in page for attack in ATTACKS)
    data = json.loads(re.search(r'id="report-data" type="application/json">(.*?)</script>', page, re.S).group(1))
    assert {row["text"] for row in data["rows"]} >= set(ATTACKS)  # escaped, yet the exact text in the data
    assert data["run"]["f1"] == {"model": None, "tfidf": None, "blend": None}
    assert data["run"]["predictor"] == "the model blended with its TF-IDF baseline (0.50 model + 0.50 TF-IDF, rule f1)"
    assert {"chart-share", "chart-weekly", "chart-rating"} <= set(re.findall(r'id="(chart-[a-z]+)"', page))


def test_table_is_a_uniform_sample_past_its_limit(tmp_path):
    frame = predictions(600)
    _, summary = report(tmp_path, frame, sample_rows=100)
    sample = summary.sample_table()
    assert len(sample) == 100 and sample["row"].is_unique and sample["row"].is_monotonic_increasing
    assert sample["row"].min() < 150 and sample["row"].max() > 450  # drawn from every chunk, not the first rows
    least = summary.examples_table(least=True)
    for label, group in frame.groupby("predicted_label"):
        expected = group.sort_values("confidence", kind="stable").head(3).index.tolist()
        assert least[least["category"] == label]["row"].tolist() == expected


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (apt-get install -y chromium; .ci/run does)")
def test_page_renders_in_headless_chromium(tmp_path):
    path, _ = report(tmp_path, predictions())
    common = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*common, "--dump-dom", path.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    console_errors = [line for line in dom.stderr.splitlines() if "CONSOLE" in line and "Uncaught" in line]
    assert not console_errors
    assert not re.search(r"<body[^>]*data-pwned", dom.stdout)  # no review's script or handler ran
    assert "&lt;/script&gt;&lt;script&gt;" in dom.stdout  # shown as text instead
    for chart in ("chart-share", "chart-weekly", "chart-rating"):  # plotly drew each chart's SVG
        assert re.search(rf'id="{chart}"[^>]*class="[^"]*js-plotly-plot', dom.stdout), chart
    assert dom.stdout.count('class="main-svg"') >= 3
    assert dom.stdout.count("<tr>") >= 50 and "配送太慢了 😡" in dom.stdout and "<details>" in dom.stdout
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    subprocess.run([*common, "--hide-scrollbars", "--window-size=1200,2600", f"--screenshot={shot}", path.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 20_000


def report_with_trends(tmp_path: Path) -> Path:
    """A page whose stream holds a planted complaint: "What changed" lists it, the topics view has both categories."""
    frame = stream(weeks=12, planted_week=9, planted=50)
    frame.loc[frame.index[0], "review"] = ATTACKS[1]
    summary = InsightSummary(["delivery", "payment"], "review", 3, "date", "rating", 500,
                             trends=counted(frame.iloc[:0]))
    for start in range(0, len(frame), 200):
        summary.update(frame.iloc[start:start + 200].assign(confidence=0.9))
    summary.write(tmp_path, "reviews.csv")
    path = tmp_path / "report.html"
    write_report(summary, path, "reviews.csv", None)
    return path


def test_page_opens_with_what_changed_and_a_topics_view(tmp_path):
    page = report_with_trends(tmp_path).read_text(encoding="utf-8")
    data = json.loads(re.search(r'id="report-data" type="application/json">(.*?)</script>', page, re.S).group(1))
    assert page.index('id="changes"') < page.index('id="run"') < page.index('id="topics-section"')
    flags = data["changes"]["flags"]
    weeks = [f["window"] for f in flags if f["by"] == "week"]
    assert flags[0]["by"] == "week" and weeks == sorted(weeks, reverse=True) and all(f["examples"] for f in flags)
    assert any("login" in " ".join(f["phrases"]) for f in flags)
    assert {topic["category"] for topic in data["topics"]} == {"delivery", "payment"}
    assert data["run"]["f1"] == {"model": None, "tfidf": None, "blend": None}
    assert data["run"]["predictor"] == ""  # a predictions file read by trends: no predictor made them here


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (apt-get install -y chromium; .ci/run does)")
def test_what_changed_renders_in_headless_chromium(tmp_path):
    path = report_with_trends(tmp_path)
    common = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*common, "--dump-dom", path.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert not [line for line in dom.stderr.splitlines() if "CONSOLE" in line and "Uncaught" in line]
    assert dom.stdout.count('<details class="flag') >= 2 and "login code never arrives" in dom.stdout
    assert "significant rise" in dom.stdout and "most central reviews" in dom.stdout
    assert not re.search(r"<body[^>]*data-pwned", dom.stdout)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report_changes.png"
    subprocess.run([*common, "--hide-scrollbars", "--window-size=1200,1400", f"--screenshot={shot}", path.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 20_000
