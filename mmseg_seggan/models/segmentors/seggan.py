"""SegGAN: an EncoderDecoder fine-tuned with a mask-to-image GAN as a loss."""
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

from ...utils.checkpoint_shapes import shape_check_pre_hook
from ..losses import (check_loss_weight, check_pseudo_label_threshold,
                      gan_loss, masked_mse_loss)
from ..utils import NonFiniteLossError  # noqa: F401 (its home before)
from ..utils import (FrozenFusedCopy, NonFiniteLossPolicy, content_mask,
                     image_area, one_hot, real_image, unwrap)

PHASE_NAMES = {1: 'gan_pretrain', 2: 'seggan_finetune'}
# The paper's weights: phase 1 l_G = 100 l_C + l_A; phase 2 l = l_S + 0.1
# l_C + 0.1 l_A. A config's dict without ``type`` is merged into these.
LOSS_DEFAULTS = dict(
    phase1_content_loss=dict(type='SegGANContentLoss', loss_weight=100.0),
    phase1_adv_loss=dict(type='SegGANAdvLoss', loss_weight=1.0),
    phase2_content_loss=dict(type='SegGANContentLoss', loss_weight=0.1),
    phase2_adv_loss=dict(type='SegGANAdvLoss', loss_weight=0.1),
    pseudo_label_loss=dict(type='PseudoLabelLoss', threshold=0.9))
# The scalar keys of configs written before the loss modules.
OLD_KEYS = dict(
    gan_content_weight='phase1_content_loss',
    gan_adv_weight='phase1_adv_loss',
    content_weight='phase2_content_loss',
    adv_weight='phase2_adv_loss',
    pseudo_label_weight='pseudo_label_loss',
    pseudo_label_threshold='pseudo_label_loss')


def _starting_phase(gan_iters: Optional[int], phase: Optional[int]) -> int:
    """The phase a model starts in: ``phase``, else from ``gan_iters``."""
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


def _set_requires_grad(module: nn.Module, flag: bool) -> None:
    for p in module.parameters():
        p.requires_grad_(flag)


def _loss_configs(cfgs: dict, old: dict) -> dict:
    """The configs of the losses, with the old scalar keys applied.

    The pseudo-label loss is off (left out) when not configured or at
    ``loss_weight`` 0.
    """
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
    if not (cfgs['pseudo_label_loss'] or {}).get('loss_weight', 1.0):
        cfgs['pseudo_label_loss'] = None
    out = {}
    for key, cfg in cfgs.items():
        if cfg is None and key == 'pseudo_label_loss':
            continue
        cfg = dict(cfg or {})
        out[key] = cfg if 'type' in cfg else dict(LOSS_DEFAULTS[key], **cfg)
        check_loss_weight(out[key].get('loss_weight', 1.0),
                          f'{key}.loss_weight')
    return out


