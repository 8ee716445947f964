"""Masked-LM pretraining step time: the model's own full-vocab loss vs ``masked_lm_loss`` (vocab projection on the
masked tokens only), same model, same batches, interleaved in one process.

Each step is forward + backward + a fused AdamW update on one batch of 32 Google Play reviews (length-grouped,
15% of the tokens masked by ``DataCollatorForLanguageModeling``). Both losses are printed per batch too: they must
agree (the unit test checks the same on a tiny model).

    python -m bench.pretrain_throughput --batches 12 --repeats 3 --threads 1
    python -m bench.pretrain_throughput --batches 12 --repeats 3 --threads 1 --char-bert   # the 2 x 256 char model
"""

from __future__ import annotations

import argparse
import time

import torch
from transformers import DataCollatorForLanguageModeling

from bench.common import GOOGLE_PLAY, MINILM, SHOPPING_ZH, clean_splits, group_settings, machine, median, save_result
from review_cls.models.masked_lm import masked_lm_loss


def batches_of(texts: list[str], tokenizer, n_batches: int, seed: int) -> list[dict[str, torch.Tensor]]:
    """``n_batches`` batches of 32 texts of similar length (as training groups them), masked once, reused by both."""
    torch.manual_seed(seed)
    encoded = tokenizer(texts[: n_batches * 32 * 4], truncation=True, max_length=128)["input_ids"]
    chosen = sorted(torch.randperm(len(encoded))[: n_batches * 32].tolist(), key=lambda i: len(encoded[i]))
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15)
    return [collator([{"input_ids": encoded[i]} for i in chosen[b * 32:(b + 1) * 32]]) for b in range(n_batches)]


def step_seconds(model, optimizer, batches, loss_of) -> float:
    started = time.perf_counter()
    for batch in batches:
        loss_of(model, batch).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    return (time.perf_counter() - started) / len(batches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--char-bert", action="store_true", help="the Chinese 2 x 256 model with a 6,000-char vocab")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from review_cls.data.tokenizers import build_char_tokenizer
    from review_cls.models.masked_lm import build_masked_lm_module
    from review_cls.models.pretrained import load_tokenizer
    from review_cls.models.model_settings import ModelSettings

    if args.char_bert:
        splits, _ = clean_splits(SHOPPING_ZH, "review", "cat", seed=0)
        texts = splits["train"].texts
        tokenizer = build_char_tokenizer(texts, 6000)
        architecture = {"num_hidden_layers": 2, "hidden_size": 256, "num_attention_heads": 4, "intermediate_size": 1024}
    else:
        splits, _ = clean_splits(GOOGLE_PLAY, "review", "label", seed=0)
        texts = splits["train"].texts
        tokenizer, architecture = load_tokenizer(MINILM), None
    model_group = group_settings("model", "minilm", pretrained=MINILM, from_scratch=args.char_bert,
                                 architecture=architecture, dropout=0.0, warmup_ratio=0.0)
    settings = ModelSettings.from_config(model_group)
    module = build_masked_lm_module(settings, len(tokenizer), new_embeddings=False, train_only_embeddings=False)
    model = module.model
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5, fused=True)
    batches = batches_of(texts, tokenizer, args.batches, seed=0)
    methods = {"full_vocab": lambda m, b: m(**b).loss, "masked_only": masked_lm_loss}
    times: dict[str, list[float]] = {name: [] for name in methods}
    step_seconds(model, optimizer, batches[:2], masked_lm_loss)  # warm-up, not timed
    for repeat in range(args.repeats):
        order = list(methods) if repeat % 2 == 0 else list(reversed(methods))
        for name in order:
            seconds = step_seconds(model, optimizer, batches, methods[name])
            times[name].append(seconds)
            print(f"repeat {repeat} {name}: {seconds:.3f} s/step", flush=True)
    result = {
        "machine": machine(), "args": vars(args), "seconds_per_step": times,
        "median": {name: median(values) for name, values in times.items()},
        "speedup_masked_only": median(times["full_vocab"]) / median(times["masked_only"]),
        "vocab_size": len(tokenizer), "tokens_per_batch": [int(b["attention_mask"].sum()) for b in batches],
    }
    print(result["median"], f"speed-up {result['speedup_masked_only']:.2f}x")
    save_result("pretrain_throughput_char_bert" if args.char_bert else "pretrain_throughput", result)


if __name__ == "__main__":
    main()
