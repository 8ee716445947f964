"""Training throughput, side by side in one process: review_cls's Lightning path, the seed's loop, HF Trainer.

All three train the same MiniLM on the same Google Play training reviews with batch 32, AdamW, linear warmup and
gradient clipping 1.0; only the batching differs:

- ``review_cls``: ReviewDataModule (tokenized once, length-grouped batches, per-batch padding) + ReviewClassifier
  through the real ``build_datamodule`` / ``build_model`` / ``build_trainer`` of ``review_cls.training.builders``;
- ``review_cls_frozen_emb``: the same with ``model.freeze_embeddings=true``;
- ``seed_loop``: the seed's style, a plain PyTorch loop, random batches, every review padded to 128 tokens
  (tokenized in ``__getitem__``);
- ``hf_trainer``: Hugging Face ``Trainer`` with ``train_sampling_strategy="group_by_length"``.

Timing: one epoch over ``--n-time`` reviews, ``--repeats`` times, methods interleaved per repeat (so a load spike on
the shared machine hits all of them) in a rotated order, median reviews/s. Quality: one epoch over ``--n-f1`` reviews per method and
``--f1-seeds`` seed, then macro-F1 on the full validation split (mean and std over the seeds).

    python -m bench.train_throughput --repeats 3 --n-time 4000 --n-f1 4000 --seed-batches 8 --threads 1 \
        --methods review_cls seed_loop hf_trainer
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import lightning as L
import numpy as np
import pandas as pd
import torch

from bench.common import GOOGLE_PLAY, MINILM, clean_splits, machine, mean_std, median, save_result
from review_cls.inference.predictor import LogitsOnly

BATCH, LR, WARMUP, MAX_LENGTH = 32, 5e-5, 0.1, 128
# review_cls variants: the default path, with the word-embedding matrix frozen, and with random (not length-grouped)
# batches that still pad per batch
LEVERS = {"review_cls": (), "review_cls_frozen_emb": ("model.freeze_embeddings=true",),
          "review_cls_random_batches": ("data.group_by_length=false",)}


def subset(texts: list[str], labels: list[str], n: int, seed: int) -> tuple[list[str], list[str]]:
    order = np.random.default_rng(seed).permutation(len(texts))[:n]
    return [texts[i] for i in order], [labels[i] for i in order]


def macro_f1(model: torch.nn.Module, tokenizer, texts: list[str], y_true: list[int]) -> float:
    from sklearn.metrics import f1_score

    from review_cls.inference.predictor import predict_probabilities

    model.eval()
    probabilities = predict_probabilities(model, tokenizer, texts, MAX_LENGTH, 64)
    return float(f1_score(y_true, probabilities.argmax(axis=1), average="macro"))


def hf_model(labels: list[str]):
    from review_cls.models.backbone import backbone_config, build_classifier

    model = build_classifier(backbone_config(MINILM, len(labels), dict(enumerate(labels)), None), MINILM)
    model.train()
    return model


def run_review_cls(train_csv: Path, val_csv: Path, seed: int, workdir: Path, *extra: str):
    """One epoch through the project's own training path; returns (epoch seconds, reviews, classifier)."""
    from hydra import compose, initialize_config_dir

    from review_cls.training.builders import build_datamodule, build_model, build_trainer

    overrides = [
        "data=file", f"data.path={train_csv}", "data.text_column=review", "data.label_column=label",
        f"data.split_paths={{train: {train_csv}, val: {val_csv}, test: {val_csv}}}", f"seed={seed}",
        f"model.lr={LR}", f"model.warmup_ratio={WARMUP}", f"data.batch_size={BATCH}", "callbacks=none",
        "trainer.max_epochs=1", "+trainer.limit_val_batches=0", "+trainer.enable_checkpointing=false",
        "+trainer.enable_progress_bar=false", "+trainer.enable_model_summary=false", "trainer.accelerator=cpu",
        f"paths.output_dir={workdir}", "baseline=false", *extra,
    ]
    with initialize_config_dir(version_base="1.3", config_dir=str(Path("conf").resolve())):
        cfg = compose("train", overrides=overrides)
    L.seed_everything(seed)
    datamodule = build_datamodule(cfg)
    model = build_model(cfg, datamodule)
    timer = EpochTimer()
    trainer = build_trainer(cfg, [timer], [])
    trainer.fit(model, datamodule=datamodule)
    return timer.seconds, len(datamodule.datasets["train"]), model


