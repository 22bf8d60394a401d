#!/usr/bin/env bash
# README command 1: install what the demo needs into .venv (the test extras
# are left to tools/run_tests.sh), then run the demo: baseline || SegGAN
# phase 1, then SegGAN phase 2 || CE-only control, then tools/test.py, on
# generated ToyScenes, and print the mIoU table (the same on every machine
# of the same kind: one thread per run, seeded, deterministic).
#   bash tools/run_demo.sh [--work-dir D] [--jobs N]
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS= bash tools/setup_env.sh .venv
exec .venv/bin/python tools/misc/seggan_demo.py "$@"
