#!/usr/bin/env bash
# One command for a lent H100-class GPU: the English default on Google Play and CLAP and the Chinese default
# (+experiment=chinese) on the whole online-shopping file, trainer=gpu in bf16-mixed, one seed (42); then the model /
# TF-IDF / blend rows (bench/blend_rules.py), training reviews/s and the model FLOP utilisation (bench/gpu_suite.py).
#
#   bash bench/gpu_suite.sh --data-root shared/data --peak-tflops 989
#
# --data-root   a folder laid out like ../shared/data (google_play_reviews/, clap_reviews/, online_shopping_10_cats/);
#               on the GPU machine a shared/ folder inside the repository or a carried path
# --peak-tflops the GPU's dense bf16 peak (H100 SXM 989, H100 PCIe 756, H200 989)
# --out         where the run folders go (<out>/<recipe>/<set>/42/...); default bench/results/gpu_suite
# --trainer     gpu (bf16-mixed) or cpu (32-true), for the dry run
# --english-model / --chinese-model   model.pretrained of the English / Chinese runs (default: each recipe's own)
# -- key=value  overrides added to every run (the dry run: trainer.max_epochs=1 trainer.min_epochs=1)
#
# CPU dry run on tiny files with the tiny random BERT (tests/unit/bench/test_gpu_suite.py runs it):
#   bash bench/gpu_suite.sh --data-root <tiny files> --trainer cpu --out <dir> --english-model <tiny bert> \
#       --chinese-model <tiny bert> -- trainer.max_epochs=1 trainer.min_epochs=1
set -euo pipefail

data_root=../shared/data
peak_tflops=989
out=bench/results/gpu_suite
trainer=gpu
english_model=
chinese_model=
while [ $# -gt 0 ]; do
  case "$1" in
    --data-root) data_root=$2; shift 2 ;;
    --peak-tflops) peak_tflops=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --trainer) trainer=$2; shift 2 ;;
    --english-model) english_model=$2; shift 2 ;;
    --chinese-model) chinese_model=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "error: unknown argument '$1' (see the top of $0)" >&2; exit 2 ;;
  esac
done
extra=("$@")
case "$trainer" in
  gpu) precision=(trainer.precision=bf16-mixed) ;;
  cpu) precision=() ;;
  *) echo "error: --trainer is gpu or cpu, got '$trainer'" >&2; exit 2 ;;
esac
for file in google_play_reviews/dataset_unbalanced_4000.xlsx clap_reviews/clap_rq1_reviews.csv \
            online_shopping_10_cats/online_shopping_10_cats.csv; do
  [ -f "$data_root/$file" ] || { echo "error: '$data_root/$file' is missing (--data-root)" >&2; exit 2; }
done

# train RECIPE SET MODEL OVERRIDES...: one run, its folder under $out/RECIPE/SET/42, with the fit timer; its output
# goes to $out/RECIPE-SET.log, whose end is shown if it fails
train() {
  local recipe=$1 name=$2 model=$3 begun=$SECONDS
  shift 3
  local log="$out/$recipe-$name.log"
  mkdir -p "$out"
  if ! python -m review_cls.train "$@" ${model:+model.pretrained=$model} trainer="$trainer" "${precision[@]}" \
      seed=42 "paths.log_dir=$out/$recipe/$name/42" callbacks.progress_bar=null \
      "+callbacks.fit_timer={_target_:bench.gpu_suite.FitTimer,path:\${paths.output_dir}/fit_timing.json}" \
      "${extra[@]}" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "error: the $recipe run on $name failed (whole output: $log)" >&2
    exit 1
  fi
  echo "$recipe on $name: $((SECONDS - begun)) s (start-up, data, training, test, calibration, TF-IDF, reports)" >&2
}

started=$SECONDS
train english google_play "$english_model" data=google_play \
  "data.path=$data_root/google_play_reviews/dataset_unbalanced_4000.xlsx"
train english clap "$english_model" data=file "data.path=$data_root/clap_reviews/clap_rq1_reviews.csv" \
  data.text_column=review data.label_column=category
train chinese shopping_zh "$chinese_model" data=shopping_zh +experiment=chinese \
  "data.path=$data_root/online_shopping_10_cats/online_shopping_10_cats.csv"
echo "three runs: $((SECONDS - started)) s" >&2
python -m bench.gpu_suite "$out" --peak-tflops "$peak_tflops"
