import warnings
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmengine.logging import MessageHub
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmseg.models.segmentors import EncoderDecoder
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptConfigType, SampleList
from torch import Tensor

from ...utils.checkpoint import weights_only_loading
from ...utils.checkpoint_shapes import shape_check_pre_hook
from ..losses import (check_loss_weight, check_pseudo_label_threshold,
                      gan_loss, masked_mse_loss)
from ..utils import NonFiniteLossError  # noqa: F401 (re-exported)
from ..utils import (FrozenFusedCopy, NonFiniteLossPolicy, content_mask,
                     image_area, one_hot, real_image, unwrap)

PHASE_NAMES = {1: 'gan_pretrain', 2: 'seggan_finetune'}
LOSS_DEFAULTS = dict(  # the paper's weights
    phase1_content_loss=dict(type='SegGANContentLoss', loss_weight=100.0),
    phase1_adv_loss=dict(type='SegGANAdvLoss', loss_weight=1.0),
    phase2_content_loss=dict(type='SegGANContentLoss', loss_weight=0.1),
    phase2_adv_loss=dict(type='SegGANAdvLoss', loss_weight=0.1),
    pseudo_label_loss=dict(type='PseudoLabelLoss', threshold=0.9))
OLD_KEYS = dict(  # older configs' scalar keys
    gan_content_weight='phase1_content_loss',
    gan_adv_weight='phase1_adv_loss',
    content_weight='phase2_content_loss',
    adv_weight='phase2_adv_loss',
    pseudo_label_weight='pseudo_label_loss',
    pseudo_label_threshold='pseudo_label_loss')


def _starting_phase(gan_iters: Optional[int], phase: Optional[int]) -> int:
    if gan_iters is not None and (isinstance(gan_iters, bool)
                                  or not isinstance(gan_iters, int)
                                  or gan_iters < 0):
        raise ValueError(
            f'model.gan_iters={gan_iters!r}: the number of GAN pre-training '
            'iterations must be an int >= 0 (0: fine-tuning only). Fix '
            '`model.gan_iters` in the config or in --cfg-options.')
    if phase is not None:
        return phase
    return 2 if gan_iters == 0 else 1


def _loss_configs(cfgs: dict, old: dict) -> dict:
    """The losses' configs, old keys applied, an unused pseudo loss dropped."""
    used = sorted(set(old) & set(OLD_KEYS))
    if used:
        warnings.warn(
            f'model.{", model.".join(used)}: deprecated keys, still applied. '
            'Set the loss_weight of phase1_content_loss, phase1_adv_loss, '
            'phase2_content_loss, phase2_adv_loss, and pseudo_label_loss='
            "dict(type='PseudoLabelLoss', loss_weight=..., threshold=...) "
            'instead.', DeprecationWarning)
    for old_key, key in OLD_KEYS.items():
        if old_key == 'pseudo_label_threshold' and old_key in old:
            threshold = check_pseudo_label_threshold(old.pop(old_key))
            if cfgs[key]:
                cfgs[key] = dict(cfgs[key], threshold=threshold)
        elif old_key in old:
            cfgs[key] = dict(
                cfgs[key] or {},
                loss_weight=check_loss_weight(old.pop(old_key), old_key))
    pseudo = cfgs['pseudo_label_loss']
    if pseudo is None or not pseudo.get('loss_weight', 1.0):
        del cfgs['pseudo_label_loss']
    out = {}
    for key, cfg in cfgs.items():
        cfg = dict(cfg or {})
        out[key] = cfg if 'type' in cfg else dict(LOSS_DEFAULTS[key], **cfg)
        check_loss_weight(out[key].get('loss_weight', 1.0),
                          f'{key}.loss_weight')
    return out


