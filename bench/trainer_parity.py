"""Quality at convergence: Hugging Face ``Trainer`` on the imbalance ablation's recipe and splits.

The ablation's ``baseline_ce`` rows are review_cls at convergence (MiniLM, lr 1e-4, dropout 0.1, weight decay 0.1,
batch 32, warmup 10%, gradient clipping 1.0, at most 5 epochs, tested on the best validation macro-F1 epoch). This
trains the same model with the same recipe on the same seeded split through ``Trainer``, once per training sampler:

- ``group_by_length``: transformers' ``LengthGroupedSampler`` (what review_cls's ``EpochSampler`` imitates);
- ``random``: plain random batches, to see whether length-grouped (more one-class) batches cost quality.

Each finished (sampler, seed) appends one JSON line to ``--out``; a rerun skips the pairs already there.

    OMP_NUM_THREADS=1 python -m bench.trainer_parity --seeds 0 1 2 --samplers group_by_length random \
        --out bench/results/trainer_parity.jsonl
    python -m bench.trainer_parity --summarize --out bench/results/trainer_parity.jsonl
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench.common import GOOGLE_PLAY, MINILM, clean_splits, mean_std

# the ablation's recipe (bench/ablation.py with --max-epochs 5 --lr 1e-4 model.dropout=0.1,
# +experiment=ablation/baseline_ce)
BATCH, LR, WEIGHT_DECAY, WARMUP, DROPOUT, EPOCHS, MAX_LENGTH = 32, 1e-4, 0.1, 0.1, 0.1, 5, 128


def train_and_test(sampler: str, seed: int, workdir: Path) -> dict:
    """One Trainer run: evaluate every epoch, keep the best validation macro-F1 epoch, score it on test."""
    from sklearn.metrics import f1_score
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments, set_seed

    from review_cls.data.batching import TokenizedReviews, tokenize_texts
    from review_cls.models.backbone import backbone_config, build_classifier
    from review_cls.models.pretrained import load_tokenizer

    splits, labels = clean_splits(GOOGLE_PLAY, "review", "label", seed)
    tokenizer = load_tokenizer(MINILM)
    data = {stage: TokenizedReviews(tokenize_texts(tokenizer, split.texts, MAX_LENGTH), split.label_ids(labels))
            for stage, split in splits.items()}
    set_seed(seed)
    model = build_classifier(backbone_config(MINILM, len(labels), dict(enumerate(labels)), DROPOUT), MINILM)

    def macro_f1(prediction) -> dict[str, float]:
        return {"f1_macro": float(f1_score(prediction.label_ids, prediction.predictions.argmax(-1), average="macro"))}

    steps = EPOCHS * -(-len(data["train"]) // BATCH)
    arguments = TrainingArguments(
        output_dir=str(workdir), per_device_train_batch_size=BATCH, per_device_eval_batch_size=64,
        num_train_epochs=EPOCHS, learning_rate=LR, weight_decay=WEIGHT_DECAY, warmup_steps=int(WARMUP * steps),
        max_grad_norm=1.0, train_sampling_strategy=sampler, eval_strategy="epoch", save_strategy="epoch",
        save_total_limit=1, load_best_model_at_end=True, metric_for_best_model="f1_macro", greater_is_better=True,
        use_cpu=True, report_to="none", logging_strategy="no", disable_tqdm=True, dataloader_num_workers=0, seed=seed,
    )
    trainer = Trainer(model=model, args=arguments, train_dataset=data["train"], eval_dataset=data["val"],
                      processing_class=tokenizer, data_collator=DataCollatorWithPadding(tokenizer),
                      compute_metrics=macro_f1)
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    val_by_epoch = [round(entry["eval_f1_macro"], 4) for entry in trainer.state.log_history if "eval_f1_macro" in entry]
    test = trainer.predict(data["test"])
    return {"sampler": sampler, "seed": seed, "seconds": round(seconds, 1), "val_f1_macro_by_epoch": val_by_epoch,
            "val_f1_macro_best": max(val_by_epoch), "test_f1_macro": macro_f1(test)["f1_macro"]}


def summarize(rows: list[dict]) -> None:
    for sampler in sorted({row["sampler"] for row in rows}):
        mine = sorted((row for row in rows if row["sampler"] == sampler), key=lambda row: row["seed"])
        test, val = (mean_std([row[key] for row in mine]) for key in ("test_f1_macro", "val_f1_macro_best"))
        per_seed = ", ".join(f"{row['seed']}: {row['test_f1_macro']:.3f}" for row in mine)
        print(f"| Trainer, {sampler} | {val['mean']:.3f} | {test['mean']:.3f} ± {test['std']:.3f} | {per_seed} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--samplers", nargs="+", default=["group_by_length", "random"],
                        choices=["group_by_length", "random"])
    parser.add_argument("--out", type=Path, default=Path("bench/results/trainer_parity.jsonl"))
    parser.add_argument("--summarize", action="store_true", help="print the table of --out and stop")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.out.read_text().splitlines()] if args.out.exists() else []
    if args.summarize:
        summarize(rows)
        return
    done = {(row["sampler"], row["seed"]) for row in rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        for sampler in args.samplers:
            if (sampler, seed) in done:
                continue
            with tempfile.TemporaryDirectory() as workdir:
                row = train_and_test(sampler, seed, Path(workdir))
            print(json.dumps(row), flush=True)
            with args.out.open("a") as results:
                results.write(json.dumps(row) + "\n")
    summarize([json.loads(line) for line in args.out.read_text().splitlines()])


if __name__ == "__main__":
    main()
