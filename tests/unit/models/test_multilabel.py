"""The multi-label model pieces: per-label thresholds, pos_weight from label frequency, the task's predictions, the
module's loss and metrics, and single-label levers refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from review_cls.errors import ConfigError
from review_cls.models.losses import AsymmetricLoss, asymmetric_settings, positive_weights
from review_cls.models.task import MULTI_LABEL, SINGLE_LABEL
from review_cls.models.threshold_choice import TunedOnValidation, choose_thresholds, per_label_f1
from tests.helpers import review_classifier


def test_each_label_gets_the_threshold_with_its_best_f1():
    rng = np.random.default_rng(0)
    targets = np.zeros((200, 3), dtype=np.float32)
    targets[:40, 0] = targets[:10, 1] = 1
    probabilities = rng.uniform(0.0, 0.2, size=(200, 3))
    probabilities[:40, 0] += 0.6  # label 0: positives around 0.7, negatives below 0.2
    probabilities[:10, 1] += 0.2  # label 1: a rare label whose positives never reach 0.5
    chosen = choose_thresholds(probabilities, targets)
    assert 0.2 <= chosen[0] <= 0.6 and chosen[1] < 0.5
    assert chosen[2] == 0.5  # no positive in validation: nothing to choose by
    at_chosen = np.diag(per_label_f1(probabilities, targets, chosen))
    at_half = per_label_f1(probabilities, targets, [0.5])[0]
    assert at_chosen[1] == pytest.approx(1.0) and at_half[1] == 0.0
    assert np.all(at_chosen >= at_half)


def test_ties_go_to_the_threshold_nearest_a_half():
    probabilities = np.array([[0.9], [0.05]])
    assert choose_thresholds(probabilities, np.array([[1.0], [0.0]]))[0] == 0.5


def test_auto_pos_weight_is_negatives_over_positives():
    targets = np.array([[1, 0], [1, 0], [1, 1], [0, 0]], dtype=np.float32)
    labels = ["bug", "pricing"]
    assert positive_weights("auto", targets, labels) == pytest.approx([1 / 3, 3.0])
    effective = positive_weights("effective:0.5", targets, labels)
    assert effective[1] > effective[0]
    assert positive_weights([2.0, 1.0], targets, labels) == [2.0, 1.0]
    with pytest.raises(ConfigError, match="2 classes"):
        positive_weights([1.0], targets, labels)
    with pytest.raises(ConfigError, match=r"\['pricing'\] have none"):
        positive_weights("auto", targets[:2], labels)


def test_task_predictions_softmax_argmax_or_thresholded_sigmoids():
    logits = torch.tensor([[2.0, 0.0, -1.0]])
    assert SINGLE_LABEL.predictions(logits, 0.5).tolist() == [0]
    assert MULTI_LABEL.predictions(logits, torch.tensor([0.9, 0.5, 0.2])).tolist() == [[0, 1, 1]]
    assert torch.allclose(MULTI_LABEL.probabilities(logits), logits.sigmoid())


def test_multilabel_module_trains_with_bce_and_logs_multilabel_metrics(tiny_bert_dir):
    targets = [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 1.0, 0.0]]
    model = review_classifier(["bug", "delivery", "pricing"], targets, 32, str(tiny_bert_dir), alpha="auto",
                              multilabel=True)
    assert isinstance(model.loss_fn, torch.nn.BCEWithLogitsLoss)
    assert model.loss_fn.pos_weight.tolist() == pytest.approx([0.5, 0.5, 2.0])
    assert model.model.config.problem_type == "multi_label_classification"
    assert model.thresholds.tolist() == [0.5, 0.5, 0.5]
    assert {"val/f1_macro", "val/f1_micro", "val/hamming", "val/subset_acc"} <= set(model.metrics["val_"].keys())
    assert "test/f1_macro_at_0.5" in set(model.at_default["test_"].keys())
    assert "val/f1_macro_at_0.5" in set(model.at_default["val_"].keys())
    model.eval()  # one dropout-free forward for the loss and one for the check
    batch = {"input_ids": torch.tensor([[2, 40, 3], [2, 41, 3]]), "attention_mask": torch.ones(2, 3, dtype=torch.long),
             "labels": torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])}
    loss = model._shared_step(batch, "val")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert model._shared_step(batch, "val").dtype == torch.float32
    logits = model(batch["input_ids"], batch["attention_mask"])
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits, batch["labels"],
                                                                    pos_weight=model.loss_fn.pos_weight)
    assert torch.allclose(loss, expected, atol=1e-5)


@pytest.mark.parametrize("lever", [{"gamma": 2.0}, {"logit_adjustment": 1.0}, {"rdrop_alpha": 0.5}])
def test_single_label_levers_are_refused(tiny_bert_dir, lever):
    with pytest.raises(ConfigError, match="multi-label"):
        review_classifier(["a", "b"], [[1.0, 0.0], [0.0, 1.0]], 32, str(tiny_bert_dir), multilabel=True, **lever)


def test_validation_is_scored_at_the_thresholds_its_epoch_would_choose():
    """Two batches gathered, then predictions at choose_thresholds of all of them; the next epoch starts empty."""
    rng = np.random.default_rng(1)
    probabilities = torch.as_tensor(rng.uniform(0.0, 0.45, size=(40, 2)), dtype=torch.float32)
    targets = torch.zeros(40, 2)
    targets[:10, 0] = 1
    probabilities[:10, 0] += 0.3  # positives at 0.3-0.75: 0.5 misses many, a lower threshold finds them
    tuned = TunedOnValidation()
    tuned.update(probabilities[:25], targets[:25])
    tuned.update(probabilities[25:], targets[25:])
    predictions, gathered = tuned.predictions()
    chosen = choose_thresholds(probabilities.numpy(), targets.numpy())
    assert torch.equal(predictions, (probabilities >= torch.as_tensor(chosen)).int())
    assert torch.equal(gathered, targets.int()) and chosen[0] < 0.5
    tuned.update(probabilities[:3], targets[:3])
    assert tuned.predictions()[0].shape == (3, 2)


def test_asymmetric_loss_with_zero_settings_is_bce_with_pos_weight():
    logits = torch.tensor([[2.0, -1.0, 0.3], [-3.0, 0.5, 1.5]])
    targets = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    pos_weight = torch.tensor([0.5, 2.0, 1.0])
    loss = AsymmetricLoss(gamma_neg=0, gamma_pos=0, clip=0, pos_weight=pos_weight)(logits, targets)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets, pos_weight=pos_weight)
    assert torch.allclose(loss, expected, atol=1e-6)


def test_asymmetric_loss_drops_negatives_below_clip_and_focuses_on_hard_ones():
    """A negative at p=0.03 (below clip 0.05) costs nothing and gets no gradient; with gamma_neg an easy negative
    loses a larger share of its BCE than a hard one; positives keep their BCE at gamma_pos 0."""
    asymmetric = AsymmetricLoss(gamma_neg=4, gamma_pos=0, clip=0.05)
    easy_below_clip = torch.logit(torch.tensor([[0.03]])).requires_grad_()
    loss = asymmetric(easy_below_clip, torch.tensor([[0.0]]))
    loss.backward()
    assert loss.item() == 0.0 and easy_below_clip.grad.item() == 0.0
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    easy, hard = torch.logit(torch.tensor([[0.2]])), torch.logit(torch.tensor([[0.9]]))
    negative = torch.tensor([[0.0]])
    kept_easy = asymmetric(easy, negative) / bce(easy, negative)
    kept_hard = asymmetric(hard, negative) / bce(hard, negative)
    assert kept_easy < 0.01 < kept_hard < 1
    positive = torch.tensor([[1.0]])
    assert torch.allclose(asymmetric(easy, positive), bce(easy, positive))


def test_multilabel_model_trains_with_the_asymmetric_loss_and_keeps_it_in_plain_hyperparameters(tiny_bert_dir):
    settings = {"gamma_neg": 4, "gamma_pos": 1, "clip": 0.05}
    model = review_classifier(["a", "b"], [[1.0, 0.0], [0.0, 1.0]], 32, str(tiny_bert_dir), multilabel=True,
                              asymmetric_loss=settings, alpha="auto")
    assert isinstance(model.loss_fn, AsymmetricLoss) and model.loss_fn.pos_weight is not None
    assert (model.loss_fn.gamma_neg, model.loss_fn.gamma_pos, model.loss_fn.clip) == (4.0, 1.0, 0.05)
    assert model.hparams.loss["asymmetric_loss"] == {"gamma_neg": 4.0, "gamma_pos": 1.0, "clip": 0.05}
    assert type(model.hparams.loss["asymmetric_loss"]) is dict


@pytest.mark.parametrize("setting, message", [
    ({"gamma_neg": 4, "clip": 0.05}, "those three keys"),
    ({"gamma_neg": -1, "gamma_pos": 0, "clip": 0.05}, "gamma_neg must be a number >= 0"),
    ({"gamma_neg": 4, "gamma_pos": 0, "clip": 1.0}, "clip must be a number >= 0 and < 1"),
    ("yes", "must be null or"),
])
def test_asymmetric_loss_settings_are_checked(setting, message):
    with pytest.raises(ConfigError, match=message):
        asymmetric_settings(setting)


def test_asymmetric_loss_on_single_label_data_is_refused(tiny_bert_dir):
    with pytest.raises(ConfigError, match="model.asymmetric_loss is a multi-label loss"):
        review_classifier(["a", "b"], [0, 1], 32, str(tiny_bert_dir),
                          asymmetric_loss={"gamma_neg": 4, "gamma_pos": 0, "clip": 0.05})


def test_rare_labels_without_weights_are_warned_about_and_weighted_ones_are_not(tiny_bert_dir, caplog):
    targets = [[1.0, 0.0]] * 14 + [[0.0, 0.0]] * 5 + [[1.0, 1.0]]  # 'rare' on 1 of 20 training reviews
    review_classifier(["common", "rare"], targets, 32, str(tiny_bert_dir), multilabel=True, alpha=None)
    assert "share {'rare': 0.05}" in caplog.text and "model.alpha=auto" in caplog.text
    for weighted in ("auto", "adaptive"):  # the default (adaptive) weighs every label
        caplog.clear()
        module = review_classifier(["common", "rare"], targets, 32, str(tiny_bert_dir), multilabel=True, alpha=weighted)
        assert "plain BCE" not in caplog.text
        assert module.loss_fn.pos_weight.tolist() == pytest.approx([5 / 15, 19.0])
