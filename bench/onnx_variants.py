"""ONNX graph and int8 variants vs PyTorch, in one process on one thread: what fusion and each quantization choice
buy on this CPU, and what they cost in agreement.

The predict loop (tokenize, length-sorted batches of 64, model, softmax) runs over the first ``--n`` distinct
Google Play reviews, once per variant; CPU seconds of that loop (``time.process_time``), labels and probabilities
against PyTorch's, and macro-F1 on the checkpoint's own test split (``test_predictions.csv`` of its run folder).
Variants (files under ``bench/results/onnx_variants/``):

- ``fp32``: ``python -m review_cls.export format=onnx`` (torch's dynamo exporter), run at ORT_ENABLE_ALL
- ``fp32_fused``: eager attention, torch's TorchScript exporter (``dynamo=False``, deprecated since torch 2.9),
  then ``onnxruntime.transformers.optimizer.optimize_model(model_type="bert")``: the only graph here in which it
  finds Attention and EmbedLayerNormalization (the dynamo graph gets SkipLayerNorm and BiasGelu only, which the
  ORT session fuses by itself anyway)
- ``int8``: the ``quantize=int8`` export (per channel, MatMuls only, feed-forward down-projections float32)
- ``int8_int8_embeddings``: the same plus int8 embedding tables (the export before this benchmark)
- ``int8_fused_all``: ``fp32_fused`` with every MatMul and Attention int8, embeddings float32

    OMP_NUM_THREADS=1 python -m bench.onnx_variants --ckpt /work/gp_minilm_run/checkpoints/best-epoch02.ckpt
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from bench.common import GOOGLE_PLAY, RESULTS, machine, require, save_result

BATCH = 64


def export_variants(ckpt: Path, work: Path) -> dict[str, Path]:
    """Every variant's model.onnx (rewritten on each run)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model

    from review_cls.inference.checkpoints import load_classifier
    from review_cls.inference.onnx_runtime import down_projections
    from review_cls.inference.predictor import LogitsOnly
    from review_cls.inference.export_folder import export_model

    paths = {"fp32": export_model(ckpt, work / "fp32", overwrite=True, export_format="onnx") / "model.onnx",
             "int8": export_model(ckpt, work / "int8", overwrite=True, export_format="onnx",
                                  quantize="int8") / "model.onnx"}
    paths["int8_int8_embeddings"] = work / "int8_int8_embeddings.onnx"
    quantize_dynamic(paths["fp32"], paths["int8_int8_embeddings"], weight_type=QuantType.QInt8, per_channel=True,
                     nodes_to_exclude=down_projections(paths["fp32"]))

    model, tokenizer = load_classifier(ckpt)
    classifier = model.model
    classifier.set_attn_implementation("eager")  # the pattern ORT's attention fusion knows
    sample = tokenizer(["a short review", "a somewhat longer review of the app"], padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask"]
    unfused = work / "fp32_torchscript.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(LogitsOnly(classifier).eval(), (sample["input_ids"], sample["attention_mask"]),
                          str(unfused), input_names=names, output_names=["logits"], dynamo=False, opset_version=17,
                          dynamic_axes={name: {0: "batch", 1: "sequence"} for name in names} | {"logits": {0: "batch"}})
    config = classifier.config
    fused = optimize_model(str(unfused), model_type="bert", num_heads=config.num_attention_heads,
                           hidden_size=config.hidden_size)
    print("fused operators:", {name: count for name, count in fused.get_fused_operator_statistics().items() if count})
    paths["fp32_fused"] = work / "fp32_fused.onnx"
    fused.save_model_to_file(str(paths["fp32_fused"]))
    paths["int8_fused_all"] = work / "int8_fused_all.onnx"
    # shape inference cannot type the com.microsoft fused operators: name the float type
    quantize_dynamic(paths["fp32_fused"], paths["int8_fused_all"], weight_type=QuantType.QInt8, per_channel=True,
                     op_types_to_quantize=["MatMul", "Attention"],
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    return paths


def session_predictor(path: Path, reference):
    import onnxruntime

    from review_cls.inference.onnx_runtime import OnnxPredictor

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return OnnxPredictor(reference.tokenizer, reference.labels, reference.max_length, session=session)


def measure(predictor, reviews: list[str], test: pd.DataFrame) -> tuple[dict[str, float], np.ndarray, np.ndarray]:
    """CPU seconds of the predict loop over ``reviews`` (after a one-batch warm-up), and the test macro-F1."""
    from sklearn.metrics import f1_score

    predictor.predict_probabilities(reviews[:BATCH], BATCH)
    started = time.process_time()
    probabilities = predictor.predict_probabilities(reviews, BATCH)
    cpu_seconds = time.process_time() - started
    on_test = predictor.predict_probabilities(test["text"].astype(str).tolist(), BATCH)
    f1 = f1_score(test["true_label"], np.asarray(predictor.labels)[on_test.argmax(axis=1)], average="macro")
    return {"cpu_seconds": cpu_seconds, "reviews_per_cpu_s": len(reviews) / cpu_seconds,
            "test_macro_f1": float(f1)}, probabilities, on_test


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ckpt", type=Path, required=True, help="a Google Play checkpoint inside its run folder")
    parser.add_argument("--n", type=int, default=4000, help="distinct reviews timed (the file has 4,000)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    from review_cls.inference.predictor import load_predictor

    work = RESULTS / "onnx_variants"
    work.mkdir(parents=True, exist_ok=True)
    paths = export_variants(args.ckpt, work)
    reviews = pd.read_excel(require(GOOGLE_PLAY))["review"].astype(str).tolist()[: args.n]
    test = pd.read_csv(args.ckpt.parent.parent / "test_predictions.csv")
    reference = load_predictor(args.ckpt, device="cpu", blend=False)
    result = {"machine": machine(), "args": {k: str(v) for k, v in vars(args).items()}, "runs": []}
    run, expected, expected_test = measure(reference, reviews, test)
    result["runs"].append({"variant": "pytorch", **run})
    print(result["runs"][-1], flush=True)
    for name, path in paths.items():
        run, probabilities, on_test = measure(session_predictor(path, reference), reviews, test)
        run |= {"x_pytorch": result["runs"][0]["cpu_seconds"] / run["cpu_seconds"],
                "identical_labels": float((probabilities.argmax(1) == expected.argmax(1)).mean()),
                "max_prob_diff": float(np.abs(probabilities - expected).max()),
                "test_identical_labels": float((on_test.argmax(1) == expected_test.argmax(1)).mean()),
                "model_mb": path.stat().st_size / 2**20}
        result["runs"].append({"variant": name, **run})
        print(result["runs"][-1], flush=True)
        save_result("onnx_variants", result)


if __name__ == "__main__":
    main()
