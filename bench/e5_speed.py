"""What multilingual-e5-small's 250k-piece vocabulary costs a CPU training step: embeddings frozen vs trained.

Both variants run in one process, alternating, on the same batches of real Chinese reviews (batch 32, max length
128), with AdamW as training builds it; the medians of the step times and the ratio are printed and saved.

    OMP_NUM_THREADS=1 python -m bench.e5_speed --steps 6
"""

from __future__ import annotations

import argparse
import time

import pandas as pd
import torch

from bench.common import SHOPPING_ZH, machine, median, require, save_result
from review_cls.utils.pretrained import resolve_pretrained


def build(folder: str, frozen: bool):
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=10)
    model.bert.embeddings.word_embeddings.weight.requires_grad_(not frozen)
    trainable = [p for p in model.parameters() if p.requires_grad]
    return model.train(), torch.optim.AdamW(trainable, lr=5e-5, weight_decay=0.01, fused=True), trainable


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=6)
    args = parser.parse_args()
    from transformers import AutoTokenizer

    folder = resolve_pretrained("packaged:multilingual-e5-small")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    texts = pd.read_csv(require(SHOPPING_ZH)).dropna().sample(32 * args.steps, random_state=0)["review"].tolist()
    batches = [tokenizer(texts[i : i + 32], truncation=True, max_length=128, padding=True, return_tensors="pt")
               for i in range(0, len(texts), 32)]
    variants = {name: build(folder, name == "frozen") for name in ("frozen", "trained")}
    times: dict[str, list[float]] = {name: [] for name in variants}
    for batch in batches:
        labels = torch.randint(0, 10, (batch["input_ids"].shape[0],))
        for name, (model, optimizer, _) in variants.items():
            start = time.perf_counter()
            model(**batch, labels=labels).loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            times[name].append(time.perf_counter() - start)
    # the first step of each warms the allocator and AdamW's state: left out of the medians
    result = {
        "machine": machine(),
        "step_s": {name: median(values[1:]) for name, values in times.items()},
        "trainable_parameters": {name: sum(p.numel() for p in trainable) for name, (_, _, trainable) in variants.items()},
    }
    result["trained_over_frozen"] = result["step_s"]["trained"] / result["step_s"]["frozen"]
    print(result)
    save_result("e5_speed", result)


if __name__ == "__main__":
    main()
