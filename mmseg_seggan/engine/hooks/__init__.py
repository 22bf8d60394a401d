from .channels_last_hook import ChannelsLastHook, segmentor_to_channels_last
from .num_classes_check_hook import (NumClassesCheckHook,
                                     install_num_classes_check)
from .reconstruction_visualization_hook import SegGANReconstructionVisHook
from .seggan_phase_hook import SegGANPhaseHook

__all__ = [
    'ChannelsLastHook', 'segmentor_to_channels_last', 'NumClassesCheckHook',
    'SegGANPhaseHook', 'SegGANReconstructionVisHook',
    'install_num_classes_check'
]
