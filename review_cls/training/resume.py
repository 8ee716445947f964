"""Resume only what fits: a checkpoint whose weights or labels differ from the model being built would fail deep in
``load_state_dict`` or, worse, resume with the head's outputs standing for other classes."""

from __future__ import annotations

import lightning as L

from review_cls.errors import CheckpointError
from review_cls.inference.checkpoints import load_weights_only

NEW_RUN = "resume a checkpoint of the same command, model and labels, or start a new run without ckpt_path"


def check_resume_fits(model: L.LightningModule, ckpt_path: str, max_epochs: int) -> None:
    """Refuse ``ckpt_path`` unless it holds this model's labels (by name, in order) and exactly its weights' names
    and shapes, and leaves epochs to train before ``max_epochs``; a pickled file is refused as predict and export
    refuse it."""
    checkpoint = load_weights_only(ckpt_path)
    state = checkpoint.get("state_dict") if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict):
        raise CheckpointError(f"ckpt_path='{ckpt_path}' is not a Lightning checkpoint (no state_dict); {NEW_RUN}.")
    labels = model.hparams.get("labels")
    if labels is not None:
        saved = (checkpoint.get("hyper_parameters") or {}).get("labels")
        if saved is None or list(saved) != list(labels):
            raise CheckpointError(
                f"ckpt_path='{ckpt_path}' was trained on labels {_names(saved)}, this data has {_names(labels)}: "
                f"resuming would give the classifier's outputs to other classes; {NEW_RUN}.")
    own = model.state_dict()
    missing = [name for name in own if name not in state]
    extra = [name for name in state if name not in own]
    reshaped = [f"{name} {tuple(state[name].shape)} vs {tuple(own[name].shape)}" for name in own
                if name in state and hasattr(state[name], "shape") and tuple(state[name].shape) != tuple(own[name].shape)]
    if missing or extra or reshaped:
        parts = [f"{len(names)} {what} (e.g. {names[0]})" for names, what in
                 ((missing, "weights missing"), (extra, "unknown weights"), (reshaped, "of another shape")) if names]
        raise CheckpointError(f"ckpt_path='{ckpt_path}' does not fit this model: {', '.join(parts)}. It was written "
                              f"by another command (train vs pretrain) or other model settings; {NEW_RUN}.")
    _check_epochs_left(ckpt_path, checkpoint, max_epochs)


def _check_epochs_left(ckpt_path: str, checkpoint: dict, max_epochs: int) -> None:
    """Lightning resumes an epoch-end checkpoint at the next epoch and, with ``max_epochs`` already reached, trains
    nothing and tests the old best as if it were a new run."""
    done = int(checkpoint.get("epoch", -1)) + 1
    if done >= max_epochs:
        raise CheckpointError(
            f"ckpt_path='{ckpt_path}' has {done} epoch(s) trained and trainer.max_epochs={max_epochs} counts them: "
            f"nothing is left to train. Resume with trainer.max_epochs above {done} (the total, epochs done "
            f"included), or test that run's best checkpoint with train=false ckpt_path=<its best-*.ckpt>.")


def _names(labels) -> str:
    return "none" if labels is None else str([str(label) for label in labels][:10])
