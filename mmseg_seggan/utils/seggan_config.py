"""Phase 1's length in a config (``model.gan_iters``): scripts read and set
it only through these functions, so every part of a run reads one key."""
from typing import Optional

from mmengine.config import Config

GAN_ITERS_KEY = 'model.gan_iters'
PHASE_HOOK = 'SegGANPhaseHook'


def _phase_hook_index(cfg: Config) -> Optional[int]:
    for i, hook in enumerate(cfg.get('custom_hooks') or []):
        if isinstance(hook, dict) and hook.get('type') == PHASE_HOOK:
            return i
    return None


def gan_iters_key(cfg: Config) -> Optional[str]:
    """The ``--cfg-options`` key of phase 1's length (the phase hook's in an
    older config; None without SegGAN phases)."""
    model = cfg.get('model') or {}
    if model.get('gan_iters') is not None:
        return GAN_ITERS_KEY
    index = _phase_hook_index(cfg)
    if index is not None and \
            cfg.custom_hooks[index].get('gan_iters') is not None:
        return f'custom_hooks.{index}.gan_iters'
    return GAN_ITERS_KEY if index is not None else None


def gan_iters_of(cfg: Config) -> Optional[int]:
    """Phase 1's length in ``cfg`` (None: not a two-phase SegGAN config)."""
    model = cfg.get('model') or {}
    if model.get('gan_iters') is not None:
        return model['gan_iters']
    index = _phase_hook_index(cfg)
    if index is not None:
        return cfg.custom_hooks[index].get('gan_iters')
    return None


def set_gan_iters(cfg: Config, gan_iters: int) -> None:
    """Set phase 1's length where ``cfg`` keeps it (ValueError: no phases)."""
    key = gan_iters_key(cfg)
    if key is None:
        raise ValueError(
            'This config has no SegGAN phases (no SegGANPhaseHook in '
            'custom_hooks, no model.gan_iters): nothing to set.')
    cfg.merge_from_dict({key: gan_iters})


__all__ = ['GAN_ITERS_KEY', 'gan_iters_key', 'gan_iters_of', 'set_gan_iters']
