#!/usr/bin/env bash
# README command 1: install everything into .venv, then run the demo
# (baseline -> SegGAN phase 1 + 2 -> CE-only control -> test) on generated
# ToyScenes and print the mIoU table.  bash tools/run_demo.sh [--work-dir D]
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh .venv
exec .venv/bin/python tools/misc/seggan_demo.py "$@"
