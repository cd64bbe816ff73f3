#!/usr/bin/env bash
# Train the four shipped checkpoints side by side on one GPU. The models are small, so four runs share
# the card and keep it busy while CPU workers build maze batches. Each run stops cleanly after LEG
# seconds and saves; running the script again resumes every run where it stopped (with or without its
# optimizer state). Example:  RUNS=runs/gpu LEG=540 MAZE_STEPS=24000 TEXT_STEPS=12000 bash train/train_all.sh
set -u
RUNS=${RUNS:-runs/gpu}
LEG=${LEG:-540}
DEVICE=${DEVICE:-cuda}
MAZE_STEPS=${MAZE_STEPS:-24000}
TEXT_STEPS=${TEXT_STEPS:-12000}
EVAL_N=${EVAL_N:-500}
WORKERS=${WORKERS:-6}
mkdir -p "$RUNS"
run="--device $DEVICE --time-limit $LEG --resume --n-layer 6 --n-embd 192 --n-head 6"
maze="--steps $MAZE_STEPS --batch-size 256 --lr 1.5e-3 --warmup 300 --eval-every 2000 --eval-n $EVAL_N --workers $WORKERS"
text="--steps $TEXT_STEPS --batch-size 64 --lr 1e-3 --warmup 300 --eval-every 1000 --dropout 0.2"
python3 -m train maze --order random --out "$RUNS/maze" $run $maze >"$RUNS/maze.log" 2>&1 &
python3 -m train maze --order l2r --out "$RUNS/maze-l2r" $run $maze >"$RUNS/maze-l2r.log" 2>&1 &
python3 -m train text --curriculum 0 $((TEXT_STEPS * 4 / 3)) --out "$RUNS/text" $run $text >"$RUNS/text.log" 2>&1 &
python3 -m train text --order l2r --out "$RUNS/text-l2r" $run $text >"$RUNS/text-l2r.log" 2>&1 &
wait
for name in maze maze-l2r text text-l2r; do
    echo "== $name"
    tr '\r' '\n' <"$RUNS/$name.log" | grep '^{' | tail -4
    tail -c 400 "$RUNS/$name.log" | tr '\r' '\n' | tail -3
done
