"""mmseg-seggan: SegGAN (Zhang et al., BigMM 2018) as an MMSegmentation plugin.

Importing this package (directly or through
``custom_imports=dict(imports=['mmseg_seggan'])``) registers its classes
into mmseg's registries (models, hooks, the ``SegGANRunner``, datasets,
transforms) and the ``seggan://`` checkpoint scheme, and changes nothing
else of mmengine, mmseg or torch. Two things make that possible at all,
and are also done at interpreter start by the installed
``_mmseg_seggan_hook``: on mmcv-lite, a stand-in ``mmcv._ext`` while
``mmcv.ops`` imports, so that mmseg imports; the ``mmseg_seggan::`` config
scope in mmengine's ``MODULE2PACKAGE`` table.

Every SegGAN behaviour of a run (atomic checkpoints, safe loading and
resume, the work-dir lock, the class-count check, the phase record) is
switched on by names in its config: ``runner_type='SegGANRunner'`` and the
hooks (see ``configs/_base_/default_runtime.py``).
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
