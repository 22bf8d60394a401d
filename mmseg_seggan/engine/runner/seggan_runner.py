"""The runner of SegGAN configs: mmengine's Runner, made safe to save into.

Chosen by ``runner_type='SegGANRunner'`` (the package's
``configs/_base_/default_runtime.py`` sets it, and the drop-in recipe in the
README writes it); mmseg's and this package's ``tools/train.py`` build
``RUNNERS.build(cfg)`` then. A config without it gets mmengine's Runner,
exactly as without the plugin.
"""
import os
import os.path as osp
import re
import weakref
from typing import Callable, Dict, Optional, Union

import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmengine.runner.checkpoint import (_load_checkpoint,
                                        _load_checkpoint_to_model)
from mmseg.registry import RUNNERS

from ...models.utils import unwrap
from ...utils.atomic_checkpoint import atomic_save
from ...utils.checkpoint import (load_checkpoint_file, plain_message_hub,
                                 restore_message_hub)
from ...utils.checkpoint_shapes import check_state_dict_shapes
from ...utils.dir_lock import DirLock
from ...utils.resume import find_resumable_checkpoint
from ..hooks.num_classes_check_hook import NumClassesCheckHook

WORK_DIR_LOCK = '.seggan_run.lock'
NUM_CLASSES_CHECK = 'num_classes_check'


def _is_local(path: str) -> bool:
    return '://' not in str(path)


def cpu_capability() -> str:
    """The instruction set torch's CPU kernels use (e.g. ``AVX2``)."""
    try:
        return torch.backends.cpu.get_cpu_capability()
    except AttributeError:  # torch < 2.1
        return 'unknown'


