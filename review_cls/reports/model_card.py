"""The ``README.md`` model card of an exported folder: what ``review_cls.predict`` ships (the blend with TF-IDF, or
the model alone), labels, test scores of the model, the TF-IDF baseline and the blend, data, recipe, limitations.
Numbers come from the checkpoint and its own run folder; a missing file becomes a note, never a guess."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from review_cls.models.blend import BlendRecord
from review_cls.models.module import upgraded_hyperparameters
from review_cls.models.pooling import pooling_of
from review_cls.models.task import task_of_config
from review_cls.utils.run_folder import HYDRA_CONFIG, REPORT_JSON, RUN_RECORD, SPLIT_JSON, RunFolder

# packaged offline encoders -> their hub names (a card's base_model must be a hub id)
PACKAGED_HUB_NAMES = {"packaged:all-MiniLM-L6-v2": "sentence-transformers/all-MiniLM-L6-v2"}
# per-class scores that rest on fewer test reviews than this are flagged as uncertain
FEW_TEST_EXAMPLES = 30
# writing systems by the code-point ranges of their letters; a vocabulary "covers" one holding >= 1% of its tokens
SCRIPTS = {
    "Latin": [(0x41, 0x5A), (0x61, 0x7A), (0xC0, 0x24F)], "Greek": [(0x370, 0x3FF)], "Cyrillic": [(0x400, 0x4FF)],
    "Hebrew": [(0x590, 0x5FF)], "Arabic": [(0x600, 0x6FF)], "Devanagari": [(0x900, 0x97F)], "Thai": [(0xE00, 0xE7F)],
    "Hangul": [(0xAC00, 0xD7AF), (0x1100, 0x11FF)], "Japanese kana": [(0x3040, 0x30FF)],
    "Chinese characters (CJK)": [(0x4E00, 0x9FFF), (0x3400, 0x4DBF)],
}
# the language a card's metadata names when the export does not set one: by the vocabulary's main script
SCRIPT_LANGUAGE = {"Latin": "en", "Chinese characters (CJK)": "zh"}


@dataclass
class RunFacts:
    """What the export found about the run that wrote the checkpoint; ``missing`` names the files it looked for."""

    hparams: dict[str, Any]
    config: dict[str, Any] | None = None
    record: dict[str, Any] | None = None
    report: dict[str, Any] | None = None
    split_counts: dict[str, int] | None = None
    data_file: str | None = None
    epoch: int | None = None
    missing: list[str] = field(default_factory=list)

    @property
    def metrics(self) -> dict[str, float]:
        return (self.record or {}).get("metrics", {})


def read_run_facts(ckpt_path: str | Path, checkpoint: Mapping[str, Any]) -> RunFacts:
    """Read the run folder around ``<run>/checkpoints/<name>.ckpt``: Hydra's config, ``metrics.json``,
    ``classification_report.json`` and ``split.json``; each one that is absent is listed in ``missing``."""
    run = RunFolder.of_checkpoint(ckpt_path)
    facts = RunFacts(hparams=upgraded_hyperparameters(checkpoint["hyper_parameters"]), epoch=checkpoint.get("epoch"))
    sources = {"config": HYDRA_CONFIG, "record": RUN_RECORD, "report": REPORT_JSON, "split_counts": SPLIT_JSON}
    for name, file in sources.items():
        value = run.read(file)
        if value is None:
            facts.missing.append(str(run / file))
            continue
        if name == "split_counts":  # split.json: row ids per split, and the file they index
            facts.data_file = value.get("source")
            value = {split: len(value.get(split, [])) for split in ("train", "val", "test")}
        setattr(facts, name, value)
    return facts


def vocabulary_scripts(vocab: Mapping[str, int]) -> list[str]:
    """The writing systems with >= 1% of the tokenizer's vocabulary, most tokens first."""
    counts = dict.fromkeys(SCRIPTS, 0)
    for token in vocab:
        letters = [ord(char) for char in token if char.isalpha()]
        for script, ranges in SCRIPTS.items():
            if letters and any(low <= letters[0] <= high for low, high in ranges):
                counts[script] += 1
                break
    return [script for script, count in sorted(counts.items(), key=lambda item: -item[1])
            if count >= 0.01 * max(len(vocab), 1)]


def _score(value: Any) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{float(value):.4f}"


