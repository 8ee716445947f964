"""Find and open checkpoints safely: ``weights_only=True`` and errors that say what is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from transformers import PreTrainedTokenizerBase

from review_cls.errors import CheckpointError, ConfigError
from review_cls.utils.run_folder import HYDRA_CONFIG, RunFolder

LAST = "last"
REQUIRED_HPARAMS = ("backbone_config", "labels")


def resolve_ckpt_path(ckpt_path: str | None, log_dir: Path, task_name: str | None = None) -> str | None:
    """``last`` -> the newest ``last.ckpt`` under ``log_dir`` (of a ``task_name`` run when given: pretraining never
    resumes a fine-tuning run, nor the reverse); a path must exist; ``None`` stays ``None``."""
    if ckpt_path is None:
        return None
    if str(ckpt_path) == LAST:
        candidates = sorted((path for path in log_dir.glob("**/checkpoints/last.ckpt")
                             if task_name is None or run_task(path.parent.parent) in (task_name, None)),
                            key=lambda path: path.stat().st_mtime)
        if not candidates:
            of = f" of a {task_name} run" if task_name else ""
            raise CheckpointError(f"ckpt_path=last: no checkpoints/last.ckpt{of} anywhere under '{log_dir}'.")
        return str(candidates[-1])
    if not Path(ckpt_path).is_file():
        raise CheckpointError(f"Checkpoint '{ckpt_path}' does not exist.")
    return str(ckpt_path)


def run_task(run_dir: Path) -> str | None:
    """The ``task_name`` (train, pretrain) in a run folder's ``.hydra/config.yaml``; ``None`` when it has none."""
    config = RunFolder(run_dir).read(HYDRA_CONFIG)
    return config.get("task_name") if isinstance(config, dict) else None


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """``torch.load(weights_only=True)`` with corrupt, truncated and foreign checkpoints reported as such."""
    checkpoint = load_weights_only(path)
    hparams = checkpoint.get("hyper_parameters") if isinstance(checkpoint, dict) else None
    if (
        not isinstance(hparams, dict)
        or not isinstance(checkpoint.get("state_dict"), dict)
        or any(key not in hparams for key in REQUIRED_HPARAMS)
    ):
        raise CheckpointError(
            f"'{path}' is not a review_cls checkpoint (it lacks the classifier's labels and backbone config). "
            "Use a .ckpt written by `python -m review_cls.train`."
        )
    config = hparams["backbone_config"]
    check_labels(hparams["labels"], len(config.get("id2label") or {}) if isinstance(config, dict) else 0, path)
    return checkpoint


def load_weights_only(path: str | Path) -> Any:
    """The file's content through ``torch.load(weights_only=True)``: a pickle that could run code is refused."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"Checkpoint '{path}' does not exist.")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch.load raises a dozen different types on corrupt bytes
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        if "Weights only load failed" in reason:  # torch's own text goes on to suggest weights_only=False: never
            reason = "torch.load(weights_only=True) refused its content"
        raise CheckpointError(
            f"Checkpoint '{path}' cannot be read: it is corrupt or truncated (e.g. a copy cut short), not a PyTorch "
            "checkpoint, or holds pickled Python objects, which a weights-only load refuses because they could run "
            f"code. Use a complete .ckpt written by `python -m review_cls.train`. ({reason})"
        ) from exc
    return checkpoint


def check_labels(labels: Any, outputs: int, source: str | Path) -> None:
    """One distinct label name per classifier output: otherwise predictions would be misnamed or overwrite a
    ``prob_<label>`` column."""
    names = [str(label) for label in labels] if isinstance(labels, (list, tuple)) else []
    if len(names) != outputs:
        raise CheckpointError(f"'{source}': its labels and classifier disagree: {len(names)} label(s) {names[:10]} "
                              f"for {outputs} classifier output(s). The file was edited or damaged; use the "
                              "checkpoint as training wrote it.")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise CheckpointError(f"'{source}' names several classifier outputs {repeated}: each label must be distinct.")


def load_classifier(path: str | Path):
    """The trained classifier (eval mode, CPU) and its own tokenizer, from a review_cls checkpoint."""
    return classifier_of(read_checkpoint(path), path)


def classifier_of(checkpoint: dict[str, Any], path: str | Path):
    """The classifier (eval mode, CPU) and tokenizer a checkpoint read by :func:`read_checkpoint` holds; ``path``
    names it in errors."""
    from review_cls.data.tokenizers import tokenizer_from_files
    from review_cls.models.module import ReviewClassifier, upgraded_hyperparameters

    try:
        model = ReviewClassifier(**upgraded_hyperparameters(checkpoint["hyper_parameters"]))
        model.load_state_dict(checkpoint["state_dict"])
    except (RuntimeError, TypeError, ValueError, KeyError, ConfigError) as exc:
        raise CheckpointError(
            f"Checkpoint '{path}' does not rebuild into a review_cls classifier (its weights or settings do not fit "
            f"its own model config; made by another model or version?): {exc}"
        ) from exc
    files = checkpoint.get("tokenizer_files")
    if not isinstance(files, dict) or not files:
        raise CheckpointError(f"Checkpoint '{path}' carries no tokenizer; it was not written by review_cls.train.")
    try:
        tokenizer: PreTrainedTokenizerBase = tokenizer_from_files(files)
    except (OSError, ValueError, TypeError) as exc:
        raise CheckpointError(f"The tokenizer stored in checkpoint '{path}' cannot be rebuilt: {exc}") from exc
    model.tokenizer_files = files
    return model.eval(), tokenizer
