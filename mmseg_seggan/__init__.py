"""mmseg-seggan: SegGAN (Zhang et al., BigMM 2018) as an MMSegmentation plugin.

Importing this package (directly or through
``custom_imports=dict(imports=['mmseg_seggan'])``) first makes mmseg
importable on mmcv-lite, then installs safe checkpoint loading and
crash-safe checkpoint saving, then registers the SegGAN models, hooks,
optimizer constructor and datasets into mmseg's registries, and gives
every Runner the check that its heads fit the dataset's classes.
"""
# isort: off
from .utils.mmcv_ext_stub import install_mmcv_ext_stub

install_mmcv_ext_stub()  # must run before mmseg imports mmcv.ops

from .utils.atomic_checkpoint import (  # noqa: E402
    install_atomic_checkpoint_saving)
from .utils.safe_loading import (  # noqa: E402
    register_safe_checkpoint_loading)

register_safe_checkpoint_loading()  # weights-only, shape check, resume
install_atomic_checkpoint_saving()  # no half-written checkpoint, ever

from . import datasets, engine, models  # noqa: E402,F401

engine.install_num_classes_check()  # every Runner checks its heads' classes
from .version import __version__  # noqa: E402
# isort: on

__all__ = ['__version__', 'datasets', 'engine', 'models']