def shown(value: Any) -> str:
    """A stored setting as the card prints it: numbers to 4 significant digits, lists and mappings item by item."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return f"[{', '.join(map(shown, value))}]"
    if isinstance(value, Mapping):
        return f"{{{', '.join(f'{key}: {shown(item)}' for key, item in value.items())}}}"
    return str(value)


def task_and_loss_lines(hparams: Mapping[str, Any]) -> list[str]:
    """The task, and the loss from the settings the checkpoint stores (models/losses.py: alpha as the per-class
    weights, the multi-label pos_weight, logit_adjustment as its offsets): every one that is on, whichever they are."""
    multilabel = task_of_config(hparams.get("backbone_config") or {}).multilabel
    task = (f"multi-label (a sigmoid per label), thresholds chosen on validation: {shown(hparams.get('thresholds'))}"
            if multilabel else "single-label (a softmax over the labels)")
    used = [f"{name} {shown(value)}" for name, value in (hparams.get("loss") or {}).items()
            if value not in (None, 0, False, {}, [])]
    loss = "binary cross-entropy per label" if multilabel else "cross-entropy"
    return [f"- task: {task}", f"- loss: {loss}" + (f" with {', '.join(used)}" if used else "")]


def recipe_lines(facts: RunFacts) -> list[str]:
    """Task, loss, resampling, lr, epochs, max_length, seed: from the checkpoint (its hyperparameters as
    :func:`~review_cls.models.module.upgraded_hyperparameters` gives them), plus the run's config where present."""
    hparams, config = facts.hparams, facts.config or {}
    optimizer = hparams.get("optimizer") or {}
    resampling = (config.get("data") or {}).get("resampling") or {}
    max_epochs = (config.get("trainer") or {}).get("max_epochs")
    best = f"best checkpoint after epoch {facts.epoch}" if facts.epoch is not None else "best epoch unknown"
    ema = (config.get("callbacks") or {}).get("ema")
    weights = ("unknown (no run config)" if not config
               else f"a moving average of the trained weights (decay {ema.get('decay')})" if ema else "as trained")
    lines = [
        f"- base model: `{hparams.get('pretrained')}`",
        *task_and_loss_lines(hparams),
        f"- resampling: {resampling.get('strategy', 'unknown (no run config)')}",
        f"- learning rate: {optimizer.get('lr')}, weight decay {optimizer.get('weight_decay')}, "
        f"warmup ratio {optimizer.get('warmup_ratio')} (AdamW)",
        f"- epochs: up to {max_epochs if max_epochs is not None else 'unknown'}; {best}",
        f"- weights: {weights}",
        f"- max_length: {hparams.get('max_length')} tokens (longer reviews are truncated)",
        f"- seed: {config.get('seed', 'unknown (no run config)')}",
    ]
    return lines


