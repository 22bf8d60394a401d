"""Stop a run whose model and dataset disagree on the number of classes."""
from typing import List, Tuple

from mmengine.hooks import Hook
from mmseg.registry import HOOKS

from ...datasets.validation import NumClassesMismatchError
from ...models.utils import unwrap


def model_num_classes(model) -> List[Tuple[str, int]]:
    """``(config key, num_classes)`` of each head of a segmentor."""
    model = unwrap(model)
    found = []
    head = getattr(model, 'decode_head', None)
    if head is not None and hasattr(unwrap(head), 'num_classes'):
        found.append(
            ('model.decode_head.num_classes', unwrap(head).num_classes))
    aux = getattr(model, 'auxiliary_head', None)
    if aux is not None:
        aux = unwrap(aux)
        heads = list(aux) if hasattr(aux, '__iter__') else [aux]
        for i, h in enumerate(heads):
            key = ('model.auxiliary_head.num_classes' if len(heads) == 1 else
                   f'model.auxiliary_head[{i}].num_classes')
            if hasattr(h, 'num_classes'):
                found.append((key, h.num_classes))
    return found


@HOOKS.register_module()
class NumClassesCheckHook(Hook):
    """Check ``num_classes`` of every head against the dataset's classes.

    Runs before training (training set), before each validation and before
    testing, i.e. before the first iteration: a head with too few classes
    would otherwise fail deep in the loss (``IndexError: Target 11 is out
    of bounds``) and one with too many would train and report IoU over
    classes that do not exist.

    Every config run by :class:`~mmseg_seggan.engine.runner.SegGANRunner`
    (``runner_type='SegGANRunner'``) gets it as the default hook
    ``num_classes_check``; other runners take it from ``default_hooks`` or
    ``custom_hooks`` like any hook. A config that really means to skip it
    says so: ``default_hooks = dict(num_classes_check=None)``.
    """
    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        self._check(runner, runner.train_dataloader, 'train_dataloader')

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
