"""mmseg-seggan: SegGAN (Zhang et al., BigMM 2018) as an MMSegmentation plugin.

Importing this package (directly or through
``custom_imports=dict(imports=['mmseg_seggan'])``) first makes mmseg
importable on mmcv-lite and the ``mmseg_seggan::`` config scope known to
mmengine (both also done at interpreter start by the installed
``_mmseg_seggan_hook``), then installs safe checkpoint loading and
crash-safe checkpoint saving, then registers the SegGAN models, hooks,
optimizer constructor and datasets into mmseg's registries, and gives
every Runner the check that its heads fit the dataset's classes.
"""
# isort: off
import _mmseg_seggan_hook

_mmseg_seggan_hook.install()  # a no-op when the .pth file has run it
from .utils.mmcv_ext_stub import install_mmcv_ext_stub  # noqa: E402

install_mmcv_ext_stub()  # must run before mmseg imports mmcv.ops
from mmengine.config.utils import MODULE2PACKAGE  # noqa: E402

_mmseg_seggan_hook.add_scope(MODULE2PACKAGE)  # mmseg_seggan::<config path>

from .utils.atomic_checkpoint import (  # noqa: E402
    install_atomic_checkpoint_saving)
from .utils.safe_loading import (  # noqa: E402
    register_safe_checkpoint_loading)

register_safe_checkpoint_loading()  # weights-only, shape check, resume
install_atomic_checkpoint_saving()  # no half-written checkpoint, ever

from . import datasets, engine, evaluation, models, registry  # noqa: E402,F401

engine.install_num_classes_check()  # every Runner checks its heads' classes
from .version import __version__  # noqa: E402
# isort: on

__all__ = [
    '__version__', 'datasets', 'engine', 'evaluation', 'models', 'registry'
]
