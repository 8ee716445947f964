"""A checkpoint as a Hugging Face model folder that ``transformers.pipeline`` loads offline (``review_cls.export``).

The folder holds safetensors weights, ``config.json`` with ``id2label``/``label2id`` and the tokenizer, whose
``model_max_length`` is the training truncation length (``pipeline(..., truncation=True)`` cuts where training did),
and a ``README.md`` model card; ``format=onnx`` adds ``model.onnx`` for ONNX Runtime. When the checkpoint records a
blend with its TF-IDF baseline, the folder also holds that TF-IDF pipeline (``tfidf.npz``) and ``config.json`` the
blend's record (``review_cls_blend``: weight, rule, thresholds, the file's SHA-256), so review_cls ships the same
blend from the folder; ``transformers.pipeline()`` reads the model alone. Read back by predict, evaluate and ONNX
Runtime through :func:`exported_metadata` (tokenizer, labels, truncation, task, thresholds) and
:func:`exported_blend_record`.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from transformers import PreTrainedTokenizerBase

from review_cls.errors import CheckpointError, ConfigError
from review_cls.inference.checkpoints import check_labels
from review_cls.models.blend import CHECKPOINT_KEY, BlendRecord
from review_cls.models.pooling import pooling_of
from review_cls.models.task import MULTI_LABEL, SINGLE_LABEL, Task
from review_cls.models.tfidf_store import TFIDF_FILE, file_sha256
from review_cls.utils.run_folder import RunFolder

log = logging.getLogger(__name__)
# what save_pretrained writes for a BERT-family classifier and its tokenizer: overwrite=true replaces a folder
# holding nothing else (an earlier export), never one with the user's own files
EXPORT_FILES = ("config.json", "model.safetensors", "model.safetensors.index.json", "generation_config.json",
                "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
                "vocab.txt", "vocab.json", "merges.txt", "sentencepiece.bpe.model", "spiece.model",
                "chat_template.jinja", "README.md", "model.onnx", TFIDF_FILE)
# the exported config.json's per-label thresholds of a multi-label model (label -> threshold)
THRESHOLDS_KEY = "label_thresholds"
PROBLEM_TYPES = {task.problem_type: task for task in (SINGLE_LABEL, MULTI_LABEL)}
# the exported config.json's record of the blend review_cls ships (models/blend.py BlendRecord; its file: tfidf.npz)
BLEND_KEY = "review_cls_blend"
# the files a tokenizer's vocabulary lives in; without one transformers builds a tokenizer of special tokens only
VOCAB_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "sentencepiece.bpe.model", "spiece.model")


def checked_out_folder(ckpt_path: str | Path, out: str | Path, overwrite: bool) -> Path:
    """The absolute ``out`` folder, refused when writing it could delete the checkpoint, the working directory or
    anything export did not write."""
    target = Path(out).expanduser().resolve()
    checkpoint = Path(ckpt_path).expanduser().resolve()
    if target.exists() and not target.is_dir():
        raise ConfigError(f"out='{out}' is a file; pick a folder name.")
    if target == checkpoint or target in checkpoint.parents:
        raise ConfigError(f"out='{out}' holds the checkpoint being exported ({ckpt_path}); export into a new folder, "
                          "e.g. out=models/reviews.")
    here = Path.cwd().resolve()
    if target == here or target in here.parents:
        raise ConfigError(f"out='{out}' is the folder you run from (or one above it); export into a new folder, "
                          "e.g. out=models/reviews.")
    entries = sorted(target.iterdir()) if target.is_dir() else []
    if entries and not overwrite:
        raise ConfigError(f"out='{out}' exists and is not empty; pick a new folder or pass overwrite=true.")
    foreign = [entry.name for entry in entries if entry.name not in EXPORT_FILES or entry.is_dir()]
    if foreign:
        raise ConfigError(f"out='{out}' holds files export did not write ({', '.join(foreign[:5])}); overwrite=true "
                          "only replaces an earlier export. Pick a new folder or move those files.")
    return target


FORMATS = ("hf", "onnx")


def export_model(ckpt_path: str | Path, out: str | Path, overwrite: bool = False, export_format: str = "hf",
                 quantize: str | None = None, language: str | None = None, blend: bool = True) -> Path:
    """Write the folder atomically (temp folder + rename); a non-empty ``out`` only with ``overwrite``, and only
    when it holds nothing but an earlier export.

    Every export holds a ``README.md`` model card; ``format=onnx`` adds ``model.onnx`` (``quantize=int8``: int8
    weights) for ``python -m review_cls.predict runtime=onnx``; with ``blend`` (the default) a checkpoint's recorded
    blend with TF-IDF travels along (``tfidf.npz`` and its record in ``config.json``).
    """
    from review_cls.inference.blended_predictor import KEEP_RUN_FOLDER, check_blend_fits, recorded_tfidf
    from review_cls.inference.checkpoints import classifier_of, read_checkpoint
    from review_cls.inference.onnx_runtime import check_quantize
    from review_cls.reports.model_card import build_model_card, read_run_facts

    if export_format not in FORMATS:
        raise ConfigError(f"format={export_format} is not an export format; use format=hf or format=onnx.")
    if quantize is not None and export_format != "onnx":
        raise ConfigError(f"quantize={quantize} applies to ONNX exports only; add format=onnx.")
    check_quantize(quantize)
    target = checked_out_folder(ckpt_path, out, overwrite)
    checkpoint = read_checkpoint(ckpt_path)
    model, tokenizer = classifier_of(checkpoint, ckpt_path)
    classifier = model.model
    id2label = {int(i): str(label) for i, label in classifier.config.id2label.items()}
    if [id2label.get(i) for i in range(len(model.labels))] != list(model.labels):
        raise CheckpointError(f"Checkpoint '{ckpt_path}' has labels {model.labels} but its model config says "
                              f"{id2label}; it cannot be exported consistently.")
    tokenizer.model_max_length = int(model.hparams.max_length)
    if model.thresholds is not None:  # multi-label: what predict and evaluate decide each label by
        setattr(classifier.config, THRESHOLDS_KEY, {label: round(float(value), 4)
                                                    for label, value in zip(model.labels, model.thresholds.tolist())})
    shipped: tuple[BlendRecord, Path] | None = None
    if blend and checkpoint.get(CHECKPOINT_KEY) is not None:
        run = RunFolder.of_checkpoint(ckpt_path)
        record, tfidf = recorded_tfidf(checkpoint[CHECKPOINT_KEY], run.folder, Path(ckpt_path), KEEP_RUN_FOLDER)
        check_blend_fits(model, tfidf, record.blend)
        shipped = record, run / record.tfidf_file
    facts = read_run_facts(ckpt_path, checkpoint)
    if pooling_of(classifier.config) != "cls":
        log.warning("This model reads the mean of every position (model.pooling=mean): review_cls.predict, evaluate "
                    "and format=onnx use it, plain transformers' pipeline() would read [CLS] and score differently.")
    if facts.missing:
        log.warning("The model card marks numbers as n/a: not found next to the checkpoint: %s",
                    ", ".join(facts.missing))
    try:
        _write_export(target, classifier, tokenizer, export_format, quantize, shipped,
                      build_model_card(facts, list(model.labels), tokenizer.get_vocab(), language,
                                       export_format == "onnx", shipped[0] if shipped else None))
    except PermissionError as exc:
        raise ConfigError(f"out='{out}' cannot be written ({exc.strerror}: {exc.filename}); export into a folder "
                          "you may write to.") from exc
    log.info("Exported %s (%d labels%s) -> %s", ckpt_path, len(model.labels),
             ", with its blend with TF-IDF" if shipped else "", target)
    return target


def _write_export(target: Path, classifier, tokenizer, export_format: str, quantize: str | None,
                  blend: tuple[BlendRecord, Path] | None, card) -> None:
    """The model, tokenizer, optional ONNX file, the blend's TF-IDF file (``blend``: its record and the file) and the
    model card as one folder, swapped in atomically; ``config.json`` records the blend with the copied file's
    SHA-256."""
    from review_cls.inference.onnx_runtime import export_onnx
    from review_cls.inference.predictor import LogitsOnly
    from review_cls.utils.atomic import atomic_dir

    with atomic_dir(target) as folder:
        if blend is not None:
            record, tfidf = blend
            shutil.copyfile(tfidf, folder / TFIDF_FILE)
            copied = replace(record, tfidf_file=TFIDF_FILE, tfidf_sha256=file_sha256(folder / TFIDF_FILE))
            setattr(classifier.config, BLEND_KEY, copied.to_dict())
        classifier.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        if export_format == "onnx":
            export_onnx(LogitsOnly(classifier), tokenizer, folder, quantize)
        card.save(folder / "README.md")
        # safetensors writes its file owner-only; a model folder is meant to be shared or served like config.json
        mode = (folder / "config.json").stat().st_mode
        for path in folder.iterdir():
            path.chmod(mode)


def exported_blend_record(folder: Path) -> Any | None:
    """The blend record in an export folder's ``config.json`` (``None`` for a folder exported without one)."""
    try:
        return json.loads((folder / "config.json").read_text(encoding="utf-8")).get(BLEND_KEY)
    except (OSError, ValueError, AttributeError) as exc:
        raise CheckpointError(f"Cannot read '{folder / 'config.json'}' as an export's config: {exc}") from exc


