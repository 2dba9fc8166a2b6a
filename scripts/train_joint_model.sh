#!/usr/bin/env bash
# The shipped joint text-audio model, from nothing: render the pairs, train, fine-tune, export.
# About 75 minutes on 2 cores (renders ~60 %, training ~40 %). Usage: bash scripts/train_joint_model.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p build
[ -f build/corpus.jsonl ] || $PY -m training.corpus --out build/corpus.jsonl  # music21 pieces for the starter set
for spec in "3000 1 joint_train" "3000 3 joint_train_b" "3000 4 joint_train_c" "400 2 joint_heldout" "400 5 joint_heldout_b"; do
  set -- $spec
  [ -f "build/$3.npz" ] || $PY -m training.joint_data --count "$1" --seed "$2" --out "build/$3.npz"
done
A=build/joint_train.npz B=build/joint_train_b.npz C=build/joint_train_c.npz
# 1. from random weights on 6,000 pairs
$PY -m training.train_joint --out build/joint_stage1 --train "$A,$B" --batch 40 --steps 2500 --instance-weight 2
# 2. fine-tuned with half the batches drawn from one genre (harder negatives for the same-piece loss)
$PY -m training.train_joint --out build/joint_stage2 --init build/joint_stage1 --train "$A,$B" \
  --same-genre 0.5 --instance-weight 2 --lr 5e-4 --warmup 50 --steps 1000 --batch 40
# 3. the same on all 9,000 pairs
$PY -m training.train_joint --out build/joint --init build/joint_stage2 --train "$A,$B,$C" \
  --same-genre 0.5 --instance-weight 2 --lr 3e-4 --warmup 50 --steps 1500 --batch 40
$PY -m onnx_export.joint_embedding --checkpoint build/joint --out-dir mtm_daw/weights
$PY -m training.starter_set
$PY benchmarks/quality_library.py
