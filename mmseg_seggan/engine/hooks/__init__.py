from .seggan_phase_hook import SegGANPhaseHook

__all__ = ['SegGANPhaseHook']
