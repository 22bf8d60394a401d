from .atomic_checkpoint import (AtomicFile, CheckpointWriteError, atomic_write,
                                install_atomic_checkpoint_saving)
from .checkpoint import (CheckpointError, CorruptCheckpointError,
                         UnsafeCheckpointError, load_checkpoint_file)
from .checkpoint_shapes import (CheckpointShapeError, check_state_dict_shapes,
                                find_shape_mismatches)
from .cpu_features import (bf16_speed_note, cpu_capability, describe_cpu,
                           gemm_gflops, has_native_bf16, has_onednn_bf16)
from .flop_count import FlopCount, count_flops, step_flops
from .mmcv_ext_stub import (MissingMMCVOpError, install_mmcv_ext_stub,
                            mmcv_ext_available)
from .resume import find_resumable_checkpoint
from .safe_loading import register_safe_checkpoint_loading

__all__ = [
    'CheckpointError', 'CorruptCheckpointError', 'UnsafeCheckpointError',
    'CheckpointShapeError', 'load_checkpoint_file',
    'register_safe_checkpoint_loading', 'check_state_dict_shapes',
    'find_shape_mismatches', 'find_resumable_checkpoint', 'AtomicFile',
    'atomic_write', 'install_atomic_checkpoint_saving', 'CheckpointWriteError',
    'MissingMMCVOpError', 'install_mmcv_ext_stub', 'mmcv_ext_available',
    'describe_cpu', 'cpu_capability', 'has_native_bf16', 'has_onednn_bf16',
    'bf16_speed_note', 'gemm_gflops', 'FlopCount', 'count_flops', 'step_flops'
]
