"""Log processor that names the SegGAN phase in every training log line."""
from mmengine.runner import LogProcessor
from mmseg.registry import LOG_PROCESSORS

from ...models.segmentors.seggan import PHASE_NAMES
from ..hooks.seggan_phase_hook import PHASE_INFO_KEY


@LOG_PROCESSORS.register_module()
class SegGANLogProcessor(LogProcessor):
    """mmengine's LogProcessor, with ``phase: N (name)`` after the progress."""

    def get_log_after_iter(self, runner, batch_idx: int, mode: str):
        tag, log_str = super().get_log_after_iter(runner, batch_idx, mode)
        phase = runner.message_hub.get_info(PHASE_INFO_KEY)
        if mode == 'train' and phase is not None:
            head, sep, tail = log_str.partition(']  ')
            label = f'phase: {phase} ({PHASE_NAMES.get(phase, "?")})  '
            log_str = f'{head}{sep}{label}{tail}' if sep else label + log_str
            tag['phase'] = phase
        return tag, log_str
