"""The model card in every export: README.md written with huggingface_hub.ModelCard, numbers read from the run
folder next to the checkpoint, and a clear note (not made-up numbers) when that folder is gone."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from huggingface_hub import ModelCard
from omegaconf import OmegaConf

from review_cls.inference.checkpoints import load_classifier
from review_cls.inference.export_folder import export_model
from review_cls.reports.model_card import vocabulary_scripts
from tests.helpers import tiny_train_cfg


@pytest.fixture(scope="module")
def run_folder(tiny_checkpoint: Path, tiny_bert_dir: Path, small_reviews_csv: Path,
               tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny run's folder with the ``.hydra/config.yaml`` a command-line run has (the fixture trains through
    the compose API, which writes none): Hydra's own composition of the same settings."""
    folder = tmp_path_factory.mktemp("run") / "run"
    shutil.copytree(tiny_checkpoint.parent.parent, folder)
    cfg = tiny_train_cfg(tiny_bert_dir, small_reviews_csv, folder, "trainer.max_epochs=1")
    (folder / ".hydra").mkdir()
    (folder / ".hydra" / "config.yaml").write_text(OmegaConf.to_yaml(cfg))
    return folder


@pytest.fixture(scope="module")
def exported(run_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_model(run_folder / "checkpoints" / "last.ckpt", tmp_path_factory.mktemp("card") / "model")


def test_card_metadata(exported, run_folder):
    card = ModelCard.load(exported / "README.md")
    data = card.data.to_dict()
    assert data["pipeline_tag"] == "text-classification" and data["library_name"] == "transformers"
    assert data["language"] == "en"  # the tiny BERT's vocabulary is Latin letters only
    assert data["metrics"] == ["f1"]
    metrics = json.loads((run_folder / "metrics.json").read_text())["metrics"]
    results = {result.dataset_split: result.metric_value for result in card.data.eval_results}
    assert results == {"validation": round(metrics["val/f1_macro_best"], 4), "test": round(metrics["test/f1_macro"], 4)}


def test_card_holds_labels_per_class_scores_baseline_data_and_recipe(exported, run_folder, tiny_checkpoint):
    text = (exported / "README.md").read_text()
    model, _ = load_classifier(tiny_checkpoint)
    report = json.loads((run_folder / "classification_report.json").read_text())
    metrics = json.loads((run_folder / "metrics.json").read_text())["metrics"]
    split = json.loads((run_folder / "split.json").read_text())
    for label in model.labels:
        row = report[label]
        assert (f"| {label} | {row['precision']:.4f} | {row['recall']:.4f} | {row['f1-score']:.4f} | "
                f"{int(row['support'])} |") in text
    assert (f"| fine-tuned model alone | {metrics['val/f1_macro_best']:.4f} | {metrics['test/f1_macro']:.4f} |"
            in text)
    assert (f"| TF-IDF + logistic regression | {metrics['baseline/val_f1_macro']:.4f} | "
            f"{metrics['baseline/test_f1_macro']:.4f} |") in text
    # last.ckpt records no blend: review_cls ships the model alone from this folder, and the card says so
    assert "| blend:" not in text and "`review_cls.predict` predicts with the fine-tuned model alone" in text
    assert (f"{len(split['train'])} train / {len(split['val'])} validation / {len(split['test'])} test reviews "
            "after cleaning") in text
    assert "reviews.csv" in text
    assert "- loss: cross-entropy" in text and "- learning rate: 0.001" in text and "- seed: 42" in text
    assert "- max_length: 128 tokens" in text and "- epochs: up to 1; best checkpoint after epoch 0" in text
    assert "fewer than 30 test reviews" in text  # 30 reviews per class, 15% test: every class is small
    assert "vocabulary covers: Latin" in text
    assert "Missing information" not in text


def test_card_of_a_run_without_hydra_config_names_it(tiny_checkpoint, small_reviews_csv, tmp_path):
    text = (export_model(tiny_checkpoint, tmp_path / "model") / "README.md").read_text()
    assert "## Missing information" in text and ".hydra/config.yaml" in text
    assert f"- file: `{small_reviews_csv}`" in text  # split.json still names the data file
    assert "- resampling: unknown (no run config)" in text and "| fine-tuned model alone | 0." in text


def test_card_without_its_run_folder_says_what_is_missing(tiny_checkpoint, tmp_path):
    moved = tmp_path / "elsewhere" / "checkpoints" / "model.ckpt"
    moved.parent.mkdir(parents=True)
    shutil.copy(tiny_checkpoint, moved)
    text = (export_model(moved, tmp_path / "model") / "README.md").read_text()
    assert "## Missing information" in text and "metrics.json" in text and "classification_report.json" in text
    assert "| fine-tuned model alone | n/a | n/a |" in text and "| TF-IDF + logistic regression | n/a | n/a |" in text
    assert "Per-class test scores: not available" in text and "row counts not available" in text
    assert "- loss: cross-entropy" in text  # the checkpoint's own settings are still there
    assert "model-index" not in text  # no eval results without numbers


def test_vocabulary_scripts_names_the_writing_systems():
    vocab = {**{f"w{i}": i for i in range(90)}, **{chr(0x4E00 + i): 100 + i for i in range(10)}}
    assert vocabulary_scripts(vocab) == ["Latin", "Chinese characters (CJK)"]
    assert vocabulary_scripts({"[PAD]": 0, "123": 1}) == ["Latin"]  # bracketed specials start with letters


def test_the_recipe_names_the_task_and_every_loss_setting_the_checkpoint_holds():
    from review_cls.reports.model_card import RunFacts, recipe_lines

    multilabel = {"backbone_config": {"problem_type": "multi_label_classification"}, "thresholds": [0.4, 0.2],
                  "pretrained": "tiny", "optimizer": {"lr": 1e-4},
                  "loss": {"gamma": 0.0, "alpha": [2.0, 9.0], "rdrop_alpha": 0.0, "asymmetric_loss": None}}
    lines = recipe_lines(RunFacts(multilabel))
    assert "- task: multi-label (a sigmoid per label), thresholds chosen on validation: [0.4, 0.2]" in lines
    assert "- loss: binary cross-entropy per label with alpha [2, 9]" in lines
    asymmetric = multilabel | {"loss": multilabel["loss"] | {"asymmetric_loss": {"gamma_neg": 4.0, "clip": 0.05}}}
    assert ("- loss: binary cross-entropy per label with alpha [2, 9], asymmetric_loss {gamma_neg: 4, clip: 0.05}"
            in recipe_lines(RunFacts(asymmetric)))
    # any setting a checkpoint stores is shown, a loss added later included, without the card knowing it
    single = {"pretrained": "tiny", "loss": {"gamma": 2, "alpha": None, "logit_offsets": [-0.693147, -0.693147],
                                             "label_smoothing": 0.1}}
    assert "- task: single-label (a softmax over the labels)" in recipe_lines(RunFacts(single))
    assert ("- loss: cross-entropy with gamma 2, logit_offsets [-0.6931, -0.6931], label_smoothing 0.1"
            in recipe_lines(RunFacts(single)))


def test_the_card_says_whether_the_weights_are_a_moving_average():
    from review_cls.reports.model_card import RunFacts, recipe_lines

    hparams = {"pretrained": "tiny", "optimizer": {"lr": 1e-4}}
    averaged = {"callbacks": {"ema": {"_target_": "review_cls.training.callbacks.EMAWeights", "decay": 0.99}}}
    assert "- weights: a moving average of the trained weights (decay 0.99)" in recipe_lines(
        RunFacts(hparams, config=averaged))
    assert "- weights: as trained" in recipe_lines(RunFacts(hparams, config={"callbacks": {"ema": None}}))
    assert "- weights: unknown (no run config)" in recipe_lines(RunFacts(hparams))
