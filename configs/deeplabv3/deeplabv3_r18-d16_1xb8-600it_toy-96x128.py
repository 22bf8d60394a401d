# Baseline DeepLabV3 on the generated ToyScenes (stage 1 of the demo).
_base_ = [
    '../_base_/models/deeplabv3_r18-d16.py',
    '../_base_/datasets/toy_scenes.py',
    '../_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_20k.py'
]
custom_imports = dict(imports=['mmseg_seggan'], allow_failed_imports=False)
data_preprocessor = dict(size=(96, 128))
model = dict(
    data_preprocessor=data_preprocessor,
    decode_head=dict(num_classes=6),
    auxiliary_head=dict(num_classes=6))
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-3, betas=(0.9, 0.999), eps=1e-8))
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=0, end=600,
         by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=600, val_interval=200)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=200,
                    max_keep_ckpts=2, save_last=True))
env_cfg = dict(cudnn_benchmark=False)
randomness = dict(seed=0)
