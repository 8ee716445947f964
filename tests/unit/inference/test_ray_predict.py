"""``predict engine=ray`` on a local Ray (2 CPUs, started once for the module) with the tiny model: the same
predictions, columns, row order and insights as the local predict, folders and globs of files, a killed actor, a
damaged file, Ctrl+C, and the checks made before Ray starts."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from review_cls.errors import ConfigError, DataError
from review_cls.inference.prediction_files import insights_folder
from review_cls.jobs.predict import run_prediction
from tests.guarantees.test_faults import finish, start
from tests.helpers import CONF_DIR

ray = pytest.importorskip("ray")
psutil = pytest.importorskip("psutil")

WAIT_S = 540  # a loaded 2-core CI machine: generous, and never part of an assertion about speed
ACTOR = "MapBatches(PredictActor)"


def compose_predict(*overrides: str) -> DictConfig:
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        return compose(config_name="predict", overrides=["progress=false", *overrides])


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray for the module's runs (each predict uses it instead of starting its own)."""
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def reviews(small_reviews_csv: Path) -> pd.DataFrame:
    """The small CSV with an id per row and four empty texts."""
    frame = pd.read_csv(small_reviews_csv, dtype=str)
    frame.insert(0, "id", [f"r{i:03d}" for i in range(len(frame))])
    frame.loc[[0, 7, 8, 100], "review"] = ["", "   ", None, "\t"]
    return frame


def predict(ckpt: Path, source: Path | str, output: Path, *overrides: str) -> dict:
    return run_prediction(compose_predict(f"ckpt_path={ckpt}", f"input={source}", f"output={output}", *overrides))


def assert_same_predictions(ray_output: Path, local: pd.DataFrame) -> None:
    """Same columns, types, rows in the same order; labels identical, probabilities within 1e-6."""
    result = pd.read_parquet(ray_output)
    assert list(result.columns) == list(local.columns)
    assert result.dtypes.to_dict() == local.dtypes.to_dict()
    numbers = ["confidence", *(name for name in local.columns if name.startswith("prob_"))]
    pd.testing.assert_frame_equal(result.drop(columns=numbers), local.drop(columns=numbers))
    np.testing.assert_allclose(result[numbers].to_numpy(), local[numbers].to_numpy(), rtol=0, atol=1e-6)


