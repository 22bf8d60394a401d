# The demo's baseline (tools/run_demo.sh): DeepLabV3 on a ResNetV1c-18 at a
# quarter of its width (16-32-64-128 channels), output stride 8, on the
# generated ToyScenes. A quarter of the width costs about a third of the
# full ResNet-18's step on a CPU, and stride 8 keeps trees and cars a few
# feature cells wide at 96x128. Adam 3e-3 (poly): at 1e-3 the model still
# misses trees, buildings and cars after 400 iterations.
# Reproducible: one data-loading process and deterministic algorithms; the
# demo also runs it on one thread (OMP_NUM_THREADS=1), since the thread
# count changes the order of floating-point sums.
_base_ = ['./deeplabv3_r18-d16_1xb8-600it_toy-96x128.py']
iters = 300
model = dict(
    backbone=dict(
        stem_channels=16,
        base_channels=16,
        strides=(1, 2, 1, 1),
        dilations=(1, 1, 2, 4)),
    decode_head=dict(in_channels=128, channels=32),
    auxiliary_head=dict(in_channels=64, channels=16))
optim_wrapper = dict(optimizer=dict(lr=3e-3))
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-5,
        power=0.9,
        begin=0,
        end=iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=iters, val_interval=iters)
default_hooks = dict(
    logger=dict(interval=25),
    checkpoint=dict(interval=iters, max_keep_ckpts=1))
train_dataloader = dict(num_workers=0, persistent_workers=False)
val_dataloader = dict(num_workers=0, persistent_workers=False)
test_dataloader = val_dataloader
randomness = dict(seed=0, deterministic=True)
