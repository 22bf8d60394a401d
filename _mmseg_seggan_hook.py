"""Start-up hook of mmseg-seggan: two narrow import-time services.

Installed with the package as ``mmseg_seggan-hook.pth`` (one line that runs
``install()``), so it runs at every interpreter start of the environment.
It imports nothing but the standard library, changes no module that is
already imported, and acts once each on two imports:

1. ``mmcv.ops``, on **mmcv-lite only** (no real ``mmcv._ext`` exists): just
   before ``mmcv.ops`` is imported, a stand-in ``mmcv._ext`` is put in
   ``sys.modules``, whose ops raise :class:`MissingMMCVOpError` naming the
   op and how to install full mmcv. mmseg imports ``mmcv.ops`` at package
   import, so on mmcv-lite every mmseg tool that imports ``mmseg.models``
   at its top (``print_config.py``, ``benchmark.py``, ``demo/image_demo.py``)
   failed before it could read a config. The stand-in answers mmcv's two
   info functions (``get_compiler_version`` and
   ``get_compiling_cuda_version``: ``'n/a'``), so ``mmcv.utils.
   collect_env()`` works, and it has no loader, so mmengine's
   ``mmcv_full_available()`` stays False. With full mmcv nothing happens.
2. ``mmengine.config.utils``, right after it is imported: the config scope
   ``mmseg_seggan`` is added to mmengine's ``MODULE2PACKAGE`` table, so a
   config anywhere can inherit the package's configs with
   ``_base_ = ['mmseg_seggan::_base_/seggan_defaults.py']`` (mmengine
   resolves ``<scope>::`` only for the scopes in that table, and before the
   config's ``custom_imports`` could add one). An mmengine without that
   table is left alone.

Set ``MMSEG_SEGGAN_NO_HOOK=1`` to turn both off; ``import mmseg_seggan``
then still does both, when it is imported (too late for ``mmseg_seggan::``
bases and for tools that import ``mmseg.models`` first).
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

    @staticmethod
    def get_compiler_version() -> str:
        return 'n/a'  # what mmcv's collect_env says without compiled ops

    @staticmethod
    def get_compiling_cuda_version() -> str:
        return 'n/a'

    def __getattr__(self, name: str):
        if name.startswith('__') and name.endswith('__'):
            raise AttributeError(name)
        op = _MissingOp(name)
        setattr(self, name, op)
        return op


def new_stub() -> ExtStub:
    """A fresh stand-in module with a real ``__spec__``.

    The spec has no loader: ``pkgutil.find_loader('mmcv._ext')`` (how
    mmengine's ``mmcv_full_available()`` asks) then answers None.
    """
    stub = ExtStub(EXT_NAME, 'mmseg_seggan stand-in for mmcv._ext')
    stub.__spec__ = importlib.machinery.ModuleSpec(
        EXT_NAME, None, origin='mmseg_seggan stand-in')
    stub.__file__ = None
    return stub


class _OpsFinder:
    """Puts the stand-in in place just before ``mmcv.ops`` loads (once).

    It finds nothing itself: the real ``mmcv.ops`` is then found as usual.
    """

    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        if fullname != 'mmcv.ops':
            return None
        if cls in sys.meta_path:
            sys.meta_path.remove(cls)  # one shot
        try:
            if EXT_NAME not in sys.modules and real_ext_spec() is None:
                sys.modules[EXT_NAME] = new_stub()
        except Exception:  # never break an import of someone else's
            pass
        return None


def real_ext_spec():
    """The spec of a real ``mmcv._ext`` (None on mmcv-lite).

    Asks every finder but this module's, so the stand-in never counts.
    """
    try:
        import mmcv
    except ImportError:
        return None
    for finder in sys.meta_path:
        if finder in (_OpsFinder, _ScopeFinder) or \
                not hasattr(finder, 'find_spec'):
            continue
        try:
            spec = finder.find_spec(EXT_NAME, mmcv.__path__)
        except (ImportError, ValueError):
            spec = None
        if spec is not None:
            return spec
    return None


def add_scope(module2package) -> None:
    """Let mmengine resolve ``mmseg_seggan::`` config paths.

    Args:
        module2package: mmengine's ``MODULE2PACKAGE`` (anything that is not
            a dict, e.g. None for an mmengine without it, is left alone).
    """
    if isinstance(module2package, dict):
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
            add_scope(getattr(module, 'MODULE2PACKAGE', None))

        # This loader object belongs to this spec alone (a path finder makes
        # one per module), so mmengine's other modules load untouched.
        loader.exec_module = exec_and_add_scope
        return spec


def install() -> None:
    """Install both services (idempotent; no-op with MMSEG_SEGGAN_NO_HOOK)."""
    if os.environ.get('MMSEG_SEGGAN_NO_HOOK'):
        return
    if 'mmcv.ops' not in sys.modules and _OpsFinder not in sys.meta_path:
        sys.meta_path.insert(0, _OpsFinder)
    utils = sys.modules.get('mmengine.config.utils')
    if utils is not None:
        add_scope(getattr(utils, 'MODULE2PACKAGE', None))
    elif _ScopeFinder not in sys.meta_path:
        sys.meta_path.insert(0, _ScopeFinder)