class EpochTimer(L.Callback):
    """Wall time of the training epoch itself (no setup, no validation)."""

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.started = time.perf_counter()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.seconds = time.perf_counter() - self.started


def run_seed_loop(texts: list[str], y: list[int], labels: list[str], tokenizer, seed: int, max_batches: int = 0):
    """The seed's loop: tokenize per item padded to 128, random batches, AdamW + linear warmup, clip 1.0.

    Returns (seconds, reviews seen, model): every batch is padded to 128, so ``max_batches`` > 0 times only the
    first batches without changing the per-review cost."""
    from torch.utils.data import DataLoader, Dataset
    from transformers import get_linear_schedule_with_warmup

    class PaddedReviews(Dataset):
        def __len__(self) -> int:
            return len(texts)

        def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
            encoded = tokenizer(texts[i], truncation=True, max_length=MAX_LENGTH, padding="max_length",
                                return_tensors="pt")
            return {"input_ids": encoded["input_ids"][0], "attention_mask": encoded["attention_mask"][0],
                    "labels": torch.tensor(y[i])}

    torch.manual_seed(seed)
    model = hf_model(labels)
    loader = DataLoader(PaddedReviews(), batch_size=BATCH, shuffle=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.01)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(WARMUP * len(loader)), len(loader))
    started, seen = time.perf_counter(), 0
    for step, batch in enumerate(loader):
        if max_batches and step == max_batches:
            break
        seen += len(batch["labels"])
        loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
    return time.perf_counter() - started, seen, LogitsOnly(model)


