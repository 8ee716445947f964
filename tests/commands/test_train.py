"""python -m review_cls.train end to end through Hydra: artifacts, the model / TF-IDF / blend rows and the blend
recorded in the best checkpoint, resume, weights_only reload, the command line, errors that exit 2, a Chinese run with
a character vocab and real data."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

from review_cls.errors import ConfigError
from review_cls.inference.blended_predictor import BlendedPredictor
from review_cls.inference.checkpoints import load_classifier
from review_cls.inference.predictor import load_predictor, predict_probabilities
from review_cls.models.tfidf_store import file_sha256
from review_cls.jobs.train import run_training
from tests.helpers import (
    REPO_ROOT,
    SHARED_DATA,
    ZH_DEMO,
    fails,
    tiny_overrides,
    tiny_train_cfg,
)


def test_fast_dev_run_through_hydra_compose(compose_train_cfg, capsys):
    metrics = run_training(compose_train_cfg("trainer.fast_dev_run=true", "blend=null"))
    assert 0.0 <= metrics["test/f1_macro"] <= 1.0
    assert "val/f1_macro" in metrics and "train/loss_epoch" in metrics
    assert not any(name.startswith("blend/") for name in metrics)
    assert "none (blend=null): review_cls.predict ships the model alone" in " ".join(capsys.readouterr().out.split())


@pytest.fixture(scope="module")
def trained_run(tiny_bert_dir, small_reviews_csv, tmp_path_factory):
    """A real 2-epoch tiny run, shared by the tests below; its printed panel is kept in the run's ``panel.txt``."""
    out = tmp_path_factory.mktemp("run")
    cfg = tiny_train_cfg(tiny_bert_dir, small_reviews_csv, out)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        metrics = run_training(cfg)
    (out.parent / f"{out.name}_panel.txt").write_text(printed.getvalue())
    return cfg, metrics, out


def test_the_panel_prints_model_tfidf_and_blend_rows_and_metrics_json_holds_the_blend(trained_run):
    cfg, metrics, out = trained_run
    record = json.loads((out / "metrics.json").read_text())["metrics"]
    for name in ("blend/weight", "blend/val_f1_macro", "blend/test_f1_macro"):
        assert record[name] == pytest.approx(metrics[name]) and 0.0 <= record[name] <= 1.0, name
    panel = " ".join((out.parent / f"{out.name}_panel.txt").read_text().replace("│", " ").split())
    assert f"model val macro-F1 {record['val/f1_macro_best']:.4f} test macro-F1 {record['test/f1_macro']:.4f}" in panel
    assert f"TF-IDF val macro-F1 {record['baseline/val_f1_macro']:.4f}" in panel
    assert (f"blend val macro-F1 {record['blend/val_f1_macro']:.4f} test macro-F1 {record['blend/test_f1_macro']:.4f} "
            f"(model share {record['blend/weight']:.2f}, rule {cfg.blend.rule}): what review_cls.predict ships") in panel


def test_the_best_checkpoint_records_the_blend_in_plain_values_and_ships_it(trained_run):
    cfg, metrics, out = trained_run
    best = next((out / "checkpoints").glob("best-epoch*.ckpt"))
    record = torch.load(best, map_location="cpu", weights_only=True)["blend"]  # plain values: a weights-only load
    assert record == {"weight": metrics["blend/weight"], "rule": cfg.blend.rule, "thresholds": None,
                      "tfidf_file": "baseline/tfidf.npz", "tfidf_sha256": file_sha256(out / "baseline" / "tfidf.npz"),
                      "test_f1_macro": {"model": pytest.approx(metrics["test/f1_macro"]),
                                        "tfidf": pytest.approx(metrics["baseline/test_f1_macro"]),
                                        "blend": pytest.approx(metrics["blend/test_f1_macro"])}}
    shipped = load_predictor(best)
    assert isinstance(shipped, BlendedPredictor) and shipped.blend.weight == metrics["blend/weight"]
    assert "blend" not in torch.load(out / "checkpoints" / "last.ckpt", weights_only=True)  # only the tested one


