"""One optimizer per network: segmentor, generator and discriminator."""
from typing import Optional

import torch.nn as nn
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapperDict
from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS

from ...models.utils import unwrap
from ...utils.checkpoint import last_loaded_checkpoint_file

NETWORKS = ('segmentor', 'generator', 'discriminator')


class SegGANOptimWrapperDict(OptimWrapperDict):
    """mmengine's :class:`OptimWrapperDict`; another kind of run's optimizer
    state is refused naming the checkpoint, not by an assertion."""

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


# The paper's optimizer of G and D: Adam, lr 1e-3, betas (0.9, 0.999).
GAN_OPTIMIZER = dict(type='Adam', lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
# What G and D take from a drop-in's own wrapper (``--amp`` sets them).
_SHARED_WRAPPER_KEYS = ('type', 'loss_scale', 'dtype')


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class SegGANOptimWrapperConstructor:
    """Build a :class:`SegGANOptimWrapperDict`, one wrapper per network.

    mmengine has none (mmagic's pulls in all of mmagic). Each entry is built
    by ``DefaultOptimWrapperConstructor`` on its network, so ``paramwise_cfg``
    and ``clip_grad`` work as usual. Either ``segmentor=``, ``generator=``,
    ``discriminator=`` entries, or a segmentor config's own wrapper (the
    drop-in); G and D default to the paper's Adam in the same wrapper type.
    """

    def __init__(self,
                 optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None):
        cfg = dict(optim_wrapper_cfg)
        nets = {n: dict(cfg.pop(n)) for n in NETWORKS if n in cfg}
        if 'segmentor' not in nets:  # the drop-in: the config's own wrapper
            if 'optimizer' not in cfg:
                raise ValueError(
                    'SegGANOptimWrapperConstructor: `optim_wrapper` names '
                    'no optimizer for the segmentor: give `optimizer` (the '
                    'segmentor config\'s own) or a `segmentor` entry.')
            gan = {k: cfg[k] for k in _SHARED_WRAPPER_KEYS if k in cfg}
            nets['segmentor'] = dict(cfg, paramwise_cfg=paramwise_cfg)
        elif cfg or paramwise_cfg is not None:
            raise ValueError(
                f'SegGANOptimWrapperConstructor: `optim_wrapper` has both '
                f'network entries {sorted(nets)} and top-level keys '
                f'{sorted(cfg) + (["paramwise_cfg"] if paramwise_cfg else [])}'
                ': give the segmentor\'s settings in one place (its own '
                'optim_wrapper, or `segmentor=` with `_delete_=True`).')
        else:
            gan = {}
        self.constructors = {}
        for name in NETWORKS:
            net = nets.get(name) or dict(gan, optimizer=GAN_OPTIMIZER)
            net.setdefault('type', 'OptimWrapper')
            self.constructors[name] = DefaultOptimWrapperConstructor(
                net, net.pop('paramwise_cfg', None))

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
