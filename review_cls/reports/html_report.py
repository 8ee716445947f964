"""``report.html``: the insight summary as one self-contained page (plotly.js and the data inlined, no network when
it is opened), for a product team to browse or mail.

Review texts never reach the page as markup: the table and the examples are built in the browser with
``textContent`` from JSON whose ``<``, ``>`` and ``&`` are escaped, so a review holding ``</script>`` cannot end the
data block or run.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from review_cls.monitoring.emerging import EXAMPLE_SEPARATOR, PHRASE_SEPARATOR
from review_cls.reports.insights import InsightSummary
from review_cls.utils.run_folder import RunFolder

# characters of a review kept in the page; longer ones end with an ellipsis (the full text is in the output file)
MAX_TEXT = 2000
# flags listed in "What changed" (newest first; every flag is in emerging.csv)
MAX_FLAGS = 200
FONTS = ('system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans CJK SC", "Noto Sans CJK TC", '
         '"PingFang SC", "Microsoft YaHei", sans-serif, "Apple Color Emoji", "Segoe UI Emoji", "Noto Color Emoji"')
JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def inline_json(value: Any) -> str:
    """JSON that is safe inside a ``<script>`` element (no ``</script>``, ``<!--`` or line separators)."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    return "".join(JSON_ESCAPES.get(char, char) for char in text)


def run_metrics(ckpt_path: str | None) -> dict[str, float | None]:
    """Test macro-F1 of the model, of the TF-IDF baseline and of their blend from the run folder's ``metrics.json``,
    if it has one (none without a checkpoint: ``review_cls.trends`` on a predictions file)."""
    metrics = RunFolder.of_checkpoint(ckpt_path).metrics() if ckpt_path else {}
    return {"model": metrics.get("test/f1_macro"), "tfidf": metrics.get("baseline/test_f1_macro"),
            "blend": metrics.get("blend/test_f1_macro")}


def _chart(figure: go.Figure, element: str) -> str:
    figure.update_layout(margin={"l": 10, "r": 10, "t": 40, "b": 10}, font={"family": FONTS}, template="plotly_white")
    return figure.to_html(full_html=False, include_plotlyjs=False, div_id=element, config={"displaylogo": False})


def charts(summary: InsightSummary) -> list[str]:
    """Share per category, weekly trend (with a date column) and star ratings (with a rating column)."""
    categories = summary.category_table().iloc[::-1]
    share = go.Figure(go.Bar(x=categories["share"], y=categories["category"], orientation="h",
                             text=[f"{c:,} ({s:.1%})" for c, s in zip(categories["count"], categories["share"])],
                             textposition="auto"))
    share.update_layout(title=summary.share_title("Share of reviews per category"), xaxis_tickformat=".0%",
                        height=120 + 28 * len(categories))
    parts = [_chart(share, "chart-share")]
    if summary.date_column and summary.weekly:
        weekly = summary.weekly_table()
        trend = go.Figure([go.Scatter(x=weekly.index, y=weekly[label], mode="lines+markers", name=str(label))
                           for label in weekly.columns])
        trend.update_layout(title=f"Reviews per week and category ({summary.date_column}, weeks from Monday)",
                            height=420)
        parts.append(_chart(trend, "chart-weekly"))
    if summary.rating_column and summary.stars:
        stars = pd.Series(summary.stars).unstack(fill_value=0)
        stars = stars.div(stars.sum(axis=1), axis=0).reindex(categories["category"]).dropna(how="all")
        rating = go.Figure([go.Bar(x=stars[star], y=stars.index, orientation="h", name=f"{star}★")
                            for star in sorted(stars.columns)])
        rating.update_layout(barmode="stack", xaxis_tickformat=".0%", height=140 + 28 * len(stars),
                             title=f"Star rating by category ({summary.rating_column})")
        parts.append(_chart(rating, "chart-rating"))
    return parts


def page_data(summary: InsightSummary, source: str, ckpt_path: str | None) -> dict[str, Any]:
    """Everything the page's script builds from: examples, the sampled table, the run."""

    def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
        return [{"row": int(r.row), "category": str(r.category), "confidence": _plain(round(float(r.confidence), 4)),
                 "text": _cut(r.text)} for r in frame.itertuples(index=False)]

    return {
        **trend_data(summary),
        "source": source, "predicted": summary.predicted, "empty": summary.empty, "labels": summary.labels,
        "most": records(summary.examples_table()), "least": records(summary.examples_table(least=True)),
        "rows": records(summary.sample_table()), "sampleLimit": summary.sample_rows,
        "run": {"checkpoint": str(ckpt_path or "none (the labels of the predictions file)"),
                "predictor": summary.made_by, "f1": run_metrics(ckpt_path)},
    }


def trend_data(summary: InsightSummary) -> dict[str, Any]:
    """The "What changed" flags (newest first, at most ``MAX_FLAGS``) and notes, and the topics, for the page."""
    results = summary.trend_results
    if results is None:
        return {"changes": None, "topics": []}
    flags = results.emerging.flags
    return {
        "changes": {"notes": results.emerging.notes, "total": len(flags), "flags": [
            {**{key: _plain(value) for key, value in flag.items() if key not in ("phrases", "examples")},
             "phrases": [p for p in flag["phrases"].split(PHRASE_SEPARATOR) if p],
             "examples": [_cut(t) for t in flag["examples"].split(EXAMPLE_SEPARATOR) if t]}
            for flag in flags.head(MAX_FLAGS).to_dict("records")]},
        "topics": [{**{key: _plain(value) for key, value in topic.items() if key != "examples"},
                    "examples": [_cut(t) for t in str(topic["examples"]).split(EXAMPLE_SEPARATOR) if t]}
                   for topic in results.topics.to_dict("records")],
    }


def _plain(value: Any) -> Any:
    """A JSON value: numpy scalars as Python ones, NaN and infinities as null."""
    if isinstance(value, (np.integer, np.floating)):
        value = value.item()
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"


def write_report(summary: InsightSummary, path: Path, source: str, ckpt_path: str | None) -> None:
    """The page, written to ``path``."""
    template = (Path(__file__).with_name("report_template.html")).read_text(encoding="utf-8")
    page = (template.replace("/*FONTS*/", FONTS)
            .replace("<!--CHARTS-->", "\n".join(charts(summary)))
            .replace("/*PLOTLYJS*/", get_plotlyjs().replace("</script", "<\\/script"))
            .replace("/*DATA*/", inline_json(page_data(summary, source, ckpt_path))))
    path.write_text(page, encoding="utf-8")
