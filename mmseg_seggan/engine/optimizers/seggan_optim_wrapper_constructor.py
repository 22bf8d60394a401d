"""One optimizer per network: segmentor, generator and discriminator."""
from typing import Optional

import torch.nn as nn
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapperDict
from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS

from ...models.utils import unwrap
from ...utils.checkpoint import last_loaded_checkpoint_file

NETWORKS = ('segmentor', 'generator', 'discriminator')


class SegGANOptimWrapperDict(OptimWrapperDict):
    """mmengine's :class:`OptimWrapperDict`, refusing a foreign state.

    ``Runner.resume`` hands it the checkpoint's ``optimizer`` entry. One
    written by another kind of run (a plain DeepLabV3's single optimizer:
    ``state``, ``param_groups``) would fail inside mmengine with
    ``AssertionError: Mismatched `state_dict`! cannot found state``; here
    the error names the checkpoint and the way to use its weights.
    """

    def load_state_dict(self, state_dict: dict) -> None:
        got = list(state_dict) if isinstance(state_dict, dict) else []
        if sorted(got) != sorted(self.optim_wrappers):
            source = last_loaded_checkpoint_file() or 'the checkpoint'
            if {'state', 'param_groups'} <= set(got):
                kind = ('one optimizer (`state`, `param_groups`): it was '
                        'written by a plain segmentor run such as DeepLabV3')
            else:
                kind = f'the optimizers {got}'
            raise ValueError(
                f'--resume cannot resume SegGAN from {source}: its optimizer '
                f'state holds {kind}, while SegGAN keeps one optimizer per '
                f'network ({", ".join(self.optim_wrappers)}). --resume only '
                'continues a run of the same kind in its own work dir. To '
                'start SegGAN from those weights, train without --resume, in '
                f'a new --work-dir, with --cfg-options load_from={source}.')
        super().load_state_dict(state_dict)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class SegGANOptimWrapperConstructor:
    """Build an :class:`OptimWrapperDict` with one wrapper per network.

    (A :class:`SegGANOptimWrapperDict`, which explains a resume from another
    kind of run instead of failing on an assertion.)

    mmengine has no multi-optimizer constructor of its own (mmagic's pulls in
    all of mmagic). Each entry is an ordinary optim-wrapper config, built by
    mmengine's :class:`DefaultOptimWrapperConstructor` on its network, so
    ``paramwise_cfg``, ``clip_grad`` and ``AmpOptimWrapper`` work as usual.
    Parameter names in ``paramwise_cfg`` of ``segmentor`` are the model's own
    (``backbone.*``, ``decode_head.*``).

    Example::

        optim_wrapper = dict(
            constructor='SegGANOptimWrapperConstructor',
            segmentor=dict(optimizer=dict(type='Adam', lr=1e-4)),
            generator=dict(optimizer=dict(type='Adam', lr=1e-3,
                                          betas=(0.9, 0.999), eps=1e-8)),
            discriminator=dict(optimizer=dict(type='Adam', lr=1e-3,
                                              betas=(0.9, 0.999), eps=1e-8)))

    Per-optimizer schedules: ``param_scheduler=dict(segmentor=[...],
    generator=[...], discriminator=[...])``.
    """

    def __init__(self,
                 optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None):
        missing = [k for k in NETWORKS if k not in optim_wrapper_cfg]
        unknown = [k for k in optim_wrapper_cfg if k not in NETWORKS]
        if missing or unknown:
            raise ValueError(
                'SegGANOptimWrapperConstructor needs exactly the keys '
                f'{NETWORKS} in `optim_wrapper`; missing {missing}, '
                f'unknown {unknown}.')
        if paramwise_cfg is not None:
            raise ValueError('Give `paramwise_cfg` inside each network\'s '
                             'entry of `optim_wrapper`, not at its top.')
        self.constructors = {}
        for name in NETWORKS:
            cfg = dict(optim_wrapper_cfg[name])
            cfg.setdefault('type', 'OptimWrapper')
            self.constructors[name] = DefaultOptimWrapperConstructor(
                cfg, cfg.pop('paramwise_cfg', None))

    def __call__(self, model: nn.Module) -> SegGANOptimWrapperDict:
        model = unwrap(model)  # the runner passes the DDP wrapper
        if not all(hasattr(model, n) for n in ('generator', 'discriminator')):
            raise TypeError('SegGANOptimWrapperConstructor needs a model with '
                            f'`generator` and `discriminator` (SegGAN); got '
                            f'{type(model).__name__}.')
        segmentor = nn.ModuleDict(model.segmentor_modules)
        nets = dict(
            segmentor=segmentor,
            generator=model.generator,
            discriminator=model.discriminator)
        return SegGANOptimWrapperDict(
            **{n: self.constructors[n](nets[n])
               for n in NETWORKS})
