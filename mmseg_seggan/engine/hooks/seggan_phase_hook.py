import re
from typing import Optional

from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmengine.optim import OptimWrapperDict
from mmengine.optim.scheduler.param_scheduler import INF
from mmseg.registry import HOOKS

from ...models.segmentors.seggan import PHASE_NAMES
from ...models.utils import broadcast_module_state, unwrap
from ...utils.checkpoint import last_loaded_checkpoint_file
from ...utils.seggan_config import GAN_ITERS_KEY, gan_iters_key

PHASE_INFO_KEY = 'seggan_phase'
META_KEY = 'seggan'  # meta[META_KEY]: what a resumed run must agree with
# Kept at the switch; the rest go, so no log line mixes the phases' losses.
_SHARED_SCALARS = ('lr', 'time', 'data_time')


def _pretrained(net) -> bool:
    cfgs = getattr(net, 'init_cfg', None)
    cfgs = cfgs if isinstance(cfgs, list) else [cfgs]
    return any(isinstance(c, dict) and c.get('type') == 'Pretrained'
               for c in cfgs)


@HOOKS.register_module()
class SegGANPhaseHook(Hook):
    """Iterations ``[0, gan_iters)`` are phase 1, the rest phase 2.

    The phase follows runner.iter before each iteration (a resume lands right)
    and is published as seggan_phase. Refused up front: no phase 2, phase 2
    through untrained G and D, a resume whose gan_iters rewrites the past.

    Args:
        gan_iters (int, optional): Read from ``model.gan_iters`` (both: equal).
        gan_pretrain_only (bool): The run pre-trains G and D only.
        allow_untrained_gan (bool): Allow phase 2 from untrained G and D.
    """
    priority = 'VERY_HIGH'

    def __init__(self,
                 gan_iters: Optional[int] = None,
                 gan_pretrain_only: bool = False,
                 allow_untrained_gan: bool = False):
        if gan_iters is not None and gan_iters < 0:
            raise ValueError(f'gan_iters must be >= 0, got {gan_iters}.')
        self.gan_iters = gan_iters
        self.gan_pretrain_only = gan_pretrain_only
        self.allow_untrained_gan = allow_untrained_gan
        self._phase: Optional[int] = None
        self._loaded: Optional[dict] = None

    def phase_at(self, iteration: int) -> int:
        return 1 if iteration < self.gan_iters else 2

    def _resolve_gan_iters(self, model) -> None:
        own = getattr(model, 'gan_iters', None)
        if self.gan_iters is None:
            if own is None:
                raise ValueError(
                    'SegGANPhaseHook needs the length of phase 1: set '
                    'model.gan_iters (GAN pre-training iterations; 0 for '
                    'fine-tuning only).')
            self.gan_iters = own
        elif own is not None and own != self.gan_iters:
            raise ValueError(
                f'SegGANPhaseHook(gan_iters={self.gan_iters}) contradicts '
                f'model.gan_iters={own}: set only model.gan_iters (the hook '
                'reads it).')

    def before_train(self, runner) -> None:
        max_iters = runner.max_iters
        model = unwrap(runner.model)
        if not hasattr(model, 'set_phase'):
            raise TypeError('SegGANPhaseHook needs a SegGAN model; got '
                            f'{type(model).__name__}.')
        self._resolve_gan_iters(model)
        key = self._config_key(runner)
        if self.gan_pretrain_only and self.gan_iters != max_iters:
            raise ValueError(
                'SegGANPhaseHook(gan_pretrain_only=True) trains phase 1 only, '
                f'but {key}={self.gan_iters} and train_cfg.max_iters='
                f'{max_iters}: set both to the GAN pre-training iterations.')
        if not self.gan_pretrain_only and self.gan_iters >= max_iters:
            raise ValueError(
                f'{key}={self.gan_iters} '
                f'{"exceeds" if self.gan_iters > max_iters else "equals"} '
                f'train_cfg.max_iters={max_iters}: every iteration would be '
                'phase 1 (GAN pre-training) and the segmentor never trained. '
                'Set train_cfg.max_iters = gan_iters + fine-tuning '
                'iterations; for a run that only pre-trains G and D, say so: '
                "custom_hooks=[dict(type='SegGANPhaseHook', "
                'gan_pretrain_only=True)].')
        loaded = self._loaded
        if runner.iter == 0 and self.gan_iters == 0 and \
                not self.allow_untrained_gan and \
                not (loaded and loaded['has_gan']) and \
                not all(map(_pretrained, (model.generator,
                                          model.discriminator))):
            raise ValueError(
                f'{key}=0 starts in phase 2 (fine-tuning through a frozen G '
                'and D), but nothing gives trained G and D: the segmentor '
                'would learn from a random GAN. Give load_from=<checkpoint '
                'of a GAN pre-training run> (holding generator.* and '
                "discriminator.*), or init_cfg=dict(type='Pretrained', "
                'checkpoint=...) in model.generator and model.discriminator, '
                f'or set {key} > 0 to pre-train them in this run (for a test '
                'with a random GAN: SegGANPhaseHook(allow_untrained_gan='
                'True)).')
        # Only a resume has a past to contradict (load_from starts at 0).
        if loaded and runner.iter > 0 and loaded['iter'] == runner.iter:
            self._check_resumed_history(runner, loaded)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault('meta',
                              {})[META_KEY] = dict(gan_iters=self.gan_iters)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        meta = checkpoint.get('meta') or {}
        record = meta.get(META_KEY) or {}
        hub = checkpoint.get('message_hub') or {}
        info = hub.get('runtime_info') or {} if isinstance(hub, dict) else {}
        nets = {
            re.sub(r'^module\.', '', k).split('.', 1)[0]
            for k in checkpoint.get('state_dict', checkpoint)
        }
        self._loaded = dict(
            has_gan={'generator', 'discriminator'} <= nets,
            iter=meta.get('iter'),
            gan_iters=record.get('gan_iters'),
            phase=info.get(PHASE_INFO_KEY),
            file=last_loaded_checkpoint_file())

    def _check_resumed_history(self, runner, loaded: dict) -> None:
        done, old, new = loaded['iter'], loaded['gan_iters'], self.gan_iters
        if old is not None:
            if min(done, old) == min(done, new):
                return
            in_phase2 = done > old
            saved = (f'with SegGANPhaseHook(gan_iters={old}) ('
                     f'{min(done, old)} GAN pre-training iterations' +
                     (f', then {done - old} fine-tuning)'
                      if in_phase2 else ', still in phase 1)'))
        else:  # a checkpoint without the record: its last phase only
            last = loaded['phase']
            if last not in PHASE_NAMES or last == self.phase_at(done - 1):
                return
            in_phase2 = last == 2
            saved = f'in phase {last} ({PHASE_NAMES[last]})'
        if in_phase2 and self.phase_at(done) == 1:
            effect = (' would put the run back into phase 1 (GAN '
                      f'pre-training) at iteration {done + 1} and train G and '
                      'D again after the segmentor was fine-tuned through '
                      'them')
        elif not in_phase2:
            effect = (f' says phase 1 ended at iteration {new}, but phase 1 '
                      f'already ran {done} iterations. To end phase 1 now, '
                      f'set gan_iters={done}')
        else:
            effect = (' would record another phase-1 length than the run '
                      'had; it cannot change after the fact')
        key = self._config_key(runner)
        keep = (f'--cfg-options {key}={old}' if old is not None else
                f'the gan_iters the run was started with ({key})')
        source = loaded['file'] or 'the checkpoint'
        raise ValueError(
            f'Cannot resume from {source}: it was saved at iteration {done} '
            f'{saved}, but this config has gan_iters={new}, which{effect}. '
            f'Resume with {keep}, or start a new run in another --work-dir '
            '(with load_from=<checkpoint> to reuse its weights).')

    @staticmethod
    def _config_key(runner) -> str:
        try:
            key = gan_iters_key(runner.cfg)
        except Exception:  # no config (a hand-built runner)
            key = None
        return key or GAN_ITERS_KEY

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch=None) -> None:
        phase = self.phase_at(runner.iter)
        model = unwrap(runner.model)
        if phase != self._phase:
            switching = self._phase is not None
            if phase == 2 and get_world_size() > 1:
                self._sync_gan(model)
            model.set_phase(phase)
            model.train()
            if switching:
                self._drop_phase_scalars(runner)
            runner.logger.info(
                f'SegGAN phase {phase} ({PHASE_NAMES[phase]}) from iteration '
                f'{runner.iter + 1}')
            self._phase = phase
        runner.message_hub.update_info(PHASE_INFO_KEY, phase)

    @staticmethod
    def _sync_gan(model) -> None:
        for net in (model.generator, model.discriminator):
            broadcast_module_state(net)

    @staticmethod
    def _drop_phase_scalars(runner) -> None:
        scalars = runner.message_hub.log_scalars
        for key in list(scalars):
            if key.startswith('train/') and not key.endswith(_SHARED_SCALARS):
                scalars.pop(key)


