"""Make mmseg importable on ``mmcv-lite`` (no compiled ``mmcv._ext``).

mmseg 1.2.2 imports ``mmcv.ops`` at package import time
(``mmseg/utils/mask_classification.py``), and ``mmcv.ops`` loads the compiled
extension ``mmcv._ext``, which ``mmcv-lite`` does not ship. DeepLabV3, the
losses, the datasets and ``IoUMetric`` need no compiled op, so a stand-in
module lets mmseg import; any compiled op that is then actually *called*
raises :class:`MissingMMCVOpError` naming the op and the fix.

The stand-in is defined once, in the start-up hook ``_mmseg_seggan_hook``
(installed beside the package with a ``.pth`` file, so that mmseg's own
tools find it even when they import ``mmseg.models`` before reading a
config). Importing ``mmseg_seggan`` installs it too, for environments that
do not run ``.pth`` files (``python -S``, ``MMSEG_SEGGAN_NO_HOOK=1``, a
clone on ``PYTHONPATH``).

With full mmcv installed (a real ``mmcv._ext`` exists) nothing is changed.
"""
import sys

from _mmseg_seggan_hook import EXT_NAME as STUB_NAME
from _mmseg_seggan_hook import INSTALL_HINT
from _mmseg_seggan_hook import ExtStub as _ExtStub
from _mmseg_seggan_hook import MissingMMCVOpError, new_stub, real_ext_spec


def mmcv_ext_available() -> bool:
    """Whether a real compiled ``mmcv._ext`` is importable."""
    mod = sys.modules.get(STUB_NAME)
    if mod is not None:
        return not getattr(mod, 'is_seggan_stub', False)
    return real_ext_spec() is not None


def install_mmcv_ext_stub() -> bool:
    """Register the stand-in ``mmcv._ext`` if the real one is missing.

    Must run before ``mmseg`` (or ``mmcv.ops``) is imported.

    Returns:
        bool: True if the stand-in is in use (now or from an earlier call).
    """
    if mmcv_ext_available():
        return False
    if STUB_NAME not in sys.modules:
        sys.modules[STUB_NAME] = new_stub()
    return True


__all__ = [
    'STUB_NAME', 'INSTALL_HINT', 'MissingMMCVOpError', '_ExtStub',
    'install_mmcv_ext_stub', 'mmcv_ext_available'
]
