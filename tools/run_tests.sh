#!/usr/bin/env bash
# README command 2 (and CI): install everything and run the test suite on
# both stacks and both mmcv flavours:
#   1. .venv, OpenMMLab's stack with mmcv-lite: the whole suite;
#   2. .venv-onedl, the maintained onedl-* fork (onedl-mmcv without compiled
#      ops, installed in seconds): the model, engine, drop-in and
#      reliability tests;
#   3. .venv-mmcv, OpenMMLab's stack with full mmcv compiled from source
#      (about 12 minutes on 2 cores the first time, a no-op after): the
#      compatibility tests (package import, models, drop-in training with
#      mmseg's own train.py).
#   bash tools/run_tests.sh [pytest args]      (args go to the first run)
# RUN_ONEDL=0 skips step 2, RUN_FULL_MMCV=0 step 3.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh .venv
# Tools that call `python` (dist_train.sh) get the environment under test.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
status=0
PATH="$PWD/.venv/bin:$PATH" SEGGAN_EXPECT_MMCV=lite .venv/bin/python -m pytest \
  -q -p no:cacheprovider "$@" || status=$?
if [ "${RUN_ONEDL:-1}" = 1 ] && [ $status -eq 0 ]; then
  STACK=onedl bash tools/setup_env.sh .venv-onedl
  PATH="$PWD/.venv-onedl/bin:$PATH" .venv-onedl/bin/python -m pytest -q \
    -p no:cacheprovider tests/test_models tests/test_engine \
    tests/test_tools/test_drop_in.py tests/test_reliability || status=$?
fi
if [ "${RUN_FULL_MMCV:-1}" = 1 ] && [ $status -eq 0 ]; then
  MMCV=full bash tools/setup_env.sh .venv-mmcv
  PATH="$PWD/.venv-mmcv/bin:$PATH" SEGGAN_EXPECT_MMCV=full \
    .venv-mmcv/bin/python -m pytest -q -p no:cacheprovider \
    tests/test_utils tests/test_models tests/test_tools/test_drop_in.py \
    || status=$?
fi
exit $status