def add_phase_hook(runner, hooks: Optional[list]) -> list:
    """custom_hooks plus a missing SegGANPhaseHook (or phase 1 never ends)."""
    hooks = list(hooks or [])
    if hasattr(unwrap(runner.model), 'set_phase') and not any(
            isinstance(h, SegGANPhaseHook) or isinstance(h, dict)
            and h.get('type') in ('SegGANPhaseHook', SegGANPhaseHook)
            for h in hooks):
        runner.logger.info('custom_hooks has no SegGANPhaseHook: added one '
                           '(it switches phases at model.gan_iters).')
        hooks.append(dict(type=SegGANPhaseHook))
    return hooks


def phase2_schedulers(runner, scheduler):
    """A SegGAN run's list ``param_scheduler``: the segmentor's only (G and D
    keep a constant lr), shifted by ``gan_iters``; other input unchanged."""
    wrappers = runner.optim_wrapper
    if scheduler is None or not isinstance(wrappers, OptimWrapperDict) or \
            'segmentor' not in wrappers or \
            isinstance(scheduler, dict) and 'type' not in scheduler:
        return scheduler
    hooks = [h for h in runner.hooks if isinstance(h, SegGANPhaseHook)]
    shift = next((h.gan_iters for h in hooks if h.gan_iters is not None),
                 getattr(unwrap(runner.model), 'gan_iters', None)) or 0
    shifted = []
    for cfg in scheduler if isinstance(scheduler, list) else [scheduler]:
        if shift and isinstance(cfg, dict):
            if cfg.get('by_epoch', True):
                raise ValueError(
                    f'param_scheduler {cfg.get("type")} counts epochs; a '
                    'SegGAN schedule starts at gan_iters: set by_epoch=False '
                    '(with iterations in begin/end).')
            end = cfg.get('end', INF)
            cfg = dict(
                cfg,
                begin=cfg.get('begin', 0) + shift,
                end=end if end >= INF else end + shift)
        shifted.append(cfg)
    return dict(segmentor=shifted, generator=[], discriminator=[])
