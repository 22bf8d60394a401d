import os
import weakref

import torch
from mmengine.runner import Runner
from mmseg.registry import RUNNERS

from ...models.utils import unwrap
from ...utils.atomic_checkpoint import BACKEND
from ...utils.checkpoint import (CheckpointError, CorruptCheckpointError,
                                 plain_message_hub, restore_message_hub,
                                 weights_only_loading)
from ...utils.checkpoint_shapes import CheckpointShapeError, add_shape_check
from ...utils.cpu_features import cpu_capability
from ...utils.dir_lock import DirLock
from ...utils.resume import find_resumable_checkpoint
from ..hooks.num_classes_check_hook import NumClassesCheckHook
from ..hooks.seggan_phase_hook import add_phase_hook, phase2_schedulers

WORK_DIR_LOCK = '.seggan_run.lock'
NUM_CLASSES_CHECK = 'num_classes_check'


@RUNNERS.register_module()
class SegGANRunner(Runner):
    """mmengine's Runner plus: one training run per work dir (a DirLock until
    train() ends), atomic checkpoints with a plain message hub, weights-only
    shape-checked loading, --resume past an unusable last_checkpoint, the
    default hook num_classes_check, the CPU capability in the log."""

    def __init__(self, model, work_dir: str, *args, **kwargs):
        trains = kwargs.get('train_dataloader', args[0] if args else None)
        self._work_dir_lock = None
        if trains is not None and int(os.environ.get('RANK', '0')) == 0:
            self._work_dir_lock = DirLock(
                work_dir, WORK_DIR_LOCK, 'work dir', 'wait for that run to '
                'end, or give this one another --work-dir').acquire()
            weakref.finalize(self, self._work_dir_lock.release)
        try:
            super().__init__(model, work_dir, *args, **kwargs)
        except BaseException:
            self.release_work_dir()
            raise
        old = getattr(self._work_dir_lock, 'replaced', None)
        if old is not None:
            self.logger.warning(
                f'Took over the work dir lock of process {old.get("pid")} '
                f'({old.get("cmd")!r}), which is no longer running.')

    def release_work_dir(self) -> None:
        """Give up the work dir (done when :meth:`train` ends)."""
        if self._work_dir_lock is not None:
            self._work_dir_lock.release()

    def train(self) -> torch.nn.Module:
        try:
            return super().train()
        finally:
            self.release_work_dir()

    def _log_env(self, env_cfg: dict) -> None:
        super()._log_env(env_cfg)
        self.logger.info(
            f'CPU capability: {cpu_capability()}, {torch.get_num_threads()} '
            'thread(s) (float results are bit-identical only with the same '
            'capability, thread count and versions).')

    def register_default_hooks(self, hooks=None) -> None:
        """mmengine's default hooks plus ``num_classes_check``."""
        hooks = dict(hooks or {})
        if NUM_CLASSES_CHECK not in hooks:
            hooks[NUM_CLASSES_CHECK] = NumClassesCheckHook()
        elif hooks[NUM_CLASSES_CHECK] is None:
            hooks.pop(NUM_CLASSES_CHECK)  # mmengine asserts on unknown None
        super().register_default_hooks(hooks)

    def register_hooks(self, default_hooks=None, custom_hooks=None) -> None:
        """mmengine's, plus the phase switch a SegGAN model cannot lack."""
        super().register_hooks(default_hooks,
                               add_phase_hook(self, custom_hooks))

    def build_param_scheduler(self, scheduler):
        """mmengine's; a SegGAN schedule is the segmentor's, from phase 2."""
        return super().build_param_scheduler(
            phase2_schedulers(self, scheduler))

    def call_hook(self, fn_name: str, **kwargs) -> None:
        ckpt = kwargs.get('checkpoint') or {}
        if fn_name == 'after_load_checkpoint' and \
                isinstance(ckpt.get('message_hub'), dict):
            ckpt['message_hub'] = restore_message_hub(ckpt['message_hub'])
        super().call_hook(fn_name, **kwargs)
        if fn_name == 'before_save_checkpoint' and 'message_hub' in ckpt:
            # After every hook saw it: the form weights-only loading reads.
            ckpt['message_hub'] = plain_message_hub(ckpt['message_hub'])

    def save_checkpoint(self, out_dir: str, filename: str, *args,
                        **kwargs) -> None:
        """mmengine's; local saves without backend args are atomic."""
        if '://' not in out_dir and not (args and args[0]) and not (
                kwargs.get('file_client_args') or kwargs.get('backend_args')):
            kwargs['backend_args'] = dict(backend=BACKEND)
        super().save_checkpoint(out_dir, filename, *args, **kwargs)

    def _init_model_weights(self) -> None:
        with weights_only_loading():  # init_cfg=dict(type='Pretrained')
            super()._init_model_weights()

    def load_checkpoint(self, filename: str, *args, **kwargs) -> dict:
        """mmengine's, weights-only and shape-checked for every source."""
        add_shape_check(unwrap(self.model))
        with weights_only_loading():
            try:
                return super().load_checkpoint(filename, *args, **kwargs)
            except CheckpointShapeError as e:
                raise CheckpointShapeError(f'{filename}: {e}') from None

    def resume(self, filename: str, *args, **kwargs) -> None:
        """mmengine's; a checkpoint of another kind of run is named."""
        try:
            super().resume(filename, *args, **kwargs)
        except CorruptCheckpointError as e:
            raise CorruptCheckpointError(
                f'{e} To resume from the previous one, delete {filename}: '
                '--resume then takes the newest checkpoint left.') from None
        except KeyError as e:
            if e.args == ('meta', ):
                raise CheckpointError(
                    f'--resume cannot continue from {filename}: it holds '
                    'weights only (no meta: an exported checkpoint?), no '
                    'training state. Move it out of the work dir (--resume '
                    'then takes the newest checkpoint left), or start from it '
                    f'with --cfg-options load_from={filename}.') from None
            if e.args != ('param_groups', ):
                raise
            raise CheckpointError(
                f'--resume cannot continue from {filename} with the config '
                f'{self.cfg.filename}: the checkpoint holds one optimizer per '
                'network (a SegGAN run), the config builds one (a plain '
                'segmentor). Resume with the config that started the run, or '
                'start this one in a new --work-dir, without --resume, with '
                f'--cfg-options load_from={filename}.') from None

    def load_or_resume(self) -> None:
        """mmengine's; ``--resume`` takes :func:`find_resumable_checkpoint`."""
        if self._resume and self._load_from is None and not self._has_loaded:
            self._load_from = find_resumable_checkpoint(self.work_dir)
            self.logger.info(
                f'Auto resumed from the latest checkpoint {self._load_from}.')
        super().load_or_resume()


__all__ = ['SegGANRunner', 'WORK_DIR_LOCK']
