"""The ``mmseg_seggan`` registry scope, where ``mmseg_seggan::`` bases' dicts
build: empty children of mmseg's registries, so lookups fall through."""
from mmengine.registry import Registry
from mmseg import registry as mmseg

SCOPE = 'mmseg_seggan'


def _child(parent: Registry) -> Registry:
    """An empty registry of this scope under one of mmseg's; ``locations``
    imports the package (else mmengine seeks ``register_all_modules``)."""
    return Registry(
        parent.name, parent=parent, scope=SCOPE, locations=['mmseg_seggan'])


RUNNERS = _child(mmseg.RUNNERS)
RUNNER_CONSTRUCTORS = _child(mmseg.RUNNER_CONSTRUCTORS)
LOOPS = _child(mmseg.LOOPS)
HOOKS = _child(mmseg.HOOKS)
DATASETS = _child(mmseg.DATASETS)
DATA_SAMPLERS = _child(mmseg.DATA_SAMPLERS)
TRANSFORMS = _child(mmseg.TRANSFORMS)
MODELS = _child(mmseg.MODELS)
MODEL_WRAPPERS = _child(mmseg.MODEL_WRAPPERS)
WEIGHT_INITIALIZERS = _child(mmseg.WEIGHT_INITIALIZERS)
OPTIMIZERS = _child(mmseg.OPTIMIZERS)
OPTIM_WRAPPERS = _child(mmseg.OPTIM_WRAPPERS)
OPTIM_WRAPPER_CONSTRUCTORS = _child(mmseg.OPTIM_WRAPPER_CONSTRUCTORS)
PARAM_SCHEDULERS = _child(mmseg.PARAM_SCHEDULERS)
METRICS = _child(mmseg.METRICS)
EVALUATOR = _child(mmseg.EVALUATOR)
TASK_UTILS = _child(mmseg.TASK_UTILS)
VISUALIZERS = _child(mmseg.VISUALIZERS)
VISBACKENDS = _child(mmseg.VISBACKENDS)
LOG_PROCESSORS = _child(mmseg.LOG_PROCESSORS)
INFERENCERS = _child(mmseg.INFERENCERS)

__all__ = [
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'DATASETS',
    'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS',
    'WEIGHT_INITIALIZERS', 'OPTIMIZERS', 'OPTIM_WRAPPERS',
    'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'METRICS', 'EVALUATOR',
    'TASK_UTILS', 'VISUALIZERS', 'VISBACKENDS', 'LOG_PROCESSORS',
    'INFERENCERS', 'SCOPE'
]