def test_an_unknown_blend_rule_is_refused_before_any_data(compose_train_cfg):
    fails(compose_train_cfg("blend.rule=best"), ConfigError, "blend must be {rule: f1 | log_loss | fixed}",
          "or null (the model alone ships)")


def test_run_writes_checkpoints_events_and_split(trained_run):
    cfg, metrics, out = trained_run
    checkpoints = sorted(path.name for path in (out / "checkpoints").glob("*.ckpt"))
    assert "last.ckpt" in checkpoints and any(name.startswith("best-epoch") for name in checkpoints)
    assert list(out.glob("events.out.tfevents.*"))
    assert (out / "split.json").is_file()
    assert metrics["test/f1_macro"] > 0.0


def test_checkpoint_reloads_weights_only_with_labels_and_same_logits(trained_run, small_reviews_csv):
    _, _, out = trained_run
    last = out / "checkpoints" / "last.ckpt"
    raw = torch.load(last, map_location="cpu", weights_only=True)
    labels = sorted(pd.read_csv(small_reviews_csv)["category"].unique())
    assert raw["hyper_parameters"]["labels"] == labels
    config = raw["hyper_parameters"]["backbone_config"]
    assert config["id2label"] == dict(enumerate(labels))
    model, tokenizer = load_classifier(last)
    texts = ["the app crashes at login", "parcel came late", "love the dark mode"]
    first = predict_probabilities(model, tokenizer, texts, model.hparams.max_length, 64)
    again, _ = load_classifier(last)
    state = raw["state_dict"]
    assert all(torch.equal(again.state_dict()[key], value) for key, value in state.items())
    assert first.shape == (3, len(labels))
    assert torch.allclose(torch.from_numpy(predict_probabilities(again, tokenizer, texts, again.hparams.max_length, 64)),
                          torch.from_numpy(first))


def test_resume_from_last_checkpoint_continues_the_epoch_count(trained_run, tiny_bert_dir, small_reviews_csv, tmp_path):
    from hydra import compose, initialize_config_dir

    from tests.helpers import CONF_DIR

    _, _, out = trained_run
    last = out / "checkpoints" / "last.ckpt"
    steps_after_two = torch.load(last, weights_only=True)["global_step"]
    resumed_out = tmp_path / "resumed"
    overrides = tiny_overrides(tiny_bert_dir, small_reviews_csv, resumed_out) + [
        "trainer.max_epochs=3", f"ckpt_path={last}", "test=false"]
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose(config_name="train", overrides=overrides)
    run_training(cfg)
    resumed = torch.load(resumed_out / "checkpoints" / "last.ckpt", weights_only=True)
    assert resumed["epoch"] == 2
    assert resumed["global_step"] == steps_after_two * 3 // 2


def test_command_line_run_leaves_a_named_run_folder(tiny_bert_dir, small_reviews_csv, tmp_path):
    logs = tmp_path / "lightning_logs"
    command = [
        sys.executable, "-m", "review_cls.train", "+experiment=focal_dropout03",
        f"model.pretrained={tiny_bert_dir}", "data=file", f"data.path={small_reviews_csv}",
        "data.text_column=review", "data.label_column=category", f"paths.log_dir={logs}",
        "trainer.max_epochs=1", "callbacks.progress_bar=null", "data.batch_size=16",
    ]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "HYDRA_FULL_ERROR": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    runs = list((logs / "focal_dropout03" / "runs").iterdir())
    assert len(runs) == 1
    run = runs[0]
    resolved = (run / ".hydra" / "config.yaml").read_text()
    assert "gamma: 2.0" in resolved and "strategy: undersample" in resolved
    assert (run / "checkpoints" / "last.ckpt").is_file()