@MODELS.register_module()
class SegGAN(EncoderDecoder):
    """SegGAN (Zhang et al., BigMM 2018) on top of any mmseg EncoderDecoder.

    :attr:`phase` (set by ``SegGANPhaseHook``) picks the step: phase 1 trains
    G (one-hot GT to image) and D; phase 2 adds frozen G's and D's losses of
    ``softmax(logits)`` to the CE (unlabeled samples: GAN terms only).

    Args:
        generator, discriminator (dict): Configs of G (mask to image) and D.
        phase{1,2}_{content,adv}_loss (dict, optional): Configs; one without
            ``type`` updates ``LOSS_DEFAULTS``; both phase-2 weights at 0
            give the CE-only control. D's own loss is unweighted.
        pseudo_label_loss (dict, optional): Phase-2 self-training; None: off.
        gan_iters, phase (int, optional): Phase-1 length; starting phase.
        nonfinite (str): On a NaN/Inf loss term, ``'raise'`` or ``'skip'``.
        fuse_frozen_bn (bool): Run phase 2's G and D with BN folded.
        **kwargs: ``EncoderDecoder``'s arguments; deprecated scalar weights.
    """

    def __init__(self,
                 backbone: ConfigType,
                 decode_head: ConfigType,
                 generator: ConfigType,
                 discriminator: ConfigType,
                 phase1_content_loss: OptConfigType = None,
                 phase1_adv_loss: OptConfigType = None,
                 phase2_content_loss: OptConfigType = None,
                 phase2_adv_loss: OptConfigType = None,
                 pseudo_label_loss: OptConfigType = None,
                 gan_iters: Optional[int] = None,
                 phase: Optional[int] = None,
                 nonfinite: str = 'raise',
                 fuse_frozen_bn: bool = True,
                 **kwargs):
        if 'num_stages' in kwargs or isinstance(decode_head, (list, tuple)):
            raise ValueError(
                'SegGAN builds on EncoderDecoder (one decode head); this '
                'config is a cascade segmentor (`model.num_stages` and a '
                'list of decode heads, CascadeEncoderDecoder, e.g. OCRNet), '
                'which SegGAN does not support. Start from a single-head '
                'config (DeepLabV3, PSPNet, FCN, ...).')
        losses = _loss_configs(
            dict(
                phase1_content_loss=phase1_content_loss,
                phase1_adv_loss=phase1_adv_loss,
                phase2_content_loss=phase2_content_loss,
                phase2_adv_loss=phase2_adv_loss,
                pseudo_label_loss=pseudo_label_loss), kwargs)
        super().__init__(backbone=backbone, decode_head=decode_head, **kwargs)
        # Under separate DDP the head itself is wrapped.
        self.ignore_index = self.decode_head.ignore_index
        for name, cfg in (('generator', generator), ('discriminator',
                                                     discriminator)):
            cfg = dict(cfg)
            if name == 'generator' or cfg.get('conditional'):
                if cfg.setdefault('num_classes',
                                  self.num_classes) != self.num_classes:
                    raise ValueError(
                        f'model.{name}.num_classes={cfg["num_classes"]} but '
                        f'model.decode_head.num_classes={self.num_classes}: '
                        f'the {name} takes one mask channel per class, so '
                        'they must be equal (or leave model.'
                        f'{name}.num_classes out).')
            setattr(self, name, MODELS.build(cfg))
        self.pseudo_label_loss = None
        for key, cfg in losses.items():  # no parameters: no state dict keys
            setattr(self, key, MODELS.build(cfg))
        self._nonfinite = NonFiniteLossPolicy(nonfinite)
        self.gan_iters = gan_iters
        self.fuse_frozen_bn = fuse_frozen_bn
        # Plain attributes, not submodules: never in the state dict.
        self._fused_gan = dict(
            generator=FrozenFusedCopy(), discriminator=FrozenFusedCopy())
        self.phase = 0
        self.set_phase(_starting_phase(gan_iters, phase))
        # A size mismatch is refused, not skipped, wherever a load starts.
        for module in (self, self.generator, self.discriminator):
            module.register_load_state_dict_pre_hook(shape_check_pre_hook)

    def init_weights(self) -> None:
        """``init_cfg`` Pretrained loads weights-only, on either stack."""
        with weights_only_loading():
            super().init_weights()

    def set_phase(self, phase: int) -> None:
        """Switch phase; in phase 2 G and D are frozen and kept in eval."""
        if phase not in PHASE_NAMES:
            raise ValueError(f'SegGAN phase must be 1 or 2, got {phase!r}.')
        if phase == self.phase:
            return
        self.phase = phase
        trainable = phase == 1
        for net in (self.generator, self.discriminator):
            net.requires_grad_(trainable)
            net.train(trainable and self.training)

    def train(self, mode: bool = True) -> 'SegGAN':
        """Keep the frozen G and D in eval mode during phase 2."""
        super().train(mode)
        if self.phase == 2:
            self.generator.eval()
            self.discriminator.eval()
        return self

    @property
    def segmentor_modules(self) -> Dict[str, nn.Module]:
        """The segmentor's children (everything but G, D and the losses)."""
        return {
            name: m
            for name, m in self.named_children()
            if name not in ('generator', 'discriminator',
                            'data_preprocessor') and not name.endswith('_loss')
        }

    @property
    def nonfinite(self) -> str:
        return self._nonfinite.mode

    @property
    def skipped_steps(self) -> int:
        return self._nonfinite.skipped_steps

    def _finite_or_skip(self, losses: Dict[str, Tensor]) -> bool:
        return self._nonfinite.check(losses, self.phase,
                                     PHASE_NAMES[self.phase])

    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: List[dict]) -> Tensor:
        """EncoderDecoder's, but DDP-wrapper aware (for separate DDP)."""
        x = self.extract_feat(inputs)
        return unwrap(self.decode_head).predict(x, batch_img_metas,
                                                self.test_cfg)

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapperDict) -> Dict[str, Tensor]:
        """One iteration of the current phase; returns the log variables."""
        if not isinstance(optim_wrapper, OptimWrapperDict):
            raise TypeError(
                'SegGAN needs one optimizer per network: set `optim_wrapper='
                "dict(constructor='SegGANOptimWrapperConstructor', "
                'segmentor=..., generator=..., discriminator=...)` '
                f'(got {type(optim_wrapper).__name__}).')
        data = self.data_preprocessor(data, True)
        if self.phase == 1:
            return self.train_gan(data['inputs'], data['data_samples'],
                                  optim_wrapper)
        return self.train_segmentor(data['inputs'], data['data_samples'],
                                    optim_wrapper)

    def train_gan(self, inputs: Tensor, data_samples: SampleList,
                  optim_wrapper: OptimWrapperDict) -> Dict[str, Tensor]:
        """Phase 1: G paints the image from the one-hot GT; D judges."""
        if len(self._labeled(data_samples)) < len(data_samples):
            raise ValueError(
                'SegGAN phase 1 trains G on ground-truth masks, but the '
                'batch holds samples without gt_sem_seg (unlabeled images). '
                'Train phase 1 on the labeled split only; unlabeled images '
                'belong to phase 2.')
        gt = torch.stack([s.gt_sem_seg.data
                          for s in data_samples]).squeeze(1).long()
        onehot = one_hot(gt, self.num_classes, self.ignore_index)
        real = real_image(inputs, self.data_preprocessor)
        skipped_before = self.skipped_steps
        saved = self._nonfinite.snapshot(self.generator, self.discriminator)
        valid = content_mask(inputs, data_samples, self.ignore_index)
        with optim_wrapper['generator'].optim_context(self.generator):
            fake = self.generator(onehot)
        log_d = self.train_discriminator(real, fake.detach(), onehot,
                                         optim_wrapper['discriminator'])
        log_vars = self.train_generator(real, fake, onehot, valid,
                                        optim_wrapper['generator'])
        log_vars['loss_d'] = log_d['loss_d']
        log_vars['recon_mse'] = masked_mse_loss(fake.detach(), real, valid)
        if self.skipped_steps > skipped_before:
            self._nonfinite.restore(saved)  # no NaN in G/D running stats
        log_vars.update(self._nonfinite.log_vars())
        return log_vars

    def train_discriminator(self, real: Tensor, fake: Tensor, onehot: Tensor,
                            optim_wrapper: OptimWrapper) -> Dict[str, Tensor]:
        """D's step on real and (detached) fake images in one batch."""
        cond = torch.cat([onehot, onehot]) if self._d_conditional else None
        with optim_wrapper.optim_context(self.discriminator):
            logits = self.discriminator(torch.cat([real, fake]), cond)
            n = real.shape[0]
            loss_d = 0.5 * (
                self.phase1_adv_loss(logits[:n], True, is_disc=True) +
                self.phase1_adv_loss(logits[n:], False, is_disc=True))
        parsed, log_vars = self.parse_losses(dict(loss_d=loss_d))
        if self._finite_or_skip(dict(loss_d=loss_d)):
            optim_wrapper.update_params(parsed)
        return log_vars

    def train_generator(self, real: Tensor, fake: Tensor, onehot: Tensor,
                        valid: Tensor,
                        optim_wrapper: OptimWrapper) -> Dict[str, Tensor]:
        """G's step: paint the image (content) and fool D, held fixed."""
        disc = unwrap(self.discriminator)  # no grads: called unwrapped
        disc.requires_grad_(False)
        try:
            with optim_wrapper.optim_context(self.generator):
                losses = dict(
                    loss_content=self.phase1_content_loss(fake, real, valid))
                losses['loss_adv'] = self.phase1_adv_loss(
                    disc(fake, onehot if self._d_conditional else None), True)
            parsed, log_vars = self.parse_losses(losses)
            if self._finite_or_skip(losses):
                optim_wrapper.update_params(parsed)
        finally:
            disc.requires_grad_(True)
        return log_vars

    def train_segmentor(self, inputs: Tensor, data_samples: SampleList,
                        optim_wrapper: OptimWrapperDict) -> Dict[str, Tensor]:
        """Phase 2: heads' CE (labeled) plus frozen-GAN and pseudo terms."""
        s_wrapper: OptimWrapper = optim_wrapper['segmentor']
        labeled = self._labeled(data_samples)
        unlabeled = [i for i in range(len(data_samples)) if i not in labeled]
        if not labeled and not (self._with_frozen_gan
                                or self.pseudo_label_loss is not None):
            raise ValueError(
                'A phase-2 batch without any labeled sample and no loss that '
                'uses unlabeled images (phase2_content_loss and '
                'phase2_adv_loss at loss_weight 0, no pseudo_label_loss): '
                "nothing to train. Check the sampler's source_ratio.")
        saved = self._nonfinite.snapshot(*self.segmentor_modules.values())
        with s_wrapper.optim_context(self):
            x = self.extract_feat(inputs)
            losses, logits = self._head_losses(self.decode_head, 'decode', x,
                                               data_samples, labeled)
            if self.with_auxiliary_head:
                heads = self.auxiliary_head
                if is_model_wrapper(heads) and isinstance(
                        heads.module, nn.ModuleList):
                    raise NotImplementedError(
                        'Several auxiliary heads (a ModuleList) are not '
                        'supported with MMSeparateDistributedDataParallel: '
                        'use one auxiliary head for distributed SegGAN.')
                if isinstance(heads, nn.ModuleList):
                    named = [(f'aux_{i}', h) for i, h in enumerate(heads)]
                else:
                    named = [('aux', heads)]
                for prefix, head in named:
                    losses.update(
                        self._head_losses(head, prefix, x, data_samples,
                                          labeled)[0])
            if self._with_frozen_gan:
                losses.update(
                    self.frozen_gan_losses(inputs, data_samples, logits))
            if self.pseudo_label_loss is not None and unlabeled:
                up = resize(
                    logits[unlabeled],
                    size=inputs.shape[2:],
                    mode='bilinear',
                    align_corners=self.align_corners).float()
                area = image_area([data_samples[i] for i in unlabeled],
                                  inputs.shape[2:], inputs.device)
                losses['loss_pseudo'], losses['pseudo_ratio'] = \
                    self.pseudo_label_loss(up, area, self.ignore_index)
        parsed, log_vars = self.parse_losses(losses)
        if not labeled:
            # No CE: log NaN for the heads' keys, not their last values.
            logged = MessageHub.get_current_instance().log_scalars
            log_vars.update({
                k[len('train/'):]: torch.tensor(float('nan'))
                for k in logged if k.startswith(('train/decode.', 'train/aux'))
            })
        if self._finite_or_skip(losses):
            s_wrapper.update_params(parsed)
        else:
            self._nonfinite.restore(saved)  # no NaN in BN running stats
        log_vars.update(self._nonfinite.log_vars())
        return log_vars

    def frozen_gan_losses(self, inputs: Tensor, data_samples: SampleList,
                          logits: Tensor) -> Dict[str, Tensor]:
        """The prediction's losses via frozen G and D (cf. PerceptualLoss)."""
        gen, disc = unwrap(self.generator), unwrap(self.discriminator)
        if self.fuse_frozen_bn:  # BN folded; rebuilt when G/D change
            gen = self._fused_gan['generator'].get(gen)
            disc = self._fused_gan['discriminator'].get(disc)
        logits = resize(
            logits,
            size=inputs.shape[2:],
            mode='bilinear',
            align_corners=self.align_corners)
        prob = logits.float().softmax(dim=1)
        fake = gen(prob)
        real = real_image(inputs, self.data_preprocessor)
        valid = content_mask(inputs, data_samples, self.ignore_index)
        terms = dict(recon_mse=masked_mse_loss(fake.detach(), real, valid))
        if self.phase2_content_loss.loss_weight:
            terms['loss_content'] = self.phase2_content_loss(fake, real, valid)
        d_logits = None
        if self.phase2_adv_loss.loss_weight:
            d_logits = disc(fake, prob if disc.conditional else None)
            terms['loss_adv'] = self.phase2_adv_loss(d_logits, True)
        labeled = self._labeled(data_samples)
        if 0 < len(labeled) < len(data_samples):  # per source, for the log
            unlabeled = [
                i for i in range(len(data_samples)) if i not in labeled
            ]
            with torch.no_grad():
                for name, idx in (('labeled', labeled), ('unlabeled',
                                                         unlabeled)):
                    terms[f'recon_mse_{name}'] = masked_mse_loss(
                        fake[idx], real[idx], valid[idx])
                    if d_logits is not None:
                        terms[f'adv_{name}'] = gan_loss(d_logits[idx], True)
        return terms

    @property
    def _d_conditional(self) -> bool:
        return unwrap(self.discriminator).conditional

    @property
    def _with_frozen_gan(self) -> bool:
        return bool(self.phase2_content_loss.loss_weight
                    or self.phase2_adv_loss.loss_weight)

    @staticmethod
    def _labeled(data_samples: SampleList) -> List[int]:
        return [i for i, s in enumerate(data_samples) if 'gt_sem_seg' in s]

    def _head_losses(self, head: nn.Module, prefix: str, x: List[Tensor],
                     data_samples: SampleList, labeled: List[int]):
        logits = head(x)
        if not labeled:
            return {}, logits
        if len(labeled) < len(data_samples):
            losses = unwrap(head).loss_by_feat(
                logits[labeled], [data_samples[i] for i in labeled])
        else:
            losses = unwrap(head).loss_by_feat(logits, data_samples)
        return {f'{prefix}.{k}': v for k, v in losses.items()}, logits
