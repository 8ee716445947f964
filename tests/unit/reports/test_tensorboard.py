"""TensorBoard reports: the HPARAMS settings and final numbers chosen, and the images and table written to events."""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np
import pytest
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from matplotlib.image import imread
from omegaconf import OmegaConf
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2

from review_cls.reports.figures import new_figure, save_png
from review_cls.reports.tensorboard import (
    HPARAM_KEYS,
    hparam_metrics,
    log_to_tensorboard,
    run_hparams,
    tensorboard_loggers,
)


def hparams_messages(events: EventAccumulator) -> dict:
    """The HPARAMS plugin's messages in the events, by the last part of their tag (``experiment``, ...)."""
    messages = {}
    for tag, content in events.PluginTagToContent("hparams").items():
        data = plugin_data_pb2.HParamsPluginData.FromString(content)
        messages[tag.rsplit("/", 1)[-1]] = getattr(data, data.WhichOneof("data"))
    return messages


def test_run_hparams_has_every_key_with_unset_ones_as_null_and_lists_as_text():
    cfg = OmegaConf.create({"model": {"lr": 2e-5, "dropout": None, "pretrained": "bert-tiny"},
                            "data": {"batch_size": 16, "resampling": {"strategy": ["over", "under"]}},
                            "seed": 7})
    hparams = run_hparams(cfg)
    assert set(hparams) == set(HPARAM_KEYS)
    assert hparams["model.lr"] == 2e-5 and hparams["data.batch_size"] == 16 and hparams["seed"] == 7
    assert hparams["model.pretrained"] == "bert-tiny"
    assert hparams["model.dropout"] == "null" and hparams["experiment_name"] == "null"
    assert hparams["data.resampling.strategy"] == "['over', 'under']"


def test_hparam_metrics_picks_the_final_test_numbers_and_best_validation_f1_under_hparams_tags():
    metrics = {"test/f1_macro": 0.7, "test/acc": 0.8, "test/loss": 0.5, "val/f1_macro": 0.6}
    assert hparam_metrics(metrics, best_val_f1=0.65) == {
        "hparams/best_val_f1_macro": 0.65, "hparams/test_f1_macro": 0.7, "hparams/test_acc": 0.8}
    assert hparam_metrics({}, best_val_f1=None) == {}
    blended = metrics | {"blend/test_f1_macro": 0.75, "blend/weight": 0.45, "blend/val_f1_macro": 0.7}
    assert hparam_metrics(blended, best_val_f1=None) == {
        "hparams/test_f1_macro": 0.7, "hparams/test_acc": 0.8, "hparams/blend_test_f1_macro": 0.75,
        "hparams/blend_weight": 0.45}


def test_tensorboard_loggers_keeps_only_tensorboard_ones(tmp_path):
    board = TensorBoardLogger(tmp_path, name="tb")
    trainer = SimpleNamespace(loggers=[CSVLogger(tmp_path, name="csv"), board])
    assert tensorboard_loggers(trainer) == [board]


def test_report_images_and_the_hparams_table_end_up_in_the_event_files(tmp_path):
    figure = new_figure(3, 2)
    figure.add_subplot().plot([0, 1], [0, 1])
    image = save_png(figure, tmp_path / "curves.png")
    logger = TensorBoardLogger(tmp_path / "tb", name="run", version=0, default_hp_metric=False)
    log_to_tensorboard(logger, {"reports/training_curves": image}, step=4,
                       hparams={"model.lr": 0.001, "seed": 1}, metrics={"hparams/test_f1_macro": 0.7})
    events = EventAccumulator(logger.log_dir, size_guidance={"images": 0, "scalars": 0, "tensors": 0}).Reload()
    tags = events.Tags()
    assert "reports/training_curves" in tags["images"]
    height, width = imread(image).shape[:2]
    logged = events.Images("reports/training_curves")[-1]
    assert (logged.width, logged.height, logged.step) == (width, height, 4)
    assert events.Scalars("hparams/test_f1_macro")[-1].value == pytest.approx(0.7)
    messages = hparams_messages(events)
    start = next(message for message in messages.values() if hasattr(message, "hparams"))
    assert {name: value.ListFields()[0][1] for name, value in start.hparams.items()} == {"model.lr": 0.001,
                                                                                          "seed": 1}
    assert [info.name.tag for info in messages["experiment"].metric_infos] == ["hparams/test_f1_macro"]


def test_the_logged_image_has_exactly_the_pixels_of_the_png_on_disk(tmp_path):
    figure = new_figure(2, 2)
    figure.add_subplot().imshow(np.arange(12).reshape(3, 4), cmap="viridis")
    image = save_png(figure, tmp_path / "matrix.png")
    logger = TensorBoardLogger(tmp_path / "tb", name="run", version=0, default_hp_metric=False)
    log_to_tensorboard(logger, {"reports/confusion_matrix": image}, step=0, hparams={}, metrics={})
    events = EventAccumulator(logger.log_dir, size_guidance={"images": 0}).Reload()
    logged = events.Images("reports/confusion_matrix")[-1].encoded_image_string
    pixels = np.asarray(Image.open(io.BytesIO(logged)).convert("RGB"))
    expected = np.asarray(Image.open(image).convert("RGB"))
    np.testing.assert_array_equal(pixels, expected)