@RUNNERS.register_module()
class SegGANRunner(Runner):
    """mmengine's ``Runner`` with what a long CPU/GPU run needs on top.

    * **One run per work dir**: training takes ``<work_dir>/.seggan_run.lock``
      (:class:`~mmseg_seggan.utils.DirLock`) before it writes anything; a
      second run is refused naming the first (pid, host, start, command);
      a lock of a dead process is taken over. Released when ``train()``
      returns or fails.
    * **Atomic checkpoints** (:meth:`save_checkpoint`): written to a temporary
      file unique to this writer, synced, then renamed; the message hub is
      stored as plain numbers, so any weights-only loader reads the file.
    * **Safe loading** (:meth:`load_checkpoint`, used by ``load_from``,
      ``--resume`` and testing): weights-only, errors that name the file,
      the shape check before anything is copied.
    * **Resume that survives a damaged latest checkpoint**
      (:meth:`load_or_resume`): :func:`~mmseg_seggan.utils.
      find_resumable_checkpoint`.
    * **The class-count check**: :class:`NumClassesCheckHook` is one of its
      default hooks (key ``num_classes_check``;
      ``default_hooks=dict(num_classes_check=None)`` leaves it out).
    * The CPU capability torch's kernels use, in the log header (float
      results are bit-identical only on the same one).

    Takes exactly the arguments of :class:`~mmengine.runner.Runner`.
    """

    def __init__(self, model, work_dir: str, *args, **kwargs):
        trains = (
            kwargs.get('train_dataloader') is not None
            or (args and args[0] is not None))
        self._work_dir_lock = None
        if trains and int(os.environ.get('RANK', '0')) == 0:
            lock = DirLock(
                work_dir,
                WORK_DIR_LOCK,
                what='work dir',
                hint='wait for that run to end, or give this one another '
                '--work-dir')
            lock.acquire()  # DirLockError names the holder
            self._work_dir_lock = lock
            weakref.finalize(self, lock.release)
        try:
            super().__init__(model, work_dir, *args, **kwargs)
        except BaseException:
            self.release_work_dir()
            raise
        if self._work_dir_lock is not None and \
                self._work_dir_lock.replaced is not None:
            old = self._work_dir_lock.replaced
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
            f'CPU capability: {cpu_capability()} (torch.backends.cpu.'
            f'get_cpu_capability()), {torch.get_num_threads()} thread(s). '
            'Float results are bit-identical only with the same capability, '
            'thread count and versions.')

    # ----------------------------------------------------------------- hooks
    def register_default_hooks(
            self,
            hooks: Optional[Dict[str, Union[Hook, Dict]]] = None) -> None:
        """mmengine's default hooks plus ``num_classes_check``."""
        hooks = dict(hooks or {})
        if NUM_CLASSES_CHECK not in hooks:
            hooks[NUM_CLASSES_CHECK] = NumClassesCheckHook()
        elif hooks[NUM_CLASSES_CHECK] is None:
            hooks.pop(NUM_CLASSES_CHECK)  # mmengine asserts on unknown None
        super().register_default_hooks(hooks)

    def call_hook(self, fn_name: str, **kwargs) -> None:
        super().call_hook(fn_name, **kwargs)
        if fn_name == 'before_save_checkpoint':
            # After every hook saw it: the form weights-only loading reads.
            ckpt = kwargs['checkpoint']
            if 'message_hub' in ckpt:
                ckpt['message_hub'] = plain_message_hub(ckpt['message_hub'])

    # ----------------------------------------------------------------- save
    def save_checkpoint(self,
                        out_dir: str,
                        filename: str,
                        file_client_args: Optional[dict] = None,
                        save_optimizer: bool = True,
                        save_param_scheduler: bool = True,
                        meta: Optional[dict] = None,
                        by_epoch: bool = True,
                        backend_args: Optional[dict] = None) -> None:
        """mmengine's, written atomically for local folders.

        mmengine writes the whole checkpoint under a temporary name unique
        to this process (``.<filename>.<pid>-<hex>.tmp``, created with
        ``O_EXCL``), which is then synced and renamed to ``filename``.

        Raises:
            CheckpointWriteError: Disk full or another write error; the
                message names the file and says that nothing was lost.
        """
        args = dict(
            file_client_args=file_client_args,
            save_optimizer=save_optimizer,
            save_param_scheduler=save_param_scheduler,
            meta=meta,
            by_epoch=by_epoch,
            backend_args=backend_args)
        if file_client_args or backend_args or not _is_local(out_dir):
            return super().save_checkpoint(out_dir, filename, **args)
        final = osp.join(out_dir, filename)

        def write(tmp_path: str) -> None:
            super(SegGANRunner, self).save_checkpoint(
                osp.dirname(tmp_path), osp.basename(tmp_path), **args)

        atomic_save(final, write)

    # ----------------------------------------------------------------- load
    def load_checkpoint(self,
                        filename: str,
                        map_location: Union[str, Callable] = 'cpu',
                        strict: bool = False,
                        revise_keys: list = [(r'^module.', '')]):
        """mmengine's, loading local files weights-only and shape-checked.

        Raises:
            UnsafeCheckpointError: The file holds pickled code.
            CorruptCheckpointError: The file is truncated or damaged.
            CheckpointShapeError: Tensors of other shapes than the model's;
                nothing was loaded.
        """
        if _is_local(filename):
            checkpoint = load_checkpoint_file(filename, map_location)
        else:
            checkpoint = _load_checkpoint(filename, map_location=map_location)
        if isinstance(checkpoint, dict) and \
                isinstance(checkpoint.get('message_hub'), dict):
            checkpoint['message_hub'] = restore_message_hub(
                checkpoint['message_hub'])
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = unwrap(self.model)
        state_dict = checkpoint.get('state_dict', checkpoint)
        for pattern, repl in revise_keys:
            state_dict = {
                re.sub(pattern, repl, k): v
                for k, v in state_dict.items()
            }
        check_state_dict_shapes(model, state_dict, source=filename)
        checkpoint = _load_checkpoint_to_model(
            model, checkpoint, strict, revise_keys=revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    def load_or_resume(self) -> None:
        """mmengine's, but ``--resume`` skips a damaged latest checkpoint."""
        if self._has_loaded:
            return None
        if self._resume and self._load_from is None:
            resume_from = find_resumable_checkpoint(self.work_dir)
            self.logger.info(
                f'Auto resumed from the latest checkpoint {resume_from}.')
            if resume_from is not None:
                self.resume(resume_from)
                self._has_loaded = True
            return None
        return super().load_or_resume()


__all__ = ['SegGANRunner', 'cpu_capability', 'WORK_DIR_LOCK']
