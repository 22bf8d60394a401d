"""Make mmseg importable on ``mmcv-lite`` (no compiled ``mmcv._ext``).

mmseg imports ``mmcv.ops``, which loads ``mmcv._ext``. The start-up hook
``_mmseg_seggan_hook`` (also run by importing ``mmseg_seggan``) lets it
import a stand-in while ``mmcv.ops`` imports; a compiled op then called
raises :class:`MissingMMCVOpError` naming the op and the fix.
"""
import importlib.util

from _mmseg_seggan_hook import EXT_NAME
from _mmseg_seggan_hook import ExtStub as _ExtStub
from _mmseg_seggan_hook import MissingMMCVOpError


def mmcv_ext_available() -> bool:
    """Whether a real compiled ``mmcv._ext`` is importable."""
    try:
        return importlib.util.find_spec(EXT_NAME) is not None
    except (ImportError, ValueError):
        return False


__all__ = ['MissingMMCVOpError', '_ExtStub', 'mmcv_ext_available']
