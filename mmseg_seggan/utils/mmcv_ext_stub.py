"""Make mmseg importable on ``mmcv-lite`` (no compiled ``mmcv._ext``).

mmseg 1.2.2 imports ``mmcv.ops`` at package import time
(``mmseg/utils/mask_classification.py``), and ``mmcv.ops`` loads the compiled
extension ``mmcv._ext``, which ``mmcv-lite`` does not ship. DeepLabV3, the
losses, the datasets and ``IoUMetric`` need no compiled op, so ``mmcv.ops``
is imported with a stand-in ``mmcv._ext`` where it fails without one; any
compiled op that is then *called* raises :class:`MissingMMCVOpError` naming
the op and the fix. The stand-in is in ``sys.modules`` only while
``mmcv.ops`` is imported.

It is defined once, in the start-up hook ``_mmseg_seggan_hook`` (run by a
``.pth`` file, so that mmseg's own tools find it even when they import
``mmseg.models`` before reading a config). Importing ``mmseg_seggan`` does
the hook's work too, for interpreters that ran no ``.pth`` (``python -S``,
``MMSEG_SEGGAN_NO_HOOK=1``, a clone on ``PYTHONPATH``).
"""
import importlib.util

from _mmseg_seggan_hook import EXT_NAME as STUB_NAME
from _mmseg_seggan_hook import INSTALL_HINT
from _mmseg_seggan_hook import ExtStub as _ExtStub
from _mmseg_seggan_hook import MissingMMCVOpError, install


def mmcv_ext_available() -> bool:
    """Whether a real compiled ``mmcv._ext`` is importable."""
    try:
        return importlib.util.find_spec(STUB_NAME) is not None
    except (ImportError, ValueError):
        return False


def install_mmcv_ext_stub() -> None:
    """Let ``mmcv.ops`` fall back to the stand-in when it is imported next.

    Must run before ``mmseg`` (or ``mmcv.ops``) is imported; adds the config
    scopes too (the start-up hook's work, see ``_mmseg_seggan_hook``).
    """
    install()


__all__ = [
    'STUB_NAME', 'INSTALL_HINT', 'MissingMMCVOpError', '_ExtStub',
    'install_mmcv_ext_stub', 'mmcv_ext_available'
]
