from .seggan_phase_hook import SegGANPhaseHook

__all__ = ['SegGANPhaseHook']
from .reconstruction_visualization_hook import \
    SegGANReconstructionVisHook  # noqa: E402

__all__ += ['SegGANReconstructionVisHook']
from .num_classes_check_hook import NumClassesCheckHook  # noqa: E402

__all__ += ['NumClassesCheckHook']
