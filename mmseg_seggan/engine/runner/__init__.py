from .seggan_log_processor import SegGANLogProcessor
from .seggan_runner import SegGANRunner, cpu_capability

__all__ = ['SegGANLogProcessor', 'SegGANRunner', 'cpu_capability']
