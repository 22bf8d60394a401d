#!/usr/bin/env bash
# Create (or reuse) a virtual environment with everything mmseg-seggan needs,
# pinned to what resolves on a CPU machine today (see README "Installation").
#
#   bash tools/setup_env.sh [VENV_DIR]        (default: .venv)
#   MMCV=full bash tools/setup_env.sh .venv-mmcv   # compiled mmcv (~10 min)
#   STACK=onedl bash tools/setup_env.sh .venv-onedl  # the onedl-* fork
#   EXTRAS= bash tools/setup_env.sh           # without the test extras (demo)
#
# STACK=openmmlab (default): mmengine 0.10.7, mmsegmentation 1.2.2, mmcv-lite
# 2.1.0 (or MMCV=full). STACK=onedl: the maintained fork, onedl-mmengine,
# onedl-mmsegmentation, onedl-mmcv (built without compiled ops in seconds).
# Both install the same import names: a venv holding the other stack is
# refused, never overwritten.
#
# Prints nothing but pip's errors; safe to run again (a no-op when done).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-${VENV:-.venv}}
MMCV=${MMCV:-lite}
EXTRAS=${EXTRAS-tests}
PYTHON=${PYTHON:-python3}

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
# pip's "Location 'file:///...' is ignored" warnings (a machine-wide
# find-links that does not exist) are noise; everything else pip says stays.
pip_install() {
  "$PY" -m pip install -q --disable-pip-version-check "$@" \
    2> >(grep -v "^WARNING: Location 'file://" >&2)
}
PIP=pip_install

# torch first and pinned: 2.13.0 is the CPU build on this machine's disk; an
# unpinned torch would pull a multi-GB CUDA build.
$PIP 'torch==2.13.0' 'setuptools>=77,<81' wheel
STACK=${STACK:-openmmlab}
other=$($PY - "$STACK" <<'PY'
import importlib.metadata as m, sys
names = dict(openmmlab=('onedl-mmengine', 'onedl-mmsegmentation', 'onedl-mmcv'),
             onedl=('mmengine', 'mmsegmentation', 'mmcv', 'mmcv-lite'))
for name in names.get(sys.argv[1], ()):
    try:
        print(f'{name}=={m.version(name)}')
    except m.PackageNotFoundError:
        pass
PY
)
if [ -n "$other" ]; then
  echo "setup_env.sh: $VENV already holds the other stack ($(echo $other)); STACK=$STACK" \
    "would install the same import names over it. Use another VENV_DIR." >&2
  exit 1
fi
case "$STACK" in
openmmlab)
  $PIP 'mmengine==0.10.7' 'mmsegmentation==1.2.2'
  # mmcv: never install one flavour over the other (both own mmcv/).
  have_mmcv=$($PY - <<'PY'
import importlib.metadata as m
for name in ('mmcv', 'mmcv-lite'):
    try:
        m.version(name)
        print(name)
        break
    except m.PackageNotFoundError:
        pass
PY
)
  if [ "$MMCV" = full ]; then
    if [ "$have_mmcv" = mmcv-lite ]; then
      $PY -m pip uninstall -q -y mmcv-lite
    fi
    if [ "$have_mmcv" != mmcv ]; then
      echo "Building full mmcv 2.1.0 from source (about 10 minutes on 2 cores)..."
      MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-2} $PIP --no-build-isolation 'mmcv==2.1.0'
    fi
  elif [ -z "$have_mmcv" ]; then
    $PIP 'mmcv-lite==2.1.0'
  fi
  ;;
onedl)
  # onedl-mmcv in pip's isolated build (no torch there): no compiled ops,
  # about 10 s.
  $PIP 'onedl-mmengine==0.10.12' 'onedl-mmsegmentation==1.4.2' 'onedl-mmcv==2.3.6'
  ;;
*)
  echo "setup_env.sh: STACK=$STACK; use STACK=openmmlab (default) or STACK=onedl." >&2
  exit 2
  ;;
esac

# Editable: the clone is the package (its configs/ and tools/ by path); the
# install also adds the start-up hook (mmseg_seggan-hook.pth, see README).
# mmengine/mmseg/mmcv are not in its install_requires: the stack above stays.
$PIP --no-build-isolation -e ".${EXTRAS:+[$EXTRAS]}"
$PY -c "import mmseg_seggan, mmseg, mmengine, torch; print('mmseg-seggan', mmseg_seggan.__version__, '| torch', torch.__version__, '| mmengine', mmengine.__version__, '| mmseg', mmseg.__version__)" 2>/dev/null
