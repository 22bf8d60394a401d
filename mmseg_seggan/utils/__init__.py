from .atomic_checkpoint import (AtomicLocalBackend, CheckpointWriteError,
                                atomic_write)
from .checkpoint import (CheckpointError, CorruptCheckpointError,
                         UnsafeCheckpointError, load_checkpoint_file,
                         load_url_weights_only, plain_message_hub,
                         restore_message_hub, weights_only_loading)
from .checkpoint_shapes import (CheckpointShapeError, add_shape_check,
                                check_state_dict_shapes, find_shape_mismatches,
                                shape_check_pre_hook)
from .cpu_features import bf16_speed_note, cpu_capability, describe_cpu
from .dir_lock import DirLock, DirLockError
from .mmcv_ext_stub import MissingMMCVOpError, mmcv_ext_available
from .resume import find_resumable_checkpoint
from .seggan_config import gan_iters_key, gan_iters_of, set_gan_iters

__all__ = [
    'CheckpointError', 'CorruptCheckpointError', 'UnsafeCheckpointError',
    'CheckpointShapeError', 'load_checkpoint_file', 'plain_message_hub',
    'restore_message_hub', 'check_state_dict_shapes', 'find_shape_mismatches',
    'shape_check_pre_hook', 'find_resumable_checkpoint', 'add_shape_check',
    'weights_only_loading', 'load_url_weights_only', 'AtomicLocalBackend',
    'atomic_write', 'CheckpointWriteError', 'DirLock', 'DirLockError',
    'MissingMMCVOpError', 'mmcv_ext_available', 'gan_iters_key',
    'gan_iters_of', 'set_gan_iters', 'describe_cpu', 'cpu_capability',
    'bf16_speed_note'
]
