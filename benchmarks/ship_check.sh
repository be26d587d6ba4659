#!/usr/bin/env bash
# The classifier ship rules (docs/ship_rules/*.md, rules 1-4) for one candidate against the shipped model, in one
# command, each figure's log kept beside the candidate so the note can quote it.
#
#   bash benchmarks/ship_check.sh runs/v18/leafscout.onnx            # logs in runs/v18/ship_check/
#   bash benchmarks/ship_check.sh CANDIDATE.onnx [BASELINE.onnx]     # baseline default: model/leafscout.onnx
#
# Rule 1: the paired gate over all ten val sets (benchmarks/compare_models.py --gate paired).
# Rule 2: rice_leaf_ph val, the product's answer (`leafscout diagnose --json`, with and without --crop rice):
#         right, and rice photos answered ok with another crop's label (must be 0).
# Rule 3: non-plant fixtures, leaf val flagged, quadrant crops (benchmarks/ood_eval.py).
# Rule 4: PlantVillage JPEG-25-small drop (benchmarks/answer_eval.py).
# The thresholds themselves live in the round's rule file, written before the candidate exists; this script only
# measures. ~3 min on 2 quiet cores. Needs ../shared/datasets (or LEAFSCOUT_DATA).
set -euo pipefail
cd "$(dirname "$0")/.."

cand=${1:?usage: bash benchmarks/ship_check.sh CANDIDATE.onnx [BASELINE.onnx]}
base=${2:-model/leafscout.onnx}
data=${LEAFSCOUT_DATA:-../shared/datasets}
for f in "$cand" "$base"; do
  [ -f "$f" ] || { echo "ship_check: no such model file: $f (expected an .onnx written by training.finalize)" >&2; exit 2; }
done
[ -d "$data/rice_leaf_ph/val" ] || { echo "ship_check: $data/rice_leaf_ph/val not found: set LEAFSCOUT_DATA to the datasets folder" >&2; exit 2; }
out="$(dirname "$cand")/ship_check"
mkdir -p "$out"

echo "== rule 1: paired gate ($cand vs $base)"
python benchmarks/compare_models.py "$base" "$cand" --gate paired --data "$data" > "$out/compare.log" 2>&1 || true
grep -E "SHIP|fixed|p =|p=" "$out/compare.log" | tail -15

echo "== rule 2: rice_leaf_ph val, the product's answer"
for m in "$base" "$cand"; do
  for crop in "" rice; do
    tag=$(basename "$(dirname "$m")")-${crop:-nocrop}
    leafscout diagnose --json --threads 2 --model "$m" ${crop:+--crop "$crop"} "$data/rice_leaf_ph/val" \
      > "$out/rice-$tag.jsonl" 2> "$out/rice-$tag.err" || true
    python benchmarks/rice_answers.py "$out/rice-$tag.jsonl" --label "$m ${crop:+--crop rice}"
  done
done

echo "== rule 3: non-plant, leaf flagged, quadrants"
python benchmarks/ood_eval.py --model "$cand" --data "$data" > "$out/ood.log" 2>&1 || true
grep -E "^NON-LEAF|^  ALL|^PlantVillage no-leaf" "$out/ood.log"

echo "== rule 4: JPEG-25-small"
python benchmarks/answer_eval.py "$base" "$cand" --data-root "$data" \
  --datasets plantvillage chilli_leaf coffee_bracol rice_leaf_ph > "$out/answer.log" 2>&1 || true
tail -14 "$out/answer.log"
echo "logs: $out/"
