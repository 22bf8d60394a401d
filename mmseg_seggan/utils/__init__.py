from .atomic_checkpoint import (AtomicFile, CheckpointWriteError, atomic_save,
                                atomic_write)
from .checkpoint import (CheckpointError, CorruptCheckpointError,
                         UnsafeCheckpointError, load_checkpoint_file,
                         plain_message_hub, restore_message_hub)
from .checkpoint_shapes import (CheckpointShapeError, check_state_dict_shapes,
                                find_shape_mismatches, shape_check_pre_hook)
from .cpu_features import (bf16_speed_note, cpu_capability, describe_cpu,
                           gemm_gflops, has_native_bf16, has_onednn_bf16)
from .dir_lock import DirLock, DirLockError
from .flop_count import FlopCount, count_flops, step_flops
from .mmcv_ext_stub import (MissingMMCVOpError, install_mmcv_ext_stub,
                            mmcv_ext_available)
from .resume import find_resumable_checkpoint
from .seggan_config import gan_iters_key, gan_iters_of, set_gan_iters

__all__ = [
    'CheckpointError', 'CorruptCheckpointError', 'UnsafeCheckpointError',
    'CheckpointShapeError', 'load_checkpoint_file', 'plain_message_hub',
    'restore_message_hub', 'check_state_dict_shapes', 'find_shape_mismatches',
    'shape_check_pre_hook', 'find_resumable_checkpoint', 'AtomicFile',
    'atomic_save', 'atomic_write', 'CheckpointWriteError', 'DirLock',
    'DirLockError', 'MissingMMCVOpError', 'install_mmcv_ext_stub',
    'mmcv_ext_available', 'gan_iters_key', 'gan_iters_of', 'set_gan_iters',
    'describe_cpu', 'cpu_capability', 'has_native_bf16', 'has_onednn_bf16',
    'bf16_speed_note', 'gemm_gflops', 'FlopCount', 'count_flops', 'step_flops'
]