@pytest.fixture(scope="module")
def with_ids(reviews: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("input") / "reviews.csv"
    reviews.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def local_run(blended_checkpoint: Path, with_ids: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The local predict of the checkpoint that records a blend: what predict ships, the model and its TF-IDF."""
    output = tmp_path_factory.mktemp("local") / "predictions.parquet"
    predict(blended_checkpoint, with_ids, output)
    return output


def test_predictions_columns_order_and_insights_equal_the_local_predicts(local_ray, blended_checkpoint, with_ids,
                                                                         local_run, tmp_path):
    output = tmp_path / "predictions"
    summary = predict(blended_checkpoint, with_ids, output, "engine=ray", "chunk_size=40", "ray.batch_rows=16")
    assert (summary["rows"], summary["predicted"], summary["empty"]) == (180, 176, 4)
    assert all(part.name.startswith("part-") and part.suffix == ".parquet" for part in output.iterdir())
    local = pd.read_parquet(local_run)
    assert_same_predictions(output, local)
    assert pd.read_parquet(output)["predicted_label"].isna().sum() == 4
    for name in ("categories.csv", "weekly_counts.csv"):
        assert (insights_folder(output) / name).read_text() == (insights_folder(local_run) / name).read_text()
    assert (insights_folder(output) / "report.html").is_file()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["predictions", "predictions_insights"]


def test_a_glob_of_files_is_predicted_file_by_file_in_name_order(local_ray, tiny_checkpoint, reviews, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    pieces = {"b_store.csv": reviews.iloc[60:130], "a_store.csv": reviews.iloc[:60], "c_store.csv": reviews.iloc[130:]}
    for name, piece in pieces.items():
        piece.to_csv(folder / name, index=False)
    (folder / "notes.csv").write_text("not,matched\n")
    local = []
    for name in sorted(pieces):
        predict(tiny_checkpoint, folder / name, tmp_path / f"{name}.parquet", "insights=false")
        local.append(pd.read_parquet(tmp_path / f"{name}.parquet"))
    output = tmp_path / "all"
    summary = predict(tiny_checkpoint, folder / "?_store.csv", output, "engine=ray", "insights=false")
    assert summary["rows"] == 180 and not insights_folder(output).exists()
    assert_same_predictions(output, pd.concat(local, ignore_index=True))
    assert pd.read_parquet(output)["id"].tolist() == reviews["id"].tolist()


def title(process: psutil.Process) -> str:
    """A Ray worker's process title: ``ray::<actor>.<method it runs>``."""
    try:
        return (process.cmdline() or [""])[0]
    except psutil.Error:
        return ""


def predicting_actors() -> list[psutil.Process]:
    """The actor processes busy with a batch (Ray titles them with the running method, ``submit``)."""
    return [process for process in psutil.process_iter()
            if ACTOR in title(process) and title(process).endswith(".submit")]


def test_a_killed_actor_is_replaced_and_every_row_is_written_once(local_ray, blended_checkpoint, reviews, local_run,
                                                                  tmp_path):
    source = tmp_path / "many.csv"
    many = pd.concat([reviews] * 6, ignore_index=True)
    many["id"] = [f"r{i:04d}" for i in range(len(many))]
    many.to_csv(source, index=False)
    killed: list[int] = []
    running = threading.Event()
    running.set()

    def kill_one_predicting_actor() -> None:
        while running.is_set() and not killed:
            for process in predicting_actors():
                process.send_signal(signal.SIGKILL)
                killed.append(process.pid)
                return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_one_predicting_actor, daemon=True)
    killer.start()
    try:
        predict(blended_checkpoint, source, tmp_path / "out", "engine=ray", "insights=false", "chunk_size=40",
                "ray.batch_rows=8")
    finally:
        running.clear()
        killer.join()
    assert killed, "no actor was seen predicting, so none was killed mid-run"
    result = pd.read_parquet(tmp_path / "out")
    assert result["id"].tolist() == many["id"].tolist()  # every row once, in order
    local = pd.read_parquet(local_run)
    expected = pd.concat([local] * 6, ignore_index=True).assign(id=many["id"])
    assert_same_predictions(tmp_path / "out", expected)


def test_a_damaged_file_is_the_projects_error_and_leaves_no_output(local_ray, tiny_checkpoint, reviews, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    reviews.to_json(folder / "a.jsonl", orient="records", lines=True)
    good = reviews.to_json(orient="records", lines=True).splitlines()
    (folder / "b.jsonl").write_text("\n".join(good[:50] + ["{not json"] + good[50:]) + "\n")
    with pytest.raises(DataError, match="line 51 is not one JSON object"):
        predict(tiny_checkpoint, folder, tmp_path / "out", "engine=ray", "chunk_size=20")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["exports"]


def test_ctrl_c_ends_the_ray_job_says_so_and_writes_nothing(tiny_checkpoint, reviews, tmp_path):
    source = tmp_path / "many.csv"
    pd.concat([reviews] * 20, ignore_index=True).to_csv(source, index=False)
    log = tmp_path / "predict.log"
    command = [sys.executable, "-m", "review_cls.predict", "engine=ray", f"ckpt_path={tiny_checkpoint}",
               f"input={source}", f"output={tmp_path / 'out'}", "progress=false", "ray.batch_rows=8"]
    process = start(command, log)
    deadline = time.monotonic() + WAIT_S
    while not any(ACTOR in title(child) for child in psutil.Process(process.pid).children(recursive=True)):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the run never started its actors:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    ray_processes = psutil.Process(process.pid).children(recursive=True)
    os.kill(process.pid, signal.SIGINT)
    assert finish(process, log) == 130
    text = log.read_text()
    assert "stopping the Ray job" in text
    assert f"interrupted: predict stopped (Ctrl+C); output='{tmp_path / 'out'}' was not written or changed" in text
    gone, alive = psutil.wait_procs(ray_processes, timeout=60)
    assert not alive, f"Ray processes left running: {[p.pid for p in alive]}"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["many.csv", "predict.log"]


def test_folders_globs_and_files_name_their_tables_in_order(tmp_path):
    from review_cls.inference.ray_io import input_files

    for name in ("b.csv", "a.jsonl", "notes.txt.bak", ".hidden.csv"):
        (tmp_path / name).write_text("review\nfine\n")
    (tmp_path / "sub").mkdir()
    assert input_files(str(tmp_path)) == [tmp_path / "a.jsonl", tmp_path / "b.csv"]
    assert input_files(str(tmp_path / "*.csv")) == [tmp_path / "b.csv"]
    assert input_files(str(tmp_path / "b.csv")) == [tmp_path / "b.csv"]
    with pytest.raises(DataError, match=r"matches no table file"):
        input_files(str(tmp_path / "*.parquet"))
    with pytest.raises(DataError, match="is a folder without table files"):
        input_files(str(tmp_path / "sub"))
    with pytest.raises(DataError, match="does not exist"):
        input_files(str(tmp_path / "missing.csv"))


def test_files_with_other_columns_are_refused_naming_the_file(tmp_path):
    from review_cls.inference.ray_io import TableReading, first_chunk

    (tmp_path / "a.csv").write_text("id,review\n1,fine\n")
    (tmp_path / "b.csv").write_text("review,id\nfine,1\n")
    reading = TableReading(10, None, "utf-8", None)
    with pytest.raises(DataError, match=r"'.*b\.csv' has the columns review, id; '.*a\.csv' has id, review"):
        first_chunk([tmp_path / "a.csv", tmp_path / "b.csv"], reading)


@pytest.mark.parametrize(("overrides", "message"), [
    (["engine=spark"], "engine=spark is not an engine"),
    (["ray.actors=3"], r"ray.actors=3 x ray.cpus_per_actor=1 needs 3 CPUs, but the local Ray gets ray.num_cpus=2"),
    (["ray.batch_rows=0"], "ray.batch_rows must be a whole number >= 1"),
    (["ray.gpus_per_actor=-1"], "ray.gpus_per_actor must be >= 0"),
    (["ray.address=' '"], "ray.address must be null"),
])
def test_bad_ray_settings_are_named_before_anything_is_read(tiny_checkpoint, small_reviews_csv, tmp_path, overrides,
                                                            message):
    with pytest.raises(ConfigError, match=message):
        predict(tiny_checkpoint, small_reviews_csv, tmp_path / "out", "engine=ray", *overrides)
    assert list(tmp_path.iterdir()) == []


def test_without_ray_the_error_names_the_extra(tiny_checkpoint, small_reviews_csv, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray.data", None)  # what an environment without the extra gives
    with pytest.raises(ConfigError, match=r'pip install -e "\.\[ray\]"'):
        predict(tiny_checkpoint, small_reviews_csv, tmp_path / "out", "engine=ray")


def test_an_output_folder_is_replaced_only_when_it_holds_parts_and_overwrite_is_given(tmp_path):
    from review_cls.inference.prediction_parts import check_output_folder

    source = tmp_path / "in" / "reviews.csv"
    source.parent.mkdir()
    source.write_text("review\nfine\n")
    output = tmp_path / "out"
    check_output_folder(output, [source], insights=True, overwrite=False)  # nothing there yet
    output.mkdir()
    check_output_folder(output, [source], insights=True, overwrite=False)  # an empty folder is free
    (output / "part-00000000-0.parquet").write_bytes(b"")
    with pytest.raises(ConfigError, match="exists \\(an earlier run\\?\\); pass overwrite=true"):
        check_output_folder(output, [source], insights=True, overwrite=False)
    check_output_folder(output, [source], insights=True, overwrite=True)
    (output / "mine.xlsx").write_bytes(b"")
    with pytest.raises(ConfigError, match=r"holds files predict did not write \(mine.xlsx\)"):
        check_output_folder(output, [source], insights=True, overwrite=True)
    with pytest.raises(ConfigError, match="holds the input"):
        check_output_folder(source.parent, [source], insights=True, overwrite=True)
    with pytest.raises(ConfigError, match="is a file; engine=ray writes a folder"):
        check_output_folder(source, [tmp_path / "other.csv"], insights=True, overwrite=True)


def test_parts_sort_in_task_order_and_get_the_first_parts_types(tmp_path):
    from review_cls.inference.prediction_parts import give_parts_one_schema, part_chunks, part_files

    frames = {"part-00000010-0.parquet": pd.DataFrame({"n": ["three"]}),
              "part-00000002-0.parquet": pd.DataFrame({"n": [2]}),
              "part-00000001-0.parquet": pd.DataFrame({"n": [1]})}
    for name, frame in frames.items():
        frame.to_parquet(tmp_path / name, index=False)
    parts = part_files(tmp_path)
    assert [part.name for part in parts] == ["part-00000001-0.parquet", "part-00000002-0.parquet",
                                             "part-00000010-0.parquet"]
    with pytest.raises(DataError, match="a column changes type between chunks"):
        give_parts_one_schema(parts, tmp_path)  # text cannot take the first part's int64
    pd.DataFrame({"n": [3.0]}).to_parquet(tmp_path / "part-00000010-0.parquet", index=False)
    give_parts_one_schema(parts, tmp_path)
    chunks = list(part_chunks(parts, rows=10))
    assert [chunk.index.tolist() for chunk in chunks] == [[0], [1], [2]]
    assert [chunk["n"].dtype for chunk in chunks] == [np.int64] * 3


def test_the_projects_error_is_found_inside_what_ray_raises():
    from review_cls.inference.ray_predict import user_error

    class TaskFailed(Exception):
        def __init__(self, cause: BaseException) -> None:
            super().__init__("task failed")
            self.cause = cause

    damaged = DataError("line 3 is not one JSON object")
    try:
        try:
            raise TaskFailed(damaged)
        except TaskFailed as failed:
            raise RuntimeError("the dataset failed") from failed
    except RuntimeError as raised:
        assert user_error(raised) is damaged
    assert user_error(RuntimeError("out of memory")) is None
