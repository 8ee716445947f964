"""What multilingual-e5-small's 250k-piece vocabulary costs a CPU training step and a checkpoint: the word embeddings
frozen, trained, or pruned to the pieces the training reviews use (``model.prune_vocab``) and trained.

The three variants run in one process, alternating, on the same batches of real Chinese reviews (batch 32, max
length 128), with fused AdamW; the pruned vocab is the pieces of 6,400 other reviews of the same file (a training
split's worth) plus every single character. The medians of the step times, the ratios and the size of a checkpoint
(weights and AdamW's moments, as Lightning saves them) are printed and saved.

    OMP_NUM_THREADS=1 python -m bench.e5_speed --steps 6
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

from bench.common import SHOPPING_ZH, machine, median, require, save_result
from review_cls.data.vocab_pruning import prune_to_seen
from review_cls.models.pretrained import load_tokenizer, resolve_pretrained

PRUNE_FROM = 6400


def build(folder: str, variant: str, kept_ids: list[int]):
    """The classifier, its word embeddings frozen, trained, or cut to ``kept_ids`` (the pruned tokenizer's order)."""
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=10)
    if variant == "pruned":
        rows = model.get_input_embeddings().weight.detach()[kept_ids].clone()
        model.set_input_embeddings(torch.nn.Embedding.from_pretrained(rows, freeze=False))
    model.get_input_embeddings().weight.requires_grad_(variant != "frozen")
    trainable = [p for p in model.parameters() if p.requires_grad]
    return model.train(), torch.optim.AdamW(trainable, lr=1e-4, weight_decay=0.01, fused=True), trainable


def checkpoint_mb(model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> float:
    """Size on disk of the weights and the optimizer state, which every training checkpoint carries."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "state.pt"
        torch.save({"state_dict": model.state_dict(), "optimizer": optimizer.state_dict()}, path)
        return path.stat().st_size / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=6)
    args = parser.parse_args()
    folder = resolve_pretrained("packaged:multilingual-e5-small")
    full = load_tokenizer(folder)
    reviews = pd.read_csv(require(SHOPPING_ZH)).dropna().sample(PRUNE_FROM + 32 * args.steps, random_state=0)
    texts = reviews["review"].astype(str).tolist()
    pruned = prune_to_seen(full, texts[:PRUNE_FROM])
    full_vocab = full.get_vocab()
    kept_ids = [full_vocab[piece] for piece, _ in sorted(pruned.get_vocab().items(), key=lambda item: item[1])]
    step_texts = texts[PRUNE_FROM:]
    tokenizers = {"frozen": full, "trained": full, "pruned": pruned}
    variants = {name: build(folder, name, kept_ids) for name in tokenizers}
    times: dict[str, list[float]] = {name: [] for name in variants}
    for start in range(0, len(step_texts), 32):
        chunk = step_texts[start : start + 32]
        labels = torch.randint(0, 10, (len(chunk),))
        for name, (model, optimizer, _) in variants.items():
            batch = tokenizers[name](chunk, truncation=True, max_length=128, padding=True, return_tensors="pt")
            began = time.perf_counter()
            model(**batch, labels=labels).loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            times[name].append(time.perf_counter() - began)
    # the first step of each warms the allocator and AdamW's state: left out of the medians
    result = {
        "machine": machine(),
        "vocab": {"full": len(full), "pruned": len(pruned)},
        "step_s": {name: median(values[1:]) for name, values in times.items()},
        "trainable_parameters": {name: sum(p.numel() for p in trainable) for name, (_, _, trainable) in variants.items()},
        "checkpoint_mb": {name: checkpoint_mb(model, optimizer) for name, (model, optimizer, _) in variants.items()},
    }
    result["trained_over_frozen"] = result["step_s"]["trained"] / result["step_s"]["frozen"]
    result["pruned_over_frozen"] = result["step_s"]["pruned"] / result["step_s"]["frozen"]
    print(result)
    save_result("e5_speed", result)


if __name__ == "__main__":
    main()
