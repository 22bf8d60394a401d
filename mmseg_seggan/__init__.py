"""mmseg-seggan: SegGAN (Zhang et al., BigMM 2018) as an MMSegmentation plugin.

Importing it registers its classes in mmseg's registries and the
``seggan://`` scheme, and changes nothing else. ``_mmseg_seggan_hook``
(also run at interpreter start) stands in ``mmcv._ext`` on mmcv-lite and
adds the ``mmseg_seggan::`` scope to mmengine's ``MODULE2PACKAGE``.
"""
# isort: off
from _mmseg_seggan_hook import install as _install_hook

_install_hook()  # the start-up hook's work (if no .pth did it), before mmseg
try:  # no hard requirement: OpenMMLab's stack and the onedl-* fork collide
    import mmseg  # noqa: F401  (it imports mmcv and mmengine)
except ModuleNotFoundError as e:
    if e.name.split('.')[0] not in ('mmseg', 'mmengine', 'mmcv'):
        raise
    raise ModuleNotFoundError(
        f'mmseg_seggan needs MMSegmentation 1.x, MMEngine and MMCV ({e}). '
        "Install one stack: pip install 'mmseg-seggan[openmmlab]' "
        "mmcv-lite==2.1.0 (OpenMMLab's), or pip install "
        "'mmseg-seggan[onedl]' (the onedl-* fork).",
        name=e.name) from e
from . import datasets, engine, evaluation, models, registry  # noqa: E402,F401
from .version import __version__  # noqa: E402
# isort: on

__all__ = [
    '__version__', 'datasets', 'engine', 'evaluation', 'models', 'registry'
]
