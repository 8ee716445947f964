"""Re-initialise the top transformer layers of a pretrained encoder before fine-tuning (Zhang et al. 2021,
"Revisiting Few-sample BERT Fine-tuning"; Mosbach et al. 2021).

Why: the top layers are the most specific to the pretraining task (for all-MiniLM-L6-v2, sentence-embedding
similarity), and on small training sets starting them afresh can fine-tune faster and more stably than adapting them.
The pooler goes with them. Fresh weights are drawn the way BERT draws them (normal with the config's
``initializer_range``, zero biases, unit LayerNorms); transformers' own ``_init_weights`` skips weights that were
loaded from a checkpoint, so it cannot do this.
"""

from __future__ import annotations

import torch
from transformers import PreTrainedModel

from review_cls.errors import ConfigError


def reinit_top_layers(model: PreTrainedModel, count: int) -> None:
    """Draw fresh weights for the last ``count`` encoder layers and the pooler (if any) of ``model``, in place."""
    if not count:
        return  # any encoder, BERT-family or not
    layers = encoder_layers(model)
    if not 0 < count <= len(layers):
        raise ConfigError(f"model.reinit_layers={count}, but the encoder has {len(layers)} layers.")
    std = model.config.initializer_range
    pooler = getattr(model.base_model, "pooler", None)
    for block in [*layers[len(layers) - count:], *([pooler] if pooler is not None else [])]:
        for module in block.modules():
            if isinstance(module, torch.nn.Linear):
                torch.nn.init.normal_(module.weight, mean=0.0, std=std)
                if module.bias is not None:
                    torch.nn.init.zeros_(module.bias)
            elif isinstance(module, torch.nn.LayerNorm):
                torch.nn.init.ones_(module.weight)
                torch.nn.init.zeros_(module.bias)


def encoder_layers(model: PreTrainedModel) -> torch.nn.ModuleList:
    """The stack of transformer layers of a BERT-family model (``base_model.encoder.layer``)."""
    try:
        return model.base_model.encoder.layer
    except AttributeError as exc:
        raise ConfigError(f"model.reinit_layers needs a BERT-family encoder (encoder.layer); "
                          f"{type(model).__name__} has none.") from exc