def evaluation_lines(facts: RunFacts, labels: list[str], blend: BlendRecord | None) -> list[str]:
    """The macro-F1 table (the model alone, the TF-IDF baseline, and the blend review_cls ships when there is one)
    and the per-class test table."""
    metrics = facts.metrics
    rows = {"model": ("fine-tuned model alone", "val/f1_macro_best", "test/f1_macro"),
            "tfidf": ("TF-IDF + logistic regression", "baseline/val_f1_macro", "baseline/test_f1_macro")}
    if blend is not None:
        rows["blend"] = (f"blend: {blend_weights(blend)} (what `review_cls.predict` ships)", "blend/val_f1_macro",
                         "blend/test_f1_macro")
    lines = ["| predictor | validation macro-F1 | test macro-F1 |", "|---|---|---|"]
    for row, (name, val_key, test_key) in rows.items():
        test = blend.test_f1_macro.get(row) if blend is not None else metrics.get(test_key)
        lines.append(f"| {name} | {_score(metrics.get(val_key))} | {_score(test)} |")
    if facts.report is None:
        return [*lines, "", "Per-class test scores: not available (no classification_report.json in the run folder)."]
    lines += ["", "Per-class scores of the fine-tuned model on the test split:", "",
              "| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for label in labels:
        row = facts.report.get(label, {})
        lines.append(f"| {label} | {_score(row.get('precision'))} | {_score(row.get('recall'))} | "
                     f"{_score(row.get('f1-score'))} | {int(row.get('support', 0))} |")
    return lines


def blend_weights(blend: BlendRecord) -> str:
    """``0.50 model + 0.50 TF-IDF, a fixed share (rule fixed)`` or ``..., weight chosen on validation by rule f1``."""
    weight, rule = blend.blend.weight, blend.blend.rule
    how = "a fixed share" if rule == "fixed" else "weight chosen on validation by"
    return f"{weight:.2f} model + {1 - weight:.2f} TF-IDF, {how} rule {rule}"


def shipped_lines(blend: BlendRecord | None) -> list[str]:
    """What ``review_cls.predict`` (and evaluate, select) gives from this folder, and what plain transformers gives."""
    if blend is None:
        return ["`review_cls.predict` predicts with the fine-tuned model alone: this folder holds no blend with the "
                "TF-IDF baseline (the checkpoint recorded none, or it was exported with `blend=false`). "
                "`transformers.pipeline()` and `AutoModelForSequenceClassification` give the same model."]
    thresholds = (" Each label is decided at the threshold chosen on the blended validation probabilities (in "
                  "`config.json`, `review_cls_blend`)." if blend.blend.thresholds is not None else "")
    return [f"`python -m review_cls.predict ckpt_path=path/to/this/folder` (and `evaluate`, `select`) predicts with "
            f"the model blended with its TF-IDF baseline: `p = {blend.blend.weight:.2f} * p_model + "
            f"{1 - blend.blend.weight:.2f} * p_tfidf`, the TF-IDF pipeline in `tfidf.npz`, the model's share chosen "
            f"on the validation split by rule `{blend.blend.rule}`.{thresholds} `transformers.pipeline()` and "
            "`AutoModelForSequenceClassification` give the fine-tuned model alone (the first row of the table below), as does "
            "`review_cls.predict ... blend=false`."]


def limitation_lines(facts: RunFacts, labels: list[str], scripts: list[str]) -> list[str]:
    lines = []
    if facts.report is not None:
        few = [f"{label} ({int(facts.report[label]['support'])})" for label in labels
               if label in facts.report and facts.report[label].get("support", 0) < FEW_TEST_EXAMPLES]
        if few:
            lines.append(f"- Classes with fewer than {FEW_TEST_EXAMPLES} test reviews (their scores are uncertain): "
                         f"{', '.join(few)}.")
    covered = ", ".join(scripts) if scripts else "no script with >= 1% of the vocabulary"
    lines.append(f"- The tokenizer's vocabulary covers: {covered}. Text in other scripts becomes unknown tokens "
                 "and is classified poorly.")
    lines.append("- Trained on app-store reviews; other kinds of text (support tickets, social posts) are untested.")
    return lines


def usage_lines(pooling: str) -> list[str]:
    """Plain transformers for a [CLS]-pooled model; review_cls for a mean-pooled one, which pipeline() misreads."""
    if pooling == "cls":
        return ["```python", "from transformers import pipeline", "",
                'classify = pipeline("text-classification", model="path/to/this/folder", truncation=True)',
                'classify("The app crashes every time I open my cart")', "```"]
    return ["```bash", "python -m review_cls.predict ckpt_path=path/to/this/folder input=reviews.csv output=predictions.csv",
            "```", "", "This model reads the mean of every position (`classifier_pooling: mean` in `config.json`); "
            "transformers' `pipeline()` reads the `[CLS]` state instead and would score it differently."]


def build_model_card(facts: RunFacts, labels: list[str], vocab: Mapping[str, int], language: str | None,
                     has_onnx: bool, blend: BlendRecord | None = None) -> ModelCard:
    """The card text and its metadata (pipeline_tag, language, base model, metrics with eval results)."""
    scripts = vocabulary_scripts(vocab)
    language = language or next((SCRIPT_LANGUAGE[s] for s in scripts if s in SCRIPT_LANGUAGE), None)
    pretrained = str(facts.hparams.get("pretrained", ""))
    base_model = PACKAGED_HUB_NAMES.get(pretrained) or (pretrained if pretrained.count("/") <= 1
                                                        and not Path(pretrained).exists() else None)
    data_file = facts.data_file or ((facts.config or {}).get("data") or {}).get("path")
    dataset = Path(str(data_file)).name if data_file else "unknown"
    results = [EvalResult(task_type="text-classification", dataset_type="app-reviews", dataset_name=dataset,
                          dataset_split=split, metric_type="f1", metric_name=f"{split} macro-F1",
                          metric_value=round(facts.metrics[key], 4), metric_config="macro")
               for split, key in (("validation", "val/f1_macro_best"), ("test", "test/f1_macro"))
               if key in facts.metrics]
    data = ModelCardData(pipeline_tag="text-classification", library_name="transformers", language=language,
                         base_model=base_model, metrics=["f1"], tags=["review_cls", "app-reviews"],
                         model_name="review_cls review classifier", eval_results=results or None)
    counts = facts.split_counts
    rows = (f"{counts['train']} train / {counts['val']} validation / {counts['test']} test reviews after cleaning"
            if counts else "row counts not available (no split.json in the run folder)")
    sections = [
        "# review_cls review classifier", "",
        f"Sorts app-store reviews into {len(labels)} categories. Fine-tuned from `{pretrained}` with "
        "review_cls (PyTorch Lightning + Hydra).", "",
        "## Labels", "", *[f"- `{label}`" for label in labels], "",
        "## What `review_cls.predict` ships", "", *shipped_lines(blend), "",
        "## Evaluation", "", *evaluation_lines(facts, labels, blend), "",
        "## Training data", "", f"- file: `{data_file or 'unknown (no run config or split.json)'}`", f"- {rows}", "",
        "## Training recipe", "", *recipe_lines(facts), "",
        "## Limitations", "", *limitation_lines(facts, labels, scripts), "",
        "## Usage", "", *usage_lines(pooling_of(facts.hparams.get("backbone_config") or {})),
    ]
    if has_onnx:
        sections += ["", "`model.onnx` runs the same model on CPU with ONNX Runtime: "
                     "`python -m review_cls.predict ckpt_path=path/to/this/folder runtime=onnx input=... output=...`."]
    if facts.missing:
        sections += ["", "## Missing information", "",
                     "The export looked for these files next to the checkpoint and did not find them, so the numbers "
                     "they hold are marked n/a above (was the checkpoint moved out of its run folder, or the run "
                     "not tested?):", "", *[f"- `{path}`" for path in facts.missing]]
    return ModelCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(sections) + "\n")
