#!/usr/bin/env bash
# README command 2: install everything into .venv and run the test suite.
#   bash tools/run_tests.sh [pytest args]
# With RUN_FULL_MMCV=1 it also builds full mmcv in .venv-mmcv and runs the
# compatibility tests there (adds ~10 minutes the first time).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh .venv
# Tools that call `python` (dist_train.sh) get the environment just built.
export PATH="$PWD/.venv/bin:$PATH"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
status=0
.venv/bin/python -m pytest -q -p no:cacheprovider "$@" || status=$?
if [ "${RUN_FULL_MMCV:-0}" = 1 ] && [ $status -eq 0 ]; then
  MMCV=full bash tools/setup_env.sh .venv-mmcv
  .venv-mmcv/bin/python -m pytest -q -p no:cacheprovider \
    tests/test_utils tests/test_models tests/test_tools/test_drop_in.py \
    || status=$?
fi
exit $status
