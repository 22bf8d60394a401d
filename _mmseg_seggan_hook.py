"""Start-up hook of mmseg-seggan: two narrow import-time services.

Installed with the package as ``mmseg_seggan-hook.pth`` (one line: ``import
_mmseg_seggan_hook; _mmseg_seggan_hook.install()``), so it runs at every
interpreter start of the environment. It imports nothing but the standard
library and acts only on two module names:

1. ``mmcv._ext`` when it is imported and **no other finder has it** (only
   ``mmcv-lite`` is installed): a stand-in module whose ops raise
   :class:`MissingMMCVOpError` naming the op and how to install full mmcv.
   mmseg imports ``mmcv.ops`` at package import, so on mmcv-lite every
   mmseg tool that imports ``mmseg.models`` at its top (``print_config.py``,
   ``get_flops.py``, ``benchmark.py``, ``demo/image_demo.py``) failed
   before it could read a config. With full mmcv installed the real module
   is found first and this finder is never asked.
2. ``mmengine.config.utils`` right after it is imported: the config scope
   ``mmseg_seggan`` is added to mmengine's ``MODULE2PACKAGE`` table, so a
   config anywhere can inherit the package's configs with
   ``_base_ = ['mmseg_seggan::_base_/seggan_defaults.py']`` (mmengine
   resolves ``<scope>::`` only for the scopes in that table, and before the
   config's ``custom_imports`` could add one).

Set ``MMSEG_SEGGAN_NO_HOOK=1`` to turn both off; ``import mmseg_seggan``
then still installs the stand-in and the scope (as before this hook
existed), only later.
"""
import importlib.machinery
import os
import sys
import types

EXT_NAME = 'mmcv._ext'
SCOPE = 'mmseg_seggan'
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


class ExtStub(types.ModuleType):
    """Stand-in for ``mmcv._ext``: every public attribute is a missing op.

    Dunder names raise ``AttributeError`` so that ``inspect``, ``pickle`` and
    the import machinery keep working.
    """

    is_seggan_stub = True

    def __getattr__(self, name: str):
        if name.startswith('__') and name.endswith('__'):
            raise AttributeError(name)
        op = _MissingOp(name)
        setattr(self, name, op)
        return op


def new_stub() -> ExtStub:
    """A fresh stand-in module with a real ``__spec__``."""
    stub = ExtStub(EXT_NAME, 'mmseg_seggan stand-in for mmcv._ext')
    stub.__spec__ = importlib.machinery.ModuleSpec(
        EXT_NAME, _ExtFinder, origin='mmseg_seggan stand-in')
    stub.__file__ = None
    return stub


class _ExtFinder:
    """Supplies ``mmcv._ext`` when nothing else does (last on meta_path)."""

    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        if fullname != EXT_NAME:
            return None
        return importlib.machinery.ModuleSpec(
            EXT_NAME, cls, origin='mmseg_seggan stand-in')

    @staticmethod
    def create_module(spec):
        return new_stub()

    @staticmethod
    def exec_module(module):
        pass


def real_ext_spec():
    """The spec of a real ``mmcv._ext`` (None on mmcv-lite).

    Asks every finder but this module's, so the stand-in never counts.
    """
    try:
        import mmcv
    except ImportError:
        return None
    for finder in sys.meta_path:
        if finder is _ExtFinder or not hasattr(finder, 'find_spec'):
            continue
        try:
            spec = finder.find_spec(EXT_NAME, mmcv.__path__)
        except (ImportError, ValueError):
            spec = None
        if spec is not None:
            return spec
    return None


def add_scope(module2package: dict) -> None:
    """Let mmengine resolve ``mmseg_seggan::`` config paths."""
    module2package.setdefault(SCOPE, SCOPE)


class _ScopeFinder:
    """Adds the scope right after ``mmengine.config.utils`` runs (once)."""

    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        if fullname != 'mmengine.config.utils':
            return None
        if cls in sys.meta_path:
            sys.meta_path.remove(cls)  # one shot
        for finder in sys.meta_path:
            if not hasattr(finder, 'find_spec'):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, 'exec_module'):
            return spec
        exec_module = loader.exec_module

        def exec_and_add_scope(module):
            exec_module(module)
            add_scope(module.MODULE2PACKAGE)

        # This loader object belongs to this spec alone (a path finder makes
        # one per module), so mmengine's other modules load untouched.
        loader.exec_module = exec_and_add_scope
        return spec


def install() -> None:
    """Install both services (idempotent; no-op with MMSEG_SEGGAN_NO_HOOK)."""
    if os.environ.get('MMSEG_SEGGAN_NO_HOOK'):
        return
    if _ExtFinder not in sys.meta_path:
        sys.meta_path.append(_ExtFinder)
    utils = sys.modules.get('mmengine.config.utils')
    if utils is not None:
        add_scope(utils.MODULE2PACKAGE)
    elif _ScopeFinder not in sys.meta_path:
        sys.meta_path.insert(0, _ScopeFinder)
