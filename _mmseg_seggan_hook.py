"""Start-up hook of mmseg-seggan (docs/installation.md, "The start-up hook").

Installed with the package as ``mmseg_seggan-hook.pth``, whose one line runs
at every interpreter start of the environment and reads
``MMSEG_SEGGAN_NO_HOOK`` *before* it looks for this module: exactly ``1``
turns the hook off (``0``, ``true`` or anything else leaves it on). The hook
imports only the standard library, changes no module that is already
imported, and acts once each on two imports, then leaves ``sys.meta_path``
as it found it:

1. ``mmcv.ops`` is imported as it is. Only if that fails for want of a
   compiled ``mmcv._ext`` (mmcv-lite) is it imported once more with a
   stand-in ``mmcv._ext``, whose ops raise :class:`MissingMMCVOpError`
   naming the op and the fix, and which leaves ``sys.modules`` right after:
   mmcv's op modules keep it, while code asking for ``mmcv._ext`` itself
   gets ``ModuleNotFoundError`` as without the plugin, and mmengine's
   ``mmcv_full_available()`` stays False. mmseg imports ``mmcv.ops`` at
   package import, so without this every mmseg tool that imports
   ``mmseg.models`` first fails on mmcv-lite. A full mmcv, or an mmcv whose
   ``mmcv.ops`` imports without ``_ext``, never sees the stand-in.
2. ``mmengine.config.utils``, right after it is imported: the scope
   ``mmseg_seggan`` joins its ``MODULE2PACKAGE`` table, so configs anywhere
   can inherit ``mmseg_seggan::_base_/...`` (mmengine resolves scopes only
   from that table, before a config's ``custom_imports`` run); and where
   ``mmseg`` comes from a distribution not named ``mmsegmentation`` (the
   ``onedl-mmsegmentation`` fork), the ``mmseg`` entry names that one.

``import mmseg_seggan`` does both as well (too late for ``mmseg_seggan::``
bases and for tools that import ``mmseg.models`` first).
"""
import sys
import types

EXT_NAME = 'mmcv._ext'
SCOPE = 'mmseg_seggan'
# mmengine looks for ``<folder of this module>/.mim/``: the installed
# package's, or in a clone (an editable install) the committed symlinks
# ``mmseg_seggan/.mim/{configs,tools,model-index.yml}``. The name of the
# package itself would send mmengine to the distribution's site-packages,
# where an editable install has no package folder.
SCOPE_PACKAGE = 'mmseg_seggan.version'
INSTALL_HINT = ('Install full mmcv instead of mmcv-lite: '
                '`pip uninstall -y mmcv-lite && MMCV_WITH_OPS=1 pip install '
                '--no-build-isolation mmcv==2.1.0` (a ~10 minute compile on '
                'CPU; see README "Installation").')


class MissingMMCVOpError(RuntimeError):
    """A compiled mmcv op was called, but only mmcv-lite is installed."""


class _MissingOp:
    """Placeholder for one compiled op; fails loudly when called."""

    def __init__(self, name: str):
        self.__name__ = self.__qualname__ = name

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
    the import machinery keep working; mmcv's two info functions answer
    ``'n/a'``, as its ``collect_env`` says without compiled ops.
    """

    is_seggan_stub = True

    @staticmethod
    def get_compiler_version() -> str:
        return 'n/a'

    @staticmethod
    def get_compiling_cuda_version() -> str:
        return 'n/a'

    def __getattr__(self, name: str):
        if name.startswith('__') and name.endswith('__'):
            raise AttributeError(name)
        op = _MissingOp(name)
        setattr(self, name, op)
        return op


def exec_ops(exec_module, module) -> None:
    """Run ``mmcv.ops``; again with the stand-in only if ``_ext`` is missing.

    The stand-in is in ``sys.modules`` only while ``mmcv.ops`` runs.
    """
    try:
        return exec_module(module)
    except ModuleNotFoundError as e:
        if e.name != EXT_NAME or EXT_NAME in sys.modules:
            raise
    sys.modules[EXT_NAME] = ExtStub(EXT_NAME, 'mmseg_seggan stand-in')
    try:
        exec_module(module)
    finally:
        sys.modules.pop(EXT_NAME, None)


def renamed_mmseg_distribution():
    """The distribution providing ``mmseg``, if not ``mmsegmentation``."""
    from importlib import metadata
    try:
        metadata.distribution('mmsegmentation')
        return None
    except metadata.PackageNotFoundError:
        names = metadata.packages_distributions().get('mmseg', [])
        return names[0] if names else None


def add_scope(module2package) -> None:
    """Let mmengine resolve ``mmseg_seggan::`` (and the fork's ``mmseg::``).

    Args:
        module2package: mmengine's ``MODULE2PACKAGE`` (anything that is not
            a dict, e.g. None for an mmengine without it, is left alone).
    """
    if not isinstance(module2package, dict):
        return
    module2package.setdefault(SCOPE, SCOPE_PACKAGE)
    renamed = module2package.get('mmseg') == 'mmsegmentation' and \
        renamed_mmseg_distribution()
    if renamed:
        module2package['mmseg'] = renamed


def exec_then_add_scope(exec_module, module) -> None:
    exec_module(module)
    add_scope(getattr(module, 'MODULE2PACKAGE', None))


class _Finder:
    """Wraps the loading of a few modules, once each, then leaves."""

    wrappers: dict = {}

    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        wrapper = cls.wrappers.pop(fullname, None)
        if wrapper is None:
            return None
        if not cls.wrappers and cls in sys.meta_path:
            sys.meta_path.remove(cls)
        for finder in sys.meta_path:  # the real spec, from the others
            spec = finder is not cls and getattr(
                finder, 'find_spec', lambda *a: None)(fullname, path, target)
            if spec:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, 'exec_module'):
            return spec
        exec_module = loader.exec_module
        # This loader object belongs to this spec alone (a path finder makes
        # one per module), so other modules load untouched.
        loader.exec_module = lambda module: wrapper(exec_module, module)
        return spec


def install() -> None:
    """Install both services (idempotent)."""
    if 'mmcv.ops' not in sys.modules:
        _Finder.wrappers['mmcv.ops'] = exec_ops
    utils = sys.modules.get('mmengine.config.utils')
    if utils is None:
        _Finder.wrappers['mmengine.config.utils'] = exec_then_add_scope
    else:
        add_scope(getattr(utils, 'MODULE2PACKAGE', None))
    if _Finder.wrappers and _Finder not in sys.meta_path:
        sys.meta_path.insert(0, _Finder)
