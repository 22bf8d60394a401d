from .num_classes_check_hook import NumClassesCheckHook
from .reconstruction_visualization_hook import SegGANReconstructionVisHook
from .seggan_phase_hook import SegGANPhaseHook
from .semi_supervised_data_check_hook import SemiSupervisedDataCheckHook

__all__ = [
    'NumClassesCheckHook', 'SegGANPhaseHook', 'SegGANReconstructionVisHook',
    'SemiSupervisedDataCheckHook'
]
