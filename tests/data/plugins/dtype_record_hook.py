"""Test-only hook: record the dtypes convolutions compute in while training.

Imported through ``custom_imports`` by the ``--amp`` test: it shows that the
forward of every network ran in bf16 while the weights stayed fp32.
"""
import json
import os.path as osp

import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS


@HOOKS.register_module()
class DtypeRecordHook(Hook):
    """Write ``{network: [output dtypes of its convs]}`` to dtypes.json.

    Only training iterations count (validation runs in fp32).
    """

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.training = True

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        self.training = False

    def _record(self, top, out):
        if self.training:
            self.seen.setdefault(top, set()).add(str(out.dtype))

    def before_train(self, runner):
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        self.seen, self.training = {}, False
        for name, module in model.named_modules():
            if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
                top = name.split('.')[0]
                module.register_forward_hook(
                    lambda m, i, out, top=top: self._record(top, out))

    def after_train(self, runner):
        with open(osp.join(runner.work_dir, 'dtypes.json'), 'w') as f:
            json.dump({k: sorted(v) for k, v in self.seen.items()}, f)
