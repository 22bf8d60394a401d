"""Stop a run whose model and dataset disagree on the number of classes,
or whose batch is too small for a BatchNorm after global pooling."""
from typing import List, Tuple

import torch.nn as nn
from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmseg.registry import HOOKS

from ...datasets.validation import NumClassesMismatchError
from ...models.utils import unwrap


def pooled_batch_norms(model) -> List[str]:
    """Modules running a BatchNorm on a globally pooled map (ASPP's)."""
    found = []
    for name, m in unwrap(model).named_modules():
        children = list(m.children()) if isinstance(m, nn.Sequential) else []
        if children and isinstance(children[0], nn.AdaptiveAvgPool2d) and \
                children[0].output_size in (1, (1, 1)) and any(
                    isinstance(b, nn.modules.batchnorm._BatchNorm) and not (
                        isinstance(b, nn.SyncBatchNorm)
                        and get_world_size() > 1) for b in m.modules()):
            found.append(name)
    return found


def model_num_classes(model) -> List[Tuple[str, int]]:
    """``(config key, num_classes)`` of each head of a segmentor."""
    model = unwrap(model)
    aux = unwrap(getattr(model, 'auxiliary_head', None))
    aux = list(aux) if hasattr(aux, '__iter__') else [aux]
    heads = [('model.decode_head', unwrap(getattr(model, 'decode_head',
                                                  None)))]
    heads += [('model.auxiliary_head'
               if len(aux) == 1 else f'model.auxiliary_head[{i}]', h)
              for i, h in enumerate(aux)]
    return [(f'{key}.num_classes', h.num_classes) for key, h in heads
            if hasattr(h, 'num_classes')]


@HOOKS.register_module()
class NumClassesCheckHook(Hook):
    """Check every head's ``num_classes`` against the dataset's (too few
    fail deep in the loss, too many report IoU of absent classes); before
    training, refuse ``batch_size=1`` with a BatchNorm on a pooled map,
    which for SegGAN would fail only after the whole of phase 1."""
    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        self._check(runner, runner.train_dataloader, 'train_dataloader')
        if getattr(runner.train_dataloader, 'batch_size', None) != 1:
            return
        model = unwrap(runner.model)
        gan_iters = getattr(model, 'gan_iters', None)  # SegGAN's phase 1
        pooled = pooled_batch_norms(model)
        if pooled and (gan_iters is None or runner.max_iters > gan_iters):
            raise ValueError(
                'train_dataloader.batch_size=1, but the segmentor runs a '
                f'BatchNorm on a globally pooled 1x1 map ({pooled[0]}); in '
                'training a BatchNorm needs more than one value per channel, '
                'so the first step of the segmentor would fail (for SegGAN '
                'after the whole of phase 1). Fix: set train_dataloader.'
                'batch_size to 2 or more (e.g. --cfg-options train_dataloader'
                '.batch_size=2), or use SyncBN across several GPUs.')

    def before_val(self, runner) -> None:
        self._check(runner, runner.val_dataloader, 'val_dataloader')

    def before_test(self, runner) -> None:
        self._check(runner, runner.test_dataloader, 'test_dataloader')

    @staticmethod
    def _check(runner, dataloader, name: str) -> None:
        dataset = getattr(dataloader, 'dataset', None)
        classes = getattr(dataset, 'metainfo', {}).get('classes')
        if not classes:
            return
        for key, num in model_num_classes(runner.model):
            if num == len(classes):
                continue
            raise NumClassesMismatchError(
                f'{key}={num} but {name}.dataset '
                f'({type(dataset).__name__}) has {len(classes)} classes: '
                f'{", ".join(classes)}. Fix: set {key}={len(classes)} in '
                f'the config (every head; for SegGAN the generator follows '
                f'decode_head), e.g. --cfg-options {key}={len(classes)}, or '
                "change the dataset's classes.")
