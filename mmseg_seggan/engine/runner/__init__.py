from .seggan_log_processor import SegGANLogProcessor

__all__ = ['SegGANLogProcessor']
