# mmseg's default runtime, run by the package's runner. Every config of the
# package inherits this file (the plain DeepLabV3 baselines too), so each
# run gets, by name:
#   runner_type='SegGANRunner': one run per work dir (a lock naming its
#     holder); atomic checkpoints: the runner gives mmengine's saver
#     backend_args=dict(backend='seggan_atomic') (a file backend registered
#     by the package) unless default_hooks.checkpoint names other
#     backend_args (set here it would clash with the default_hooks of
#     mmseg's schedule bases); weights-only loading of every source (local,
#     URL, init_cfg Pretrained); resume past an unusable last_checkpoint;
#     the shape check; the CPU capability in the log header; and the
#     default hook num_classes_check (NumClassesCheckHook;
#     `default_hooks = dict(num_classes_check=None)` leaves it out).
# A config of your own gets the same with `runner_type = 'SegGANRunner'`
# and `custom_imports = dict(imports=['mmseg_seggan'])` (README, drop-in).
_base_ = ['mmseg::_base_/default_runtime.py']
custom_imports = dict(imports=['mmseg_seggan'], allow_failed_imports=False)
runner_type = 'SegGANRunner'
