from .num_classes_check_hook import NumClassesCheckHook
from .reconstruction_visualization_hook import SegGANReconstructionVisHook
from .seggan_phase_hook import SegGANPhaseHook

__all__ = [
    'NumClassesCheckHook', 'SegGANPhaseHook', 'SegGANReconstructionVisHook'
]
