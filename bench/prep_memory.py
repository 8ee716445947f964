"""Where data preparation's memory goes: RSS after each stage of ``ReviewDataModule.setup`` on one file.

Stages are the data module's own functions called in its order (read, clean + dedup, split, build the character
vocab, tokenize every split), each followed by the process's RSS and peak RSS; then the sizes of what is kept
(texts, labels, packed ids), so the growth above the imports can be put next to the raw file size.

    python -m bench.prep_memory --size 62000
"""

from __future__ import annotations

import argparse
import gc
import sys

from bench.common import machine, sample_file, save_result
from bench.cost_growth import current_rss_mb, rss_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=62000)
    args = parser.parse_args()
    path = sample_file(args.size)

    import sklearn.model_selection  # noqa: F401  (imported up front so it is not counted as data)

    from review_cls.data.batching import tokenize_texts
    from review_cls.data.io import read_table
    from review_cls.data.prepare import clean_reviews, stratified_split
    from review_cls.data.tokenizers import build_char_tokenizer

    stages: list[dict] = []

    def mark(stage: str) -> None:
        gc.collect()
        rss, peak = current_rss_mb(), rss_mb()
        stages.append({"stage": stage, "rss_mb": rss, "peak_rss_mb": peak})
        print(f"{stage:28s} rss {rss:7.1f} MiB  peak {peak:7.1f} MiB", flush=True)

    mark("imports")
    frame = read_table(path)
    mark("read (pandas frame)")
    reviews = clean_reviews(frame, "review", "cat", str(path))
    mark("clean + dedup")
    del frame
    mark("frame released")
    positions = stratified_split(reviews.labels, 0.1, 0.1, 0)
    train_texts = [reviews.texts[i] for i in positions["train"]]
    mark("split")
    tokenizer = build_char_tokenizer(train_texts, 6000)
    mark("character vocab")
    ids = tokenize_texts(tokenizer, reviews.texts, 128)
    mark("tokenized (all splits)")
    kept = {
        "texts_mb": sum(sys.getsizeof(text) for text in reviews.texts) / 2**20,
        "labels_mb": sum(sys.getsizeof(label) for label in reviews.labels) / 2**20,
        "packed_ids_mb": (ids.flat.nbytes + ids.offsets.nbytes) / 2**20,
        "ids_dtype": str(ids.flat.dtype),
    }
    print(kept)
    save_result(f"prep_memory_{args.size}", {"machine": machine(), "file_mb": path.stat().st_size / 2**20,
                                            "rows": len(reviews), "stages": stages, "kept": kept})


if __name__ == "__main__":
    main()
