"""review_cls.trends: what changed and the topics recomputed from a predictions file (the same as predict wrote), from
a plain review file (one category), on a real stream (the YouTube incident), and bad input answered."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from review_cls.errors import ConfigError, DataError
from review_cls.inference.prediction_files import insights_folder
from review_cls.jobs.predict import run_prediction
from review_cls.jobs.trends import run_trends
from review_cls.monitoring.prediction_stream import ALL_REVIEWS
from tests.helpers import CONF_DIR, DEMO_CSV, SHARED_DATA
from tests.unit.monitoring.streams import PLANTED, stream

YOUTUBE = SHARED_DATA / "idea_youtube" / "youtube_ios_reviews.csv"


def compose_trends(*overrides: str) -> DictConfig:
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        return compose(config_name="trends", overrides=["chunk_size=50", "device=cpu", *overrides])


@pytest.fixture(scope="module")
def demo_with_incident(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo reviews with 60 login complaints added in their second-to-last week."""
    demo = pd.read_csv(DEMO_CSV)
    added = pd.DataFrame({"review_id": range(5000, 5060), "review": [f"{PLANTED}, I cannot sign in ({i})"
                                                                      for i in range(60)],
                          "category": "app_bug_performance", "rating": 1, "date": "2025-06-18"})
    path = tmp_path_factory.mktemp("demo") / "reviews.csv"
    pd.concat([demo, added]).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def predicted(tiny_checkpoint: Path, demo_with_incident: Path) -> Path:
    output = demo_with_incident.with_name("predictions.csv")
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose(config_name="predict", overrides=[
            f"ckpt_path={tiny_checkpoint}", f"input={demo_with_incident}", f"output={output}", "progress=false",
            "chunk_size=50", "device=cpu", "trends.min_reviews=10"])
    run_prediction(cfg)
    return output


def test_predict_writes_the_incident_and_topics_into_insights_and_page(predicted):
    folder = insights_folder(predicted)
    flags = pd.read_csv(folder / "emerging.csv")
    login = flags[flags["phrases"].fillna("").str.contains("login|code|sign")]
    assert not login.empty and set(login["window"]) == {"2025-06-16"} and (login["rating_after"] == 1.0).any()
    assert pd.read_csv(folder / "topics.csv")["words"].notna().all()
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "What changed" in page and "Topics inside each category" in page and "2025-06-16" in page
    assert "## What changed" in (folder / "summary.md").read_text(encoding="utf-8")


def test_trends_recomputes_what_predict_wrote(predicted, tiny_checkpoint, tmp_path):
    result = run_trends(compose_trends(f"input={predicted}", f"output={tmp_path / 'out'}", "trends.min_reviews=10",
                                       f"ckpt_path={tiny_checkpoint}"))
    for name in ("emerging.csv", "topics.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "out" / name),
                                      pd.read_csv(insights_folder(predicted) / name))
    assert result["flags"] >= 1 and (tmp_path / "out" / "report.html").is_file()


def test_a_plain_review_file_is_one_category_and_needs_no_model(tmp_path):
    path = tmp_path / "reviews.csv"
    stream(weeks=12, planted_week=10, planted=40).drop(columns="predicted_label").to_csv(path, index=False)
    run_trends(compose_trends(f"input={path}"))
    folder = tmp_path / "reviews_trends"
    flags = pd.read_csv(folder / "emerging.csv")
    assert set(flags["category"]) == {ALL_REVIEWS}
    assert any("login" in phrases for phrases in flags[flags["window"] == "2025-03-17"]["phrases"])
    assert set(pd.read_csv(folder / "topics.csv")["category"]) == {ALL_REVIEWS}


def test_bad_input_gets_one_clear_error_and_keeps_what_exists(tmp_path):
    path = tmp_path / "reviews.csv"
    frame = stream(weeks=4).drop(columns="predicted_label")
    frame.drop(columns=["date", "version"]).to_csv(path, index=False)
    with pytest.raises(DataError, match="no date or version column"):
        run_trends(compose_trends(f"input={path}"))
    frame.assign(predicted_label="x").to_csv(path, index=False)
    with pytest.raises(DataError, match="no prob_<label> columns"):
        run_trends(compose_trends(f"input={path}"))
    with pytest.raises(ConfigError, match="trends.window='fortnight'"):
        run_trends(compose_trends(f"input={path}", "trends.window=fortnight"))
    frame.to_csv(path, index=False)
    (tmp_path / "reviews_trends").mkdir()
    (tmp_path / "reviews_trends" / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="notes.txt"):
        run_trends(compose_trends(f"input={path}", "overwrite=true"))
    assert (tmp_path / "reviews_trends" / "notes.txt").read_text() == "mine"


def test_unparsable_dates_and_one_window_get_notes_in_the_page(tmp_path):
    path = tmp_path / "reviews.csv"
    frame = stream(weeks=1).drop(columns=["predicted_label", "version"]).astype({"date": str})
    frame.loc[frame.index[:5], "date"] = "soon"
    frame.to_csv(path, index=False)
    run_trends(compose_trends(f"input={path}"))
    page = (tmp_path / "reviews_trends" / "report.html").read_text(encoding="utf-8")
    assert "5 reviews have no usable date in 'date' (unreadable, or not from 1990-01-01 to 2099-12-31), e.g. 'soon';" \
        in page  # one example of each value
    assert "Not enough history by week" in page


@pytest.mark.skipif(not YOUTUBE.is_file(), reason="needs ../shared/data/idea_youtube (real reviews)")
def test_youtube_incident_is_flagged_in_its_first_week(tmp_path):
    run_trends(compose_trends(f"input={YOUTUBE}", "text_column=text", f"output={tmp_path / 'out'}", "report=false",
                              "chunk_size=1000", "trends.topic_sample=50"))
    flags = pd.read_csv(tmp_path / "out" / "emerging.csv")
    incident = flags[flags["phrases"].fillna("").str.contains("something go wrong|tap to retry")
                     & (flags["by"] == "week")]
    assert incident["window"].min() == "2016-12-19"  # the first week with more than 1% of such reviews


def test_an_input_inside_the_output_folder_is_refused_as_it_would_be_lost(tmp_path):
    folder = tmp_path / "reviews_trends"
    folder.mkdir()
    path = folder / "topics.csv"  # a name trends writes there, so the folder check alone would let it be replaced
    stream(weeks=4).drop(columns="predicted_label").to_csv(path, index=False)
    before = path.read_bytes()
    with pytest.raises(ConfigError, match=r"input='.*topics.csv' lies in '.*reviews_trends', a folder this command "
                                          "writes as a whole"):
        run_trends(compose_trends(f"input={path}", f"output={folder}", "overwrite=true"))
    assert path.read_bytes() == before
