"""Test-only hook: each rank saves its model state at chosen iterations.

Imported by the DDP test through ``custom_imports``; lets the test compare
parameters across ranks and across the phase switch.
"""
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS


@HOOKS.register_module()
class RankStateDumpHook(Hook):
    """Save ``rank{R}_iter{N}.pt`` after iteration N of ``at_iters``; N = 0:
    before the first iteration (weights initialized, model wrapped)."""

    def __init__(self, at_iters=(2, 4)):
        self.at_iters = tuple(at_iters)

    def before_train(self, runner):
        if 0 in self.at_iters:
            self._dump(runner, 0)

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        if runner.iter + 1 in self.at_iters:
            self._dump(runner, runner.iter + 1)

    def _dump(self, runner, iteration):
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model

        def clean(name):
            return name.replace('.module.', '.')

        state = dict(
            params={
                clean(n): p.detach().cpu().clone()
                for n, p in model.named_parameters()
            },
            buffers={
                clean(n): b.detach().cpu().clone()
                for n, b in model.named_buffers()
            })
        torch.save(
            state,
            osp.join(runner.work_dir, f'rank{get_rank()}_iter{iteration}.pt'))
