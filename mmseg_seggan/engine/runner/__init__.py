from .seggan_log_processor import SegGANLogProcessor
from .seggan_runner import SegGANRunner

__all__ = ['SegGANLogProcessor', 'SegGANRunner']
