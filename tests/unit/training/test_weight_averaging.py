"""The moving average of the weights (on by default, ``callbacks.ema``): the best checkpoint holds the average and
loads with weights_only=True; the run's own test, predict and export all read it; training's raw weights travel
beside it for resuming. ``callbacks.ema=null`` and the Chinese experiments train and ship the raw weights."""

import numpy as np
import pandas as pd
import pytest
import torch

from review_cls.inference.predictor import load_predictor
from review_cls.jobs.train import run_training
from review_cls.training.builders import instantiate_callbacks
from review_cls.training.callbacks import EMAWeights


def test_the_runs_test_and_predict_read_the_averaged_weights_of_the_best_checkpoint(compose_train_cfg, tmp_path):
    run_training(compose_train_cfg("trainer.max_epochs=2", "calibration.temperature=false"))
    best = next((tmp_path / "run" / "checkpoints").glob("best*.ckpt"))
    checkpoint = torch.load(best, map_location="cpu", weights_only=True)
    averaged, trained = checkpoint["state_dict"], checkpoint["current_model_state"]
    weights = [name for name in averaged if name.endswith(".weight")]
    assert any(not torch.equal(averaged[name], trained[name]) for name in weights)

    predictor = load_predictor(best, device="cpu", blend=False)  # the model itself, not its blend with TF-IDF
    assert all(torch.equal(predictor.model.state_dict()[name], averaged[name]) for name in weights)
    tested = pd.read_csv(tmp_path / "run" / "test_predictions.csv")
    probabilities = [f"prob_{label}" for label in predictor.labels]
    texts = tested["text"].astype(str).tolist()
    np.testing.assert_allclose(predictor.predict_probabilities(texts, 16), tested[probabilities], atol=1e-5)
    predictor.model.load_state_dict(trained)  # the raw weights score the test reviews differently
    assert not np.allclose(predictor.predict_probabilities(texts, 16), tested[probabilities], atol=1e-5)


def test_a_resumed_run_goes_on_from_the_raw_weights_and_keeps_averaging(compose_train_cfg, tmp_path):
    run_training(compose_train_cfg("trainer.max_epochs=1"))
    one_epoch = tmp_path / "one_epoch.ckpt"
    (tmp_path / "run" / "checkpoints" / "last.ckpt").rename(one_epoch)
    before = torch.load(one_epoch, map_location="cpu", weights_only=True)
    run_training(compose_train_cfg("trainer.max_epochs=2", f"ckpt_path={one_epoch}"))
    after = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    steps = before["global_step"]
    assert after["global_step"] == 2 * steps
    # the average counts the first epoch's updates too: it was restored, not started again from the raw weights
    assert after["averaging_state"]["n_averaged"] == before["averaging_state"]["n_averaged"] + steps


def test_without_the_average_the_checkpoint_holds_the_trained_weights_alone(compose_train_cfg, tmp_path):
    run_training(compose_train_cfg("callbacks.ema=null", "trainer.max_epochs=1"))
    checkpoint = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert "current_model_state" not in checkpoint and "averaging_state" not in checkpoint


@pytest.mark.parametrize(("overrides", "averaged"), [((), True), (("+experiment=chinese",), False),
                                                     (("+experiment=char_bert",), False)])
def test_english_runs_average_and_the_chinese_experiments_do_not(compose_train_cfg, overrides, averaged):
    callbacks = instantiate_callbacks(compose_train_cfg(*overrides).callbacks)
    assert any(isinstance(callback, EMAWeights) for callback in callbacks) is averaged
