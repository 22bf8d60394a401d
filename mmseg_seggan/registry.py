"""The ``mmseg_seggan`` registry scope: mmseg's registries, seen from here.

A config that inherits a base through ``mmseg_seggan::<path>`` gets
``_scope_='mmseg_seggan'`` on every dict of that base with a ``type`` (that
is how mmengine marks where an external base came from), and building such
a dict looks for registries of scope ``mmseg_seggan`` (importing this module
to find them). The package registers its classes in mmseg's registries, so
each registry here is an empty child of mmseg's: a lookup falls through to
mmseg and on to mmengine, exactly as under ``default_scope='mmseg'``.
"""
from mmengine.registry import Registry
from mmseg import registry as mmseg

SCOPE = 'mmseg_seggan'


def _child(parent: Registry) -> Registry:
    """An empty registry of this scope under one of mmseg's.

    ``locations`` names the package: importing it registers every class
    (and without a location mmengine would look for a
    ``mmseg_seggan.utils.register_all_modules``).
    """
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
