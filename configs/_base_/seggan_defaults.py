# SegGAN's building blocks, as named variables, for the package's own
# configs (a config of one's own inherits ./seggan_drop_in.py instead). Such a
# config inherits a plain mmseg EncoderDecoder config plus this file and
# writes:
#   model = dict(_base_.seggan_model, gan_iters=N)   (merged into the base
#                                   model; N iterations of phase 1)
#   optim_wrapper = {{_base_.seggan_optim_wrapper}}  (Adam for all three, as
#                                   the paper; _delete_ drops the base's)
#   log_processor = {{_base_.seggan_log_processor}}
#   model_wrapper_cfg = {{_base_.seggan_model_wrapper_cfg}}
#   custom_hooks = [dict(type='SegGANPhaseHook')]   (reads model.gan_iters)
# runner_type = 'SegGANRunner' comes from ./default_runtime.py. (mmengine
# forbids the same key in two bases, hence the seggan_* names.)
seggan_model = dict(
    type='SegGAN',
    generator=dict(
        type='SegGANGenerator', base_channels=32, dropout=0.5,
        norm_cfg=dict(type='BN')),
    discriminator=dict(
        type='SegGANDiscriminator', base_channels=32, conditional=False,
        norm_cfg=dict(type='BN')),
    # phase 1: l_G = 100 * l_C + l_A
    phase1_content_loss=dict(type='SegGANContentLoss', loss_weight=100.0),
    phase1_adv_loss=dict(type='SegGANAdvLoss', loss_weight=1.0),
    # phase 2: l = l_S + 0.1 * l_C + 0.1 * l_A
    phase2_content_loss=dict(type='SegGANContentLoss', loss_weight=0.1),
    phase2_adv_loss=dict(type='SegGANAdvLoss', loss_weight=0.1))
# G and D: Adam, lr 1e-3, betas (0.9, 0.999), eps 1e-8 (paper). Segmentor:
# Adam (paper); its lr is set by each experiment config.
seggan_gan_optimizer = dict(
    type='Adam', lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
seggan_optim_wrapper = dict(
    _delete_=True,
    constructor='SegGANOptimWrapperConstructor',
    segmentor=dict(
        type='OptimWrapper',
        optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.999), eps=1e-8)),
    generator=dict(type='OptimWrapper', optimizer=seggan_gan_optimizer),
    discriminator=dict(type='OptimWrapper', optimizer=seggan_gan_optimizer))
seggan_log_processor = dict(type='SegGANLogProcessor', by_epoch=False)
# Separate DDP wraps G, D and each segmentor part on its own (as mmagic does
# for GANs), so frozen nets never stall gradient reduction.
seggan_model_wrapper_cfg = dict(
    type='MMSeparateDistributedDataParallel',
    broadcast_buffers=False,
    find_unused_parameters=False)
