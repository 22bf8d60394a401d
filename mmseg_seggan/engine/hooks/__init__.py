from .bf16_policy_hook import BF16PolicyHook, enable_amp
from .channels_last_hook import ChannelsLastHook, segmentor_to_channels_last
from .num_classes_check_hook import NumClassesCheckHook
from .reconstruction_visualization_hook import SegGANReconstructionVisHook
from .seggan_phase_hook import SegGANPhaseHook
from .semi_supervised_data_check_hook import SemiSupervisedDataCheckHook

__all__ = [
    'BF16PolicyHook', 'enable_amp',
    'ChannelsLastHook', 'segmentor_to_channels_last', 'NumClassesCheckHook',
    'SegGANPhaseHook', 'SegGANReconstructionVisHook',
    'SemiSupervisedDataCheckHook'
]
