from .toy_scenes import ToyScenesDataset, make_toy_scenes

__all__ = ['ToyScenesDataset', 'make_toy_scenes']