@pytest.mark.skipif(not (SHARED_DATA / "google_play_reviews").is_dir(), reason="../shared/data/google_play_reviews absent")
def test_google_play_slice_trains_from_excel(tiny_bert_dir, tmp_path):
    from hydra import compose, initialize_config_dir

    from tests.helpers import CONF_DIR

    source = SHARED_DATA / "google_play_reviews" / "dataset_unbalanced_4000.xlsx"
    frame = pd.read_excel(source)
    sliced = frame.groupby("label").head(60)
    path = tmp_path / "google_play_slice.xlsx"
    sliced.to_excel(path, index=False, sheet_name="reviews")
    out = tmp_path / "run"
    overrides = tiny_overrides(tiny_bert_dir, path, out) + ["data=google_play", f"data.path={path}",
                                                             "data.sheet_name=reviews", "trainer.max_epochs=1"]
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose(config_name="train", overrides=overrides)
    metrics = run_training(cfg)
    raw = torch.load(out / "checkpoints" / "last.ckpt", weights_only=True)
    assert sorted(raw["hyper_parameters"]["labels"]) == sorted(frame["label"].unique())
    assert len(raw["hyper_parameters"]["labels"]) == 4
    assert 0.0 <= metrics["test/f1_macro"] <= 1.0


def test_unusable_trainer_setting_fails_before_training(compose_train_cfg):
    fails(compose_train_cfg("trainer.precision=17"), ConfigError, "trainer settings are not usable", "Precision '17'")


def test_cli_exit_code_message_and_no_run_folder(tiny_bert_dir, tmp_path):
    """The real entry point: exit 2, a one-paragraph message naming the file, no traceback, no run folder left."""
    logs = tmp_path / "logs"
    result = subprocess.run(
        [sys.executable, "-m", "review_cls.train", f"model.pretrained={tiny_bert_dir}", f"paths.log_dir={logs}",
         f"data.path={tmp_path / 'missing.csv'}"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "HYDRA_FULL_ERROR": "0"},
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "error: Data file" in result.stderr and "missing.csv" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(logs.glob("**/.hydra")), "the failed run left a run folder"


def test_chinese_demo_trains_end_to_end_with_a_char_vocab(compose_train_cfg, tmp_path: Path) -> None:
    cfg = compose_train_cfg("+experiment=char_bert", "trainer.max_epochs=1", "data.tokenizer=char_vocab:300",
                            "data.val_size=0.2", "data.test_size=0.2", data_path=ZH_DEMO)
    metrics = run_training(cfg)
    run_dir = Path(cfg.paths.output_dir)
    vocab = json.loads((run_dir / "char_tokenizer" / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
    checkpoint = next((run_dir / "checkpoints").glob("best*.ckpt"))

    import torch

    state = torch.load(checkpoint, weights_only=True)
    embeddings = next(value for name, value in state["state_dict"].items() if name.endswith("word_embeddings.weight"))
    assert embeddings.shape[0] == len(vocab) <= 300
    # the experiment trains with class-balanced weights: the demo's rarer categories weigh more
    weights = state["hyper_parameters"]["loss"]["alpha"]
    assert len(weights) == len(state["hyper_parameters"]["labels"]) and max(weights) > min(weights)
    # and its classifier reads the mean of every position (model.pooling=mean), kept in the checkpoint's config
    assert state["hyper_parameters"]["backbone_config"]["classifier_pooling"] == "mean"
    assert {"退", "款"} <= set(vocab), "the characters of 退款 (refund), common in the demo reviews, are in the vocab"
    assert 0.0 <= metrics["test/f1_macro"] <= 1.0
    assert "baseline/test_f1_macro" in metrics


@pytest.mark.parametrize("value", [0, -2])
def test_accumulate_grad_batches_below_one_is_refused_before_any_data(compose_train_cfg, value):
    fails(compose_train_cfg(f"trainer.accumulate_grad_batches={value}"), ConfigError,
          f"trainer.accumulate_grad_batches must be a whole number >= 1, got {value}")
