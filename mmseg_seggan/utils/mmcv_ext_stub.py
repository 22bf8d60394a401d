"""Make mmseg importable on ``mmcv-lite`` (no compiled ``mmcv._ext``).

mmseg 1.2.2 imports ``mmcv.ops`` at package import time
(``mmseg/utils/mask_classification.py``), and ``mmcv.ops`` loads the compiled
extension ``mmcv._ext``, which ``mmcv-lite`` does not ship. DeepLabV3, the
losses, the datasets and ``IoUMetric`` need no compiled op, so a stand-in
module lets mmseg import; any compiled op that is then actually *called*
raises :class:`MissingMMCVOpError` naming the op and the fix.

With full mmcv installed (a real ``mmcv._ext`` exists) nothing is changed.
"""
import importlib.machinery
import importlib.util
import sys
import types

STUB_NAME = 'mmcv._ext'
INSTALL_HINT = ('Install full mmcv instead of mmcv-lite: '
                '`pip uninstall -y mmcv-lite && MMCV_WITH_OPS=1 pip install '
                '--no-build-isolation mmcv==2.1.0` (a ~10 minute compile on '
                'CPU; see README "Installation").')


class MissingMMCVOpError(RuntimeError):
    """A compiled mmcv op was called, but only mmcv-lite is installed."""


class _MissingOp:
    """Placeholder for one compiled op; fails loudly when called."""

    def __init__(self, name: str):
        self.__name__ = name
        self.__qualname__ = name

    def __call__(self, *args, **kwargs):
        raise MissingMMCVOpError(
            f'The compiled mmcv op `{self.__name__}` was called, but '
            f'`mmcv._ext` is not available (mmcv-lite is installed). '
            f'{INSTALL_HINT}')

    def __repr__(self) -> str:
        return f'<missing mmcv compiled op {self.__name__}>'


class _ExtStub(types.ModuleType):
    """Stand-in for ``mmcv._ext``: every public attribute is a missing op.

    Dunder names raise ``AttributeError`` so that ``inspect``, ``pickle`` and
    import machinery keep working.
    """

    is_seggan_stub = True

    def __getattr__(self, name: str):
        if name.startswith('__') and name.endswith('__'):
            raise AttributeError(name)
        op = _MissingOp(name)
        setattr(self, name, op)
        return op


def mmcv_ext_available() -> bool:
    """Whether a real compiled ``mmcv._ext`` is importable."""
    mod = sys.modules.get(STUB_NAME)
    if mod is not None:
        return not getattr(mod, 'is_seggan_stub', False)
    try:
        return importlib.util.find_spec(STUB_NAME) is not None
    except (ImportError, ValueError):
        return False


def install_mmcv_ext_stub() -> bool:
    """Register the stand-in ``mmcv._ext`` if the real one is missing.

    Must run before ``mmseg`` (or ``mmcv.ops``) is imported.

    Returns:
        bool: True if the stand-in is in use (now or from an earlier call).
    """
    if mmcv_ext_available():
        return False
    if STUB_NAME in sys.modules:
        return True
    stub = _ExtStub(STUB_NAME, 'mmseg_seggan stand-in for mmcv._ext')
    stub.__spec__ = importlib.machinery.ModuleSpec(STUB_NAME, loader=None)
    stub.__file__ = None
    sys.modules[STUB_NAME] = stub
    return True