def run_hf_trainer(texts: list[str], y: list[int], labels: list[str], tokenizer, seed: int, workdir: Path):
    """Hugging Face Trainer with its own length grouping and dynamic padding."""
    from transformers import DataCollatorWithPadding, Trainer, TrainerCallback, TrainingArguments

    from review_cls.data.batching import TokenizedReviews, tokenize_texts

    class Timer(TrainerCallback):
        def on_epoch_begin(self, args, state, control, **kwargs):
            self.started = time.perf_counter()

        def on_epoch_end(self, args, state, control, **kwargs):
            self.seconds = time.perf_counter() - self.started

    dataset = TokenizedReviews(tokenize_texts(tokenizer, texts, MAX_LENGTH), y)
    steps = -(-len(texts) // BATCH)
    arguments = TrainingArguments(
        output_dir=str(workdir), per_device_train_batch_size=BATCH, num_train_epochs=1, learning_rate=LR,
        weight_decay=0.01, warmup_steps=int(WARMUP * steps), max_grad_norm=1.0,
        train_sampling_strategy="group_by_length", use_cpu=True, report_to="none", save_strategy="no",
        logging_strategy="no", disable_tqdm=True, dataloader_num_workers=0, seed=seed,
    )
    timer = Timer()
    model = hf_model(labels)
    trainer = Trainer(model=model, args=arguments, train_dataset=dataset, processing_class=tokenizer,
                      data_collator=DataCollatorWithPadding(tokenizer), callbacks=[timer])
    trainer.train()
    return timer.seconds, len(texts), LogitsOnly(model)


def run_method(name: str, texts: list[str], labels_of: list[str], labels: list[str], tokenizer, seed: int,
               workdir: Path, seed_batches: int = 0):
    y = [labels.index(label) for label in labels_of]
    if name.startswith("review_cls"):
        train_csv, val_csv = workdir / "train.csv", workdir / "val.csv"
        pd.DataFrame({"review": texts, "label": labels_of}).to_csv(train_csv, index=False)
        if not val_csv.exists():
            pd.DataFrame({"review": texts[:BATCH], "label": labels_of[:BATCH]}).to_csv(val_csv, index=False)
        return run_review_cls(train_csv, val_csv, seed, workdir, *LEVERS[name])
    if name == "seed_loop":
        return run_seed_loop(texts, y, labels, tokenizer, seed, seed_batches)
    return run_hf_trainer(texts, y, labels, tokenizer, seed, workdir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-time", type=int, default=320, help="training reviews per timed epoch")
    parser.add_argument("--n-f1", type=int, default=960, help="training reviews for the one-epoch F1 comparison (0: skip it)")
    parser.add_argument("--methods", nargs="+", default=[*LEVERS, "seed_loop", "hf_trainer"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seed-batches", type=int, default=0,
                        help="time only this many batches of the seed loop (all its batches are padded to 128)")
    parser.add_argument("--f1-seeds", nargs="+", type=int, default=None,
                        help="training seeds of the F1 comparison (default: --seed); mean and std are reported")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--name", default="train_throughput", help="result file: bench/results/<name>.json")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    from review_cls.models.pretrained import load_tokenizer

    splits, labels = clean_splits(GOOGLE_PLAY, "review", "label", args.seed)
    tokenizer = load_tokenizer(MINILM)
    train_texts, train_labels = splits["train"].texts, splits["train"].labels
    val_texts, val_y = splits["val"].texts, [labels.index(label) for label in splits["val"].labels]
    result = {"machine": machine(), "args": vars(args), "timing": {m: [] for m in args.methods}, "f1": {}}
    texts, labels_of = subset(train_texts, train_labels, args.n_time, args.seed)
    lengths = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=MAX_LENGTH)["input_ids"]]
    result["token_length"] = {"mean": float(np.mean(lengths)), "median": float(np.median(lengths)),
                              "p90": float(np.percentile(lengths, 90))}
    with tempfile.TemporaryDirectory() as folder:
        for repeat in range(args.repeats):
            # rotated, so each method in turn runs first and pays the process's one-off warm-up (oneDNN kernels for
            # each new sequence length); the median then drops that repeat
            for method in args.methods[repeat % len(args.methods):] + args.methods[: repeat % len(args.methods)]:
                seconds, seen, _ = run_method(method, texts, labels_of, labels, tokenizer, args.seed, Path(folder),
                                              args.seed_batches)
                result["timing"][method].append(seen / seconds)
                print(f"repeat {repeat} {method}: {seen / seconds:.1f} reviews/s", flush=True)
                save_result(args.name, result)
        f1_texts, f1_labels = subset(train_texts, train_labels, args.n_f1, args.seed + 1)
        for f1_seed in (args.f1_seeds or [args.seed]) if args.n_f1 else []:
            for method in args.methods:
                seconds, seen, model = run_method(method, f1_texts, f1_labels, labels, tokenizer, f1_seed, Path(folder))
                row = {"seed": f1_seed, "val_f1_macro": macro_f1(model, tokenizer, val_texts, val_y),
                       "reviews_per_s": seen / seconds}
                result["f1"].setdefault(method, []).append(row)
                print(f"f1 {method}: {row}", flush=True)
                save_result(args.name, result)
    result["f1_mean_std"] = {method: mean_std([row["val_f1_macro"] for row in rows])
                             for method, rows in result["f1"].items()}
    medians = {method: median(values) for method, values in result["timing"].items() if values}
    result["median_reviews_per_s"] = medians
    if "review_cls" in medians:
        result["ratios"] = {f"{ours}/{m}": medians[ours] / v for ours in LEVERS if ours in medians
                            for m, v in medians.items() if m not in LEVERS}
    print(result["median_reviews_per_s"], result.get("ratios"), result["f1_mean_std"])
    save_result(args.name, result)


if __name__ == "__main__":
    main()
