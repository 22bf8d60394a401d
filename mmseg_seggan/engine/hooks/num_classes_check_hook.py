"""Stop a run whose model and dataset disagree on the number of classes."""
from typing import Dict, List, Optional, Tuple, Union

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmseg.registry import HOOKS

from ...datasets.validation import NumClassesMismatchError


def _unwrap(module):
    return module.module if is_model_wrapper(module) else module


def model_num_classes(model) -> List[Tuple[str, int]]:
    """``(config key, num_classes)`` of each head of a segmentor."""
    model = _unwrap(model)
    found = []
    head = getattr(model, 'decode_head', None)
    if head is not None and hasattr(_unwrap(head), 'num_classes'):
        found.append(
            ('model.decode_head.num_classes', _unwrap(head).num_classes))
    aux = getattr(model, 'auxiliary_head', None)
    if aux is not None:
        aux = _unwrap(aux)
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

    Every config gets it without asking: importing :mod:`mmseg_seggan`
    (``tools/train.py``, ``tools/test.py``, or ``custom_imports`` in
    mmseg's own tools) adds it to the default hooks of every
    :class:`~mmengine.runner.Runner` as ``num_classes_check``
    (:func:`install_num_classes_check`). A config that really means to
    skip it says so: ``default_hooks = dict(num_classes_check=None)``.
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


DEFAULT_HOOK_KEY = 'num_classes_check'

# The unpatched method, also when this module is imported again.
_original_register_default_hooks = getattr(Runner.register_default_hooks,
                                           '__wrapped__',
                                           Runner.register_default_hooks)


def _register_default_hooks(self,
                            hooks: Optional[Dict[str,
                                                 Union[Hook,
                                                       Dict]]] = None) -> None:
    """``Runner.register_default_hooks`` plus ``num_classes_check``.

    A config's own ``num_classes_check`` entry wins; ``None`` leaves the
    check out (mmengine itself would assert on ``None`` for a key it does
    not know).
    """
    hooks = dict(hooks or {})
    if DEFAULT_HOOK_KEY not in hooks:
        # An instance, not a config dict: it needs no registry scope.
        hooks[DEFAULT_HOOK_KEY] = NumClassesCheckHook()
    elif hooks[DEFAULT_HOOK_KEY] is None:
        hooks.pop(DEFAULT_HOOK_KEY)
    _original_register_default_hooks(self, hooks)


_register_default_hooks.__wrapped__ = (  # type: ignore[attr-defined]
    _original_register_default_hooks)


def install_num_classes_check() -> None:
    """Give every Runner the check, whatever its config says (idempotent).

    Per-config opt-in was forgotten by the toy, two-run and mmpretrain
    configs, whose wrong heads then trained silently or failed later with
    an unrelated error.
    """
    Runner.register_default_hooks = _register_default_hooks
