"""review_cls.pretrain: masked-LM pretraining writes a folder that training fine-tunes from; val/test never read."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, open_dict
from safetensors.torch import load_file

from review_cls.data.datamodule import ReviewDataModule
from review_cls.data.pretraining import pretraining_texts
from review_cls.errors import ConfigError
from review_cls.jobs.pretrain import FOLDER, run_pretraining
from review_cls.jobs.train import run_training
from review_cls.models.pretrained import load_tokenizer
from tests.helpers import CONF_DIR, tiny_overrides


def compose_pretrain(tiny_bert_dir: Path, data_path: Path, out: Path, *overrides: str) -> DictConfig:
    base = [o for o in tiny_overrides(tiny_bert_dir, data_path, out) if not o.startswith("trainer.max_epochs")]
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose(config_name="pretrain", overrides=[*base, "trainer.max_epochs=1", *overrides])
    with open_dict(cfg):
        cfg.paths.output_dir = str(out)
    return cfg


@pytest.fixture(scope="module")
def unlabeled_csv(small_reviews_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small reviews with the label column dropped: what a team has before anyone labels."""
    path = tmp_path_factory.mktemp("unlabeled") / "unlabeled.csv"
    pd.read_csv(small_reviews_csv)[["review"]].to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def pretrained_run(tiny_bert_dir: Path, unlabeled_csv: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("pretrain")
    cfg = compose_pretrain(tiny_bert_dir, unlabeled_csv, out, "data.text_column=review")
    return run_pretraining(cfg), out


def test_pretraining_writes_a_hugging_face_folder_with_the_best_weights(pretrained_run, tiny_bert_dir):
    metrics, out = pretrained_run
    folder = out / FOLDER
    assert (folder / "config.json").is_file() and (folder / "tokenizer.json").is_file()
    assert torch.isfinite(torch.tensor(metrics["val/loss"]))
    weights = load_file(folder / "model.safetensors")
    best = torch.load(next((out / "checkpoints").glob("best-*.ckpt")), map_location="cpu", weights_only=True)
    name = "bert.encoder.layer.0.attention.self.query.weight"
    assert torch.equal(weights[name], best["state_dict"][f"model.{name}"])
    start = load_file(tiny_bert_dir / "model.safetensors")
    assert not torch.equal(weights[name], start["encoder.layer.0.attention.self.query.weight"])
    # the starting checkpoint's pooler is carried over: BERT's classifier reads it
    assert torch.equal(weights["bert.pooler.dense.weight"], start["pooler.dense.weight"])


def test_training_fine_tunes_from_the_pretrained_folder(pretrained_run, compose_train_cfg):
    _, out = pretrained_run
    folder = out / FOLDER
    metrics = run_training(compose_train_cfg(f"model.pretrained={folder}", "trainer.max_epochs=1"))
    assert 0.0 <= metrics["test/f1_macro"] <= 1.0
    from review_cls.models.backbone import backbone_config, build_classifier

    classifier = build_classifier(backbone_config(str(folder), 2, {0: "a", 1: "b"}, None), str(folder))
    pretrained = load_file(folder / "model.safetensors")
    assert torch.equal(classifier.bert.embeddings.word_embeddings.weight,
                       pretrained["bert.embeddings.word_embeddings.weight"])


def test_a_labeled_file_is_pretrained_on_its_training_split_only(small_reviews_csv, tiny_bert_dir, tmp_path):
    cfg = compose_pretrain(tiny_bert_dir, small_reviews_csv, tmp_path, "seed=7")
    data = ReviewDataModule.from_config(cfg.data)  # conf/pretrain.yaml: no output folder
    texts = pretraining_texts(data)
    splits, _ = data.clean_splits()
    assert sorted(texts) == sorted(splits["train"].texts)
    held_out = set(splits["val"].texts) | set(splits["test"].texts)
    assert held_out and not held_out & set(texts)


def test_a_partly_labeled_file_is_pretrained_on_all_its_texts(small_reviews_csv, tiny_bert_dir, tmp_path):
    """Pretraining needs no labels: blanks in the label column are not the error a fine-tune gives for them."""
    frame = pd.read_csv(small_reviews_csv)
    frame.loc[:5, "category"] = None
    path = tmp_path / "partly_labeled.csv"
    frame.to_csv(path, index=False)
    cfg = compose_pretrain(tiny_bert_dir, path, tmp_path / "run")
    texts = pretraining_texts(ReviewDataModule.from_config(cfg.data))
    assert sorted(texts) == sorted(frame["review"])


def test_char_vocab_pretraining_from_scratch_carries_its_vocab(tiny_bert_dir, small_reviews_csv, tmp_path,
                                                                compose_train_cfg):
    out = tmp_path / "char"
    cfg = compose_pretrain(tiny_bert_dir, small_reviews_csv, out, "data.tokenizer=char_vocab:80",
                           "model.from_scratch=true")
    run_pretraining(cfg)
    folder = out / FOLDER
    vocab = load_tokenizer(str(folder)).get_vocab()
    assert len(vocab) == 80 and "[MASK]" in vocab and "##e" in vocab
    assert load_file(folder / "model.safetensors")["bert.embeddings.word_embeddings.weight"].shape[0] == 80
    metrics = run_training(compose_train_cfg(f"model.pretrained={folder}", "trainer.max_epochs=1"))
    assert 0.0 <= metrics["test/f1_macro"] <= 1.0


def test_vocabulary_transfer_trains_only_new_embeddings(tiny_bert_dir, unlabeled_csv, tmp_path):
    out = tmp_path / "transfer"
    cfg = compose_pretrain(tiny_bert_dir, unlabeled_csv, out, "data.text_column=review", "data.tokenizer=char_vocab:80",
                           "mlm.module.new_embeddings=true", "mlm.module.train_only_embeddings=true")
    run_pretraining(cfg)
    weights = load_file(out / FOLDER / "model.safetensors")
    start = load_file(tiny_bert_dir / "model.safetensors")
    assert weights["bert.embeddings.word_embeddings.weight"].shape[0] == 80
    assert torch.equal(weights["bert.encoder.layer.1.output.dense.weight"], start["encoder.layer.1.output.dense.weight"])


def test_bad_masking_settings_fail_before_reading_data(tiny_bert_dir, tmp_path):
    cfg = compose_pretrain(tiny_bert_dir, tmp_path / "missing.csv", tmp_path / "run", "mlm.probability=1.5")
    with pytest.raises(ConfigError, match="mlm.probability"):
        run_pretraining(cfg)


def test_texts_with_nothing_to_mask_are_refused_and_leave_no_run(tiny_bert_dir, tmp_path):
    from review_cls.cli import started
    from review_cls.errors import DataError
    from tests.helpers import hydra_like_run

    emoji = tmp_path / "emoji.csv"
    pd.DataFrame({"review": [chr(0x1F600 + i) * 3 + " " + chr(0x1F300 + i) for i in range(60)]}).to_csv(emoji, index=False)
    cfg = compose_pretrain(tiny_bert_dir, emoji, tmp_path / "run", "data.text_column=review")
    run_dir = hydra_like_run(cfg)
    with pytest.raises(DataError, match="None of the 60 texts has a token the tokenizer knows"):
        started(run_pretraining, cfg, run_folder=True)  # as the pretrain command starts it
    assert not run_dir.exists() and not (tmp_path / "run" / FOLDER).exists()


def test_resuming_a_classifier_checkpoint_is_refused_and_leaves_no_run(tiny_bert_dir, unlabeled_csv,
                                                                         tiny_checkpoint, tmp_path):
    from review_cls.cli import started
    from review_cls.errors import CheckpointError
    from tests.helpers import hydra_like_run

    cfg = compose_pretrain(tiny_bert_dir, unlabeled_csv, tmp_path / "run", "data.text_column=review",
                           f"ckpt_path={tiny_checkpoint}")
    run_dir = hydra_like_run(cfg)
    with pytest.raises(CheckpointError, match="does not fit this model: .*another command"):
        started(run_pretraining, cfg, run_folder=True)
    assert not run_dir.exists()


def test_sigterm_ends_pretraining_with_the_code_and_name_training_uses(tiny_bert_dir, unlabeled_csv, tmp_path,
                                                                       monkeypatch, capsys):
    """What fit_or_interrupt reports after a SIGTERM (tests/guarantees/test_faults.py sends a real one to train)."""
    import review_cls.jobs.pretrain as pretrain
    from review_cls.errors import TERMINATED_EXIT_CODE

    def fit_then_sigterm(trainer, model, datamodule, ckpt_path):
        trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path)
        return "SIGTERM", TERMINATED_EXIT_CODE

    monkeypatch.setattr(pretrain, "fit_or_interrupt", fit_then_sigterm)
    cfg = compose_pretrain(tiny_bert_dir, unlabeled_csv, tmp_path / "run", "data.text_column=review")
    with pytest.raises(SystemExit) as stopped:
        run_pretraining(cfg)
    assert stopped.value.code == TERMINATED_EXIT_CODE
    assert "Pretraining was interrupted (SIGTERM)" in capsys.readouterr().err
    assert (tmp_path / "run" / FOLDER / "config.json").is_file()


def test_ctrl_c_during_a_best_checkpoint_save_writes_the_earlier_best(tiny_bert_dir, unlabeled_csv, tmp_path, capsys):
    """Every epoch is a new best (ranked by epoch); Ctrl+C lands while epoch 1's best file is being written."""
    from review_cls.errors import INTERRUPTED_EXIT_CODE
    from tests.guarantees.test_faults import INTERRUPT_BEST_SAVE

    cfg = compose_pretrain(tiny_bert_dir, unlabeled_csv, tmp_path / "run", "data.text_column=review",
                           *INTERRUPT_BEST_SAVE)
    with pytest.raises(SystemExit) as stopped:
        run_pretraining(cfg)
    assert stopped.value.code == INTERRUPTED_EXIT_CODE
    assert "best-epoch00.ckpt) was saved as pretrained_model/" in capsys.readouterr().err
    assert (tmp_path / "run" / FOLDER / "model.safetensors").is_file()