def check_tokenizer_files(folder: Path, tokenizer: PreTrainedTokenizerBase) -> None:
    """Refuse a folder whose tokenizer knows no words: every review would become [UNK] and the predictions garbage
    that looks like a success."""
    words = len(tokenizer) - len(set(tokenizer.all_special_tokens))
    if not any((folder / name).is_file() for name in VOCAB_FILES) or words <= 0:
        raise CheckpointError(
            f"'{folder}' holds no usable tokenizer (none of {', '.join(VOCAB_FILES)}, or a vocabulary of special "
            "tokens only): every word would be read as [UNK]. Copy the whole export folder, or export the "
            "checkpoint again with `python -m review_cls.export`.")


def exported_metadata(folder: Path) -> tuple[PreTrainedTokenizerBase, list[str], int, Task, np.ndarray | None]:
    """An export folder's tokenizer, label names by id, truncation length, task and (multi-label) per-label
    thresholds, without loading its weights."""
    from transformers import AutoConfig, AutoTokenizer

    if not (folder / "config.json").is_file():
        raise CheckpointError(
            f"'{folder}' is a folder but not an exported model (no config.json). "
            "Pass a .ckpt from review_cls.train or a folder written by `python -m review_cls.export`."
        )
    try:
        config = AutoConfig.from_pretrained(folder, trust_remote_code=False)
        tokenizer = AutoTokenizer.from_pretrained(folder, use_fast=True, trust_remote_code=False)
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"Cannot load the exported model in '{folder}': {exc}") from exc
    check_tokenizer_files(folder, tokenizer)
    labels = [str(config.id2label[i]) for i in sorted(config.id2label)]
    check_labels(labels, config.num_labels, folder / "config.json")
    limit = getattr(config, "max_position_embeddings", None) or tokenizer.model_max_length
    task, thresholds = exported_task(config, labels, folder / "config.json")
    return tokenizer, labels, int(min(tokenizer.model_max_length, limit)), task, thresholds


