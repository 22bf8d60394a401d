# The drop-in: a segmentor config of one's own trained as SegGAN (README).
#   _base_ = ['./my_config.py', 'mmseg_seggan::_base_/seggan_drop_in.py']
#   model = dict(_base_.seggan_model, gan_iters=N)   # phase 1: N iterations
#   optim_wrapper = dict(constructor='SegGANOptimWrapperConstructor')
#   train_cfg = dict(max_iters=N + M)                # phase 2: M iterations
# The config's own optimizer (paramwise rules, clip_grad) trains the
# segmentor and its param_scheduler list runs from phase 2 on, on the
# segmentor only; G and D get the paper's Adam (lr 1e-3). SegGANRunner adds
# SegGANPhaseHook when custom_hooks has none. Only keys that mmseg's configs
# leave unset live here (mmengine refuses a key defined in two bases).
_base_ = ['./seggan_defaults.py']
custom_imports = dict(imports=['mmseg_seggan'], allow_failed_imports=False)
runner_type = 'SegGANRunner'
model_wrapper_cfg = {{_base_.seggan_model_wrapper_cfg}}
