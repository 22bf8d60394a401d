#!/usr/bin/env bash
# README command 1: install what the demo needs into .venv (the test extras
# are left to tools/run_tests.sh), then run the demo: baseline || SegGAN
# phase 1, then SegGAN phase 2 || CE-only control, then tools/test.py, on
# generated ToyScenes, and print the mIoU table (bit-identical for the same
# CPU capability, thread count and versions; the demo prints its capability
# and whether the table is inside the band measured across capabilities).
#   bash tools/run_demo.sh [--work-dir D] [--jobs N]
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS= bash tools/setup_env.sh .venv
exec .venv/bin/python tools/misc/seggan_demo.py "$@"
