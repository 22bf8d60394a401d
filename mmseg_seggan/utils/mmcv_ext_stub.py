"""Make mmseg importable on ``mmcv-lite``: ``_mmseg_seggan_hook`` stubs
``mmcv._ext``; a compiled op then raises :class:`MissingMMCVOpError`."""
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
