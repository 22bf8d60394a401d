from .checkpoint import (CheckpointError, CorruptCheckpointError,
                         UnsafeCheckpointError, load_checkpoint_file,
                         register_safe_checkpoint_loading)
from .mmcv_ext_stub import (MissingMMCVOpError, install_mmcv_ext_stub,
                            mmcv_ext_available)

__all__ = [
    'CheckpointError', 'CorruptCheckpointError', 'UnsafeCheckpointError',
    'load_checkpoint_file', 'register_safe_checkpoint_loading',
    'MissingMMCVOpError', 'install_mmcv_ext_stub', 'mmcv_ext_available'
]