@MODELS.register_module()
class SegGAN(EncoderDecoder):
    """SegGAN (Zhang et al., BigMM 2018) on top of any mmseg EncoderDecoder.

    Any EncoderDecoder config becomes SegGAN by setting ``type='SegGAN'`` and
    adding ``generator`` and ``discriminator``. Training has two phases,
    chosen by :attr:`phase` (set each iteration by ``SegGANPhaseHook``)::

        train_step(data, optim_wrapper)     # optim_wrapper: OptimWrapperDict
         ├─ phase 1: GAN pre-training (segmentor untouched)
         │    one_hot(gt) ──> G ──> fake
         │    train_discriminator: loss_d = BCE(D([real, fake]), [1, 0])
         │    train_generator:     loss_content = 100 * MSE(fake, real)
         │                         loss_adv     = BCE(D(fake), 1)
         └─ phase 2: SegGAN fine-tuning (G and D frozen, eval mode)
              inputs ─> extract_feat ─> decode_head ─> logits ─> loss_ce
              frozen_gan_losses: softmax(resize(logits)) ─> G ─> fake
                  loss_content = 0.1 * MSE(fake, real)
                  loss_adv     = 0.1 * BCE(D(fake), 1)
              [pseudo_label_loss on the unlabeled samples' logits]
              only the segmentor's optimizer steps

        predict / tensor: EncoderDecoder's own; G and D never run.

    With ``phase2_content_loss`` and ``phase2_adv_loss`` at
    ``loss_weight=0`` phase 2 is plain cross-entropy fine-tuning (G and D
    never run): the honest control for SegGAN.

    Args:
        generator (dict): Config of the mask-to-image generator.
        discriminator (dict): Config of the discriminator.
        phase1_content_loss (dict, optional): G's content loss in phase 1
            (``SegGANContentLoss``, ``loss_weight`` 100, paper).
        phase1_adv_loss (dict, optional): G's adversarial loss in phase 1
            (``SegGANAdvLoss``, ``loss_weight`` 1); D's own loss is its
            unweighted BCE.
        phase2_content_loss (dict, optional): The content loss in phase 2
            (``loss_weight`` 0.1, paper).
        phase2_adv_loss (dict, optional): The adversarial loss in phase 2
            (``loss_weight`` 0.1, paper). A dict without ``type`` only
            changes the defaults above (e.g. ``dict(loss_weight=0.)``);
            every ``loss_weight`` must be finite and >= 0.
        pseudo_label_loss (dict, optional): Self-training on the unlabeled
            samples of phase 2 (``PseudoLabelLoss``: cross-entropy on the
            segmentor's own confident predictions, Lee 2013), the simple
            semi-supervised baseline SegGAN-semi is compared with. None
            (default) switches it off.
        gan_iters (int, optional): Length of phase 1 (GAN pre-training) in
            iterations; the rest of the run is phase 2. The one config key
            of the switch: ``SegGANPhaseHook`` reads it, and the model starts
            in phase 2 when it is 0 (fine-tuning with a pre-trained G and
            D; frozen before any wrapper is built). ``mmseg_seggan.utils.
            gan_iters_of(cfg)`` reads it for scripts.
        phase (int, optional): The starting phase, for a model built to
            run one phase by hand (tests, benchmarks); by default 2 when
            ``gan_iters`` is 0, else 1. ``SegGANPhaseHook`` sets the phase
            of every training iteration from ``gan_iters`` anyway.
        nonfinite (str): What to do when a loss term is NaN or Inf:
            ``'raise'`` (default) stops with an error naming the term, the
            iteration and the phase, before any weight is touched, so the
            last checkpoint stays good; ``'skip'`` skips that update and
            counts it in the ``skipped_steps`` log variable.
        fuse_frozen_bn (bool): In phase 2, run G and D (frozen, eval mode)
            as copies with their BN folded into the convolutions: the same
            function up to float rounding, without the BN passes. The
            model's state dict keeps the unfolded G and D. Defaults to True.
        **kwargs: Everything ``EncoderDecoder`` takes, and the keys of older
            configs: ``gan_content_weight``, ``gan_adv_weight``,
            ``content_weight``, ``adv_weight`` (each sets the
            ``loss_weight`` of its loss above), ``pseudo_label_weight`` and
            ``pseudo_label_threshold`` (a ``PseudoLabelLoss``).

    Semi-supervised phase 2: a sample without ``gt_sem_seg`` (an unlabeled
    image, e.g. from ``UnlabeledImageDataset`` mixed in by
    ``MultiSourceSampler``) gets no cross-entropy; the content and
    adversarial terms, which compare G's painting with the image and need
    no label, use it like any other (over its image area, padding left
    out). Phase 1 needs ground truth and refuses such samples.
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
                 neck: OptConfigType = None,
                 auxiliary_head: OptConfigType = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 pretrained: Optional[str] = None,
                 init_cfg: OptConfigType = None,
                 **old_keys):
        if 'num_stages' in old_keys or isinstance(decode_head, (list, tuple)):
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
                pseudo_label_loss=pseudo_label_loss), old_keys)
        if old_keys:
            raise TypeError('SegGAN.__init__() got unexpected keyword '
                            f'arguments {sorted(old_keys)} (model.* keys).')
        super().__init__(
            backbone=backbone,
            decode_head=decode_head,
            neck=neck,
            auxiliary_head=auxiliary_head,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor,
            pretrained=pretrained,
            init_cfg=init_cfg)
        # Kept here: under separate DDP the head itself is wrapped.
        self.ignore_index = self.decode_head.ignore_index
        nets = dict(generator=dict(generator), discriminator=dict(
            discriminator))
        nets['generator'].setdefault('num_classes', self.num_classes)
        if nets['discriminator'].get('conditional', False):
            nets['discriminator'].setdefault('num_classes', self.num_classes)
        for name, cfg in nets.items():
            if cfg.get('num_classes', self.num_classes) != self.num_classes \
                    and (name == 'generator' or cfg.get('conditional')):
                raise ValueError(
                    f'model.{name}.num_classes={cfg["num_classes"]} but '
                    f'model.decode_head.num_classes={self.num_classes}: the '
                    f'{name} takes one mask channel per class, so they must '
                    f'be equal (or leave model.{name}.num_classes out).')
        self.generator = MODELS.build(nets['generator'])
        self.discriminator = MODELS.build(nets['discriminator'])
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
        # Loads start here (the runner, init_model) or at G/D (their
        # init_cfg Pretrained): a size mismatch is refused, not skipped.
        for module in (self, self.generator, self.discriminator):
            module.register_load_state_dict_pre_hook(shape_check_pre_hook)

    # ------------------------------------------------------------------ phase
    def set_phase(self, phase: int) -> None:
        """Switch phase; in phase 2 G and D are frozen and kept in eval."""
        if phase not in PHASE_NAMES:
            raise ValueError(f'SegGAN phase must be 1 or 2, got {phase!r}.')
        if phase == self.phase:
            return
        self.phase = phase
        trainable = phase == 1
        for net in (self.generator, self.discriminator):
            _set_requires_grad(net, trainable)
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
            if name not in ('generator', 'discriminator', 'data_preprocessor')
            and not name.endswith('_loss')
        }

    @property
    def nonfinite(self) -> str:
        return self._nonfinite.mode

    @property
    def skipped_steps(self) -> int:
        return self._nonfinite.skipped_steps

    def _finite_or_skip(self, losses: Dict[str, Tensor]) -> bool:
        """True if every loss term is finite; otherwise raise or skip."""
        return self._nonfinite.check(losses, self.phase,
                                     PHASE_NAMES[self.phase])

    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: List[dict]) -> Tensor:
        """EncoderDecoder's, but DDP-wrapper aware (for separate DDP)."""
        x = self.extract_feat(inputs)
        return unwrap(self.decode_head).predict(x, batch_img_metas,
                                                self.test_cfg)

    # ------------------------------------------------------------ train steps
    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapperDict) -> Dict[str, Tensor]:
        """One iteration of the current phase.

        Args:
            data: A batch from the dataloader.
            optim_wrapper: Holds ``segmentor``, ``generator`` and
                ``discriminator`` wrappers (``SegGANOptimWrapperConstructor``).

        Returns:
            dict: Log variables of this iteration.
        """
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

    # ---------------------------------------------------------------- phase 1
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
        _set_requires_grad(disc, False)
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
            _set_requires_grad(disc, True)
        return log_vars

    # ---------------------------------------------------------------- phase 2
    def train_segmentor(self, inputs: Tensor, data_samples: SampleList,
                        optim_wrapper: OptimWrapperDict) -> Dict[str, Tensor]:
        """Phase 2: the heads' losses (on the labeled samples) plus the
        frozen GAN's terms and the pseudo-label loss (on all / unlabeled)."""
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
            # No CE this step: NaN for the heads' keys logged before, else
            # the logger would repeat their last values as this step's.
            logged = MessageHub.get_current_instance().log_scalars
            log_vars.update({
                k[len('train/'):]: torch.tensor(float('nan'))
                for k in logged if k.startswith(('train/decode.',
                                                 'train/aux'))
            })
        if self._finite_or_skip(losses):
            s_wrapper.update_params(parsed)
        else:
            self._nonfinite.restore(saved)  # no NaN in BN running stats
        log_vars.update(self._nonfinite.log_vars())
        return log_vars

    def frozen_gan_losses(self, inputs: Tensor, data_samples: SampleList,
                          logits: Tensor) -> Dict[str, Tensor]:
        """Content and adversarial losses of the prediction through frozen G.

        Gradients flow through G and D (their parameters need none) into the
        segmentor's logits; as mmagic's ``PerceptualLoss`` with its frozen
        VGG, except that G and D stay children of the model (their weights
        are its checkpoint's ``generator.*`` and ``discriminator.*``).
        """
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

    # ---------------------------------------------------------------- helpers
    @property
    def _d_conditional(self) -> bool:
        return unwrap(self.discriminator).conditional

    @property
    def _with_frozen_gan(self) -> bool:
        """Whether phase 2 runs G and D (False: the CE-only control)."""
        return bool(self.phase2_content_loss.loss_weight
                    or self.phase2_adv_loss.loss_weight)

    @staticmethod
    def _labeled(data_samples: SampleList) -> List[int]:
        """Indices of the samples that carry ground truth."""
        return [i for i, s in enumerate(data_samples) if 'gt_sem_seg' in s]

    def _head_losses(self, head: nn.Module, prefix: str, x: List[Tensor],
                     data_samples: SampleList, labeled: List[int]):
        """The head's losses on the labeled samples, and all its logits.

        Forward through the (possibly DDP-wrapped) head so gradients sync,
        then the loss on the plain module.
        """
        logits = head(x)
        if not labeled:
            return {}, logits
        if len(labeled) < len(data_samples):
            losses = unwrap(head).loss_by_feat(
                logits[labeled], [data_samples[i] for i in labeled])
        else:
            losses = unwrap(head).loss_by_feat(logits, data_samples)
        return {f'{prefix}.{k}': v for k, v in losses.items()}, logits