def exported_task(config: Any, labels: Sequence[str], source: Path) -> tuple[Task, np.ndarray | None]:
    """The task and (multi-label) per-label thresholds an export's ``config.json`` states, checked: a config edited
    by hand that no longer says how to decide each label is refused naming the file, never read as 0.5 or softmax.
    A config with neither ``problem_type`` nor thresholds is single-label (exports written before multi-label
    models)."""
    problem_type = getattr(config, "problem_type", None)
    stored = getattr(config, THRESHOLDS_KEY, None)
    again = "Restore the file as export wrote it, or export the checkpoint again with `python -m review_cls.export`."
    if problem_type is None and stored is None:
        return SINGLE_LABEL, None
    if problem_type not in PROBLEM_TYPES:
        found = "no problem_type" if problem_type is None else f"problem_type={problem_type!r}"
        raise CheckpointError(f"'{source}' has {found}, but per-label thresholds ({THRESHOLDS_KEY}): a multi-label "
                              f"model's config says problem_type: {MULTI_LABEL.problem_type}. {again}"
                              if stored is not None else
                              f"'{source}' has {found}; an export says {' or '.join(PROBLEM_TYPES)}. {again}")
    task = PROBLEM_TYPES[problem_type]
    if not task.multilabel:
        if stored is not None:
            raise CheckpointError(f"'{source}' says problem_type: {problem_type} but holds per-label thresholds "
                                  f"({THRESHOLDS_KEY}), which only a multi-label model has. {again}")
        return task, None
    return task, checked_thresholds(stored, labels, source, again)


def checked_thresholds(stored: Any, labels: Sequence[str], source: Path, again: str) -> np.ndarray:
    """One threshold in [0, 1] per label, in label order, from the config's label -> threshold mapping."""
    if not isinstance(stored, dict):
        raise CheckpointError(f"'{source}' is a multi-label model's config without its per-label thresholds "
                              f"({THRESHOLDS_KEY}: {stored!r}): each label would be decided at 0.5 instead of the "
                              f"threshold chosen on validation. {again}")
    missing = [label for label in labels if label not in stored]
    if missing:
        raise CheckpointError(f"'{source}' has no threshold for label(s) {', '.join(map(repr, missing))} in "
                              f"{THRESHOLDS_KEY}: they would be decided at 0.5 instead of the threshold chosen on "
                              f"validation. {again}")
    values = [stored[label] for label in labels]
    bad = [(label, value) for label, value in zip(labels, values)
           if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1]
    if bad:
        raise CheckpointError(f"'{source}' holds threshold(s) that are not numbers in [0, 1] in {THRESHOLDS_KEY}: "
                              + ", ".join(f"{label!r}: {value!r}" for label, value in bad) + f". {again}")
    return np.asarray(values, dtype=np.float32)
