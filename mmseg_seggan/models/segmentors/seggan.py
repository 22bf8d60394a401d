"""SegGAN: an EncoderDecoder fine-tuned with a mask-to-image GAN as a loss."""
import math
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmseg.models.segmentors import EncoderDecoder
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptConfigType, SampleList
from torch import Tensor

from ...utils.checkpoint_shapes import shape_check_pre_hook
from ..losses import (check_pseudo_label_threshold, gan_loss, masked_mse_loss,
                      pseudo_label_loss)
from ..utils import NonFiniteLossError  # noqa: F401 (its home before)
from ..utils import FrozenFusedCopy, NonFiniteLossPolicy, unwrap

PHASE_NAMES = {1: 'gan_pretrain', 2: 'seggan_finetune'}


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


@MODELS.register_module()
class SegGAN(EncoderDecoder):
    """SegGAN (Zhang et al., BigMM 2018) on top of any mmseg EncoderDecoder.

    Any EncoderDecoder config becomes SegGAN by setting ``type='SegGAN'`` and
    adding ``generator`` and ``discriminator``. Training has two phases,
    chosen by :attr:`phase` (set each iteration by ``SegGANPhaseHook``)::

        train_step(data, optim_wrapper)     # optim_wrapper: OptimWrapperDict
         ├─ phase 1: GAN pre-training (segmentor untouched)
         │    one_hot(gt) ──> G ──> fake
         │    D step:  loss_d = BCE(D([real, fake]), [1, 0])
         │    G step:  loss_content = 100 * MSE(fake, real)   (valid pixels)
         │             loss_adv     = BCE(D(fake), 1)
         └─ phase 2: SegGAN fine-tuning (G and D frozen, eval mode)
              inputs ─> extract_feat ─> decode_head ─> logits ─> loss_ce
              softmax(resize(logits)) ─> G ─> fake
              loss_content = 0.1 * MSE(fake, real)
              loss_adv     = 0.1 * BCE(D(fake), 1)
              only the segmentor's optimizer steps

        predict / tensor: EncoderDecoder's own; G and D never run.

    With ``content_weight=0`` and ``adv_weight=0`` phase 2 is plain
    cross-entropy fine-tuning: the honest control for SegGAN.

    Args:
        generator (dict): Config of the mask-to-image generator.
        discriminator (dict): Config of the discriminator.
        gan_content_weight (float): Weight of the content loss of G in
            phase 1. Defaults to 100 (paper).
        gan_adv_weight (float): Weight of the adversarial loss of G in
            phase 1. Defaults to 1 (paper).
        content_weight (float): Weight of the content loss in phase 2.
            Defaults to 0.1 (paper).
        adv_weight (float): Weight of the adversarial loss in phase 2.
            Defaults to 0.1 (paper). The four weights must be finite and
            >= 0 (``ValueError`` naming the key otherwise).
        pseudo_label_weight (float): Weight of a cross-entropy on
            confidence-thresholded pseudo-labels of unlabeled samples in
            phase 2 (self-training, Lee 2013: the segmentor's own argmax,
            detached). 0 (default) switches it off; it is the simple
            semi-supervised baseline SegGAN-semi is compared with.
        pseudo_label_threshold (float): Pixels whose top softmax
            probability is below it get no pseudo-label. Defaults to 0.9.
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
        **kwargs: Everything ``EncoderDecoder`` takes.

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
                 gan_content_weight: float = 100.0,
                 gan_adv_weight: float = 1.0,
                 content_weight: float = 0.1,
                 adv_weight: float = 0.1,
                 pseudo_label_weight: float = 0.0,
                 pseudo_label_threshold: float = 0.9,
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
                 init_cfg: OptConfigType = None):
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
        generator = dict(generator)
        generator.setdefault('num_classes', self.num_classes)
        if generator['num_classes'] != self.num_classes:
            raise ValueError(
                f'model.generator.num_classes={generator["num_classes"]} but '
                f'model.decode_head.num_classes={self.num_classes}: the '
                'generator paints from one channel per class, so they must '
                'be equal.')
        # Kept here: under separate DDP the head itself is wrapped.
        self.ignore_index = self.decode_head.ignore_index
        self.generator = MODELS.build(generator)
        discriminator = dict(discriminator)
        if discriminator.get('conditional', False):
            discriminator.setdefault('num_classes', self.num_classes)
        self.discriminator = MODELS.build(discriminator)
        weights = dict(
            gan_content_weight=gan_content_weight,
            gan_adv_weight=gan_adv_weight,
            content_weight=content_weight,
            adv_weight=adv_weight,
            pseudo_label_weight=pseudo_label_weight)
        for key, value in weights.items():
            # A negative weight turns a loss into a reward (e.g. train the
            # segmentor to make G's reconstruction worse); NaN/Inf poison
            # every step. 0 is allowed: it switches the term off.
            if not (isinstance(value, (int, float)) and math.isfinite(value)
                    and value >= 0):
                raise ValueError(
                    f'model.{key}={value!r}: loss weights must be finite '
                    'numbers >= 0 (0 switches the term off, as the CE-only '
                    f'control does). Fix `model.{key}` in the config or '
                    'in --cfg-options.')
        self.gan_content_weight = gan_content_weight
        self.gan_adv_weight = gan_adv_weight
        self.content_weight = content_weight
        self.adv_weight = adv_weight
        self.pseudo_label_weight = pseudo_label_weight
        self.pseudo_label_threshold = check_pseudo_label_threshold(
            pseudo_label_threshold)
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
        """The segmentor's children (everything but G and D)."""
        return {
            name: m
            for name, m in self.named_children()
            if name not in ('generator', 'discriminator', 'data_preprocessor')
        }

    # ---------------------------------------------------------------- helpers
    def _real_image(self, inputs: Tensor) -> Tensor:
        """Undo the preprocessor's normalization and scale to [-1, 1]."""
        pre = self.data_preprocessor
        img = inputs
        if getattr(pre, '_enable_normalize', False):
            img = img * pre.std + pre.mean
        return img / 127.5 - 1.0

    def _gt(self, data_samples: SampleList) -> Tensor:
        return torch.stack([s.gt_sem_seg.data
                            for s in data_samples]).squeeze(1).long()

    def _one_hot(self, gt: Tensor) -> Tensor:
        """One-hot (N, C, H, W) of the labels; ignored pixels are all-zero."""
        valid = gt != self.ignore_index
        if (gt[valid] >= self.num_classes).any() or (gt[valid] < 0).any():
            bad = torch.unique(
                gt[valid & ((gt >= self.num_classes) | (gt < 0))]).tolist()
            raise ValueError(
                f'Label values {bad} are outside [0, {self.num_classes}) and '
                f'are not the ignore index {self.ignore_index}. '
                'Check the dataset (see its loading errors) and '
                '`decode_head.num_classes`.')
        labels = torch.where(valid, gt, torch.zeros_like(gt))
        onehot = F.one_hot(labels, self.num_classes).permute(0, 3, 1, 2)
        return onehot.to(torch.float32) * valid.unsqueeze(1)

    def _valid(self, gt: Tensor) -> Tensor:
        return (gt != self.ignore_index).unsqueeze(1)

    @staticmethod
    def _labeled(data_samples: SampleList) -> List[int]:
        """Indices of the samples that carry ground truth."""
        return [i for i, s in enumerate(data_samples) if 'gt_sem_seg' in s]

    @staticmethod
    def _image_area(inputs: Tensor, sample) -> Tensor:
        """(1, H, W) mask of a sample's image inside the padded batch."""
        area = torch.zeros(
            (1, ) + tuple(inputs.shape[2:]),
            dtype=torch.bool,
            device=inputs.device)
        h, w = sample.metainfo.get('img_shape', inputs.shape[2:])[:2]
        area[:, :h, :w] = True
        return area

    def _content_mask(self, inputs: Tensor,
                      data_samples: SampleList) -> Tensor:
        """(N, 1, H, W) pixels the content loss counts.

        Labeled samples: every pixel whose label is not ignored (padding is
        ``seg_pad_val``, i.e. ignored too). Unlabeled samples: their image
        area, without the padding.
        """
        masks = [
            s.gt_sem_seg.data.to(inputs.device) != self.ignore_index
            if 'gt_sem_seg' in s else self._image_area(inputs, s)
            for s in data_samples
        ]
        return torch.stack(masks)

    def _head_losses(self,
                     head: nn.Module,
                     x: List[Tensor],
                     data_samples: SampleList,
                     labeled: Optional[List[int]] = None) -> Dict[str, Tensor]:
        """The head's losses on the labeled samples, and all its logits.

        Args:
            labeled: Indices of the samples with ground truth; None means
                all of them. The others get no loss from this head.
        """
        # Forward through the (possibly DDP-wrapped) head so gradients sync,
        # then the loss on the plain module.
        logits = head(x)
        if labeled is None or len(labeled) == len(data_samples):
            return unwrap(head).loss_by_feat(logits, data_samples), logits
        if not labeled:
            return {}, logits
        losses = unwrap(head).loss_by_feat(logits[labeled],
                                           [data_samples[i] for i in labeled])
        return losses, logits

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
            return self._train_gan(data['inputs'], data['data_samples'],
                                   optim_wrapper)
        return self._train_segmentor(data['inputs'], data['data_samples'],
                                     optim_wrapper)

    def _train_gan(self, inputs: Tensor, data_samples: SampleList,
                   optim_wrapper: OptimWrapperDict) -> Dict[str, Tensor]:
        """Phase 1: G paints the image from the one-hot GT; D judges."""
        if len(self._labeled(data_samples)) < len(data_samples):
            raise ValueError(
                'SegGAN phase 1 trains G on ground-truth masks, but the '
                'batch holds samples without gt_sem_seg (unlabeled images). '
                'Train phase 1 on the labeled split only; unlabeled images '
                'belong to phase 2.')
        g_wrapper: OptimWrapper = optim_wrapper['generator']
        d_wrapper: OptimWrapper = optim_wrapper['discriminator']
        gt = self._gt(data_samples)
        onehot = self._one_hot(gt)
        valid = self._valid(gt)
        real = self._real_image(inputs)
        d_cond = unwrap(self.discriminator).conditional
        skipped_before = self.skipped_steps
        saved = self._nonfinite.snapshot(self.generator, self.discriminator)

        with g_wrapper.optim_context(self.generator):
            fake = self.generator(onehot)

        # D step: real and fake in one batch.
        with d_wrapper.optim_context(self.discriminator):
            pair = torch.cat([real, fake.detach()])
            cond = torch.cat([onehot, onehot]) if d_cond else None
            logits = self.discriminator(pair, cond)
            n = real.shape[0]
            loss_d = 0.5 * (
                gan_loss(logits[:n], True) + gan_loss(logits[n:], False))
        parsed_d, log_d = self.parse_losses(dict(loss_d=loss_d))
        if self._finite_or_skip(dict(loss_d=loss_d)):
            d_wrapper.update_params(parsed_d)

        # G step: D is held fixed (no grads), called unwrapped.
        disc = unwrap(self.discriminator)
        _set_requires_grad(disc, False)
        try:
            with g_wrapper.optim_context(self.generator):
                mse = masked_mse_loss(fake, real, valid)
                adv = gan_loss(disc(fake, onehot if d_cond else None), True)
                losses_g = dict(
                    loss_content=self.gan_content_weight * mse,
                    loss_adv=self.gan_adv_weight * adv)
            parsed_g, log_g = self.parse_losses(losses_g)
            if self._finite_or_skip(losses_g):
                g_wrapper.update_params(parsed_g)
        finally:
            _set_requires_grad(disc, True)
        log_vars = dict(log_g)
        log_vars['loss_d'] = log_d['loss_d']
        log_vars['recon_mse'] = mse.detach()
        if self.skipped_steps > skipped_before:
            self._nonfinite.restore(saved)  # no NaN in G/D running stats
        log_vars.update(self._nonfinite.log_vars())
        return log_vars

    def _train_segmentor(self, inputs: Tensor, data_samples: SampleList,
                         optim_wrapper: OptimWrapperDict) -> Dict[str, Tensor]:
        """Phase 2: CE plus the frozen GAN's content and adversarial terms."""
        s_wrapper: OptimWrapper = optim_wrapper['segmentor']
        labeled = self._labeled(data_samples)
        unlabeled = [i for i in range(len(data_samples)) if i not in labeled]
        if not labeled and not (self.content_weight or self.adv_weight
                                or self.pseudo_label_weight):
            raise ValueError(
                'A phase-2 batch without any labeled sample and no loss that '
                'uses unlabeled images (content_weight, adv_weight and '
                'pseudo_label_weight are 0): nothing to train. Check the '
                "sampler's source_ratio.")
        saved = self._nonfinite.snapshot(*self.segmentor_modules.values())
        with s_wrapper.optim_context(self):
            x = self.extract_feat(inputs)
            losses = {}
            loss_decode, logits = self._head_losses(self.decode_head, x,
                                                    data_samples, labeled)
            losses.update({f'decode.{k}': v for k, v in loss_decode.items()})
            if self.with_auxiliary_head:
                heads = self.auxiliary_head
                if is_model_wrapper(heads) and isinstance(
                        heads.module, nn.ModuleList):
                    raise NotImplementedError(
                        'Several auxiliary heads (a ModuleList) are not '
                        'supported with MMSeparateDistributedDataParallel: '
                        'use one auxiliary head for distributed SegGAN.')
                if isinstance(heads, nn.ModuleList):
                    for i, head in enumerate(heads):
                        loss_aux, _ = self._head_losses(
                            head, x, data_samples, labeled)
                        losses.update({
                            f'aux_{i}.{k}': v
                            for k, v in loss_aux.items()
                        })
                else:
                    loss_aux, _ = self._head_losses(heads, x, data_samples,
                                                    labeled)
                    losses.update({f'aux.{k}': v for k, v in loss_aux.items()})
            if self.content_weight or self.adv_weight:
                losses.update(self._gan_terms(inputs, data_samples, logits))
            if self.pseudo_label_weight and unlabeled:
                losses.update(
                    self._pseudo_label_terms(inputs, data_samples, logits,
                                             unlabeled))
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

    def _gan_terms(self, inputs: Tensor, data_samples: SampleList,
                   logits: Tensor) -> Dict[str, Tensor]:
        """Content and adversarial losses of the prediction through frozen G.

        Gradients flow through G and D (their parameters need none) into the
        segmentor's logits.
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
        real = self._real_image(inputs)
        valid = self._content_mask(inputs, data_samples)
        mse = masked_mse_loss(fake, real, valid)
        terms = dict(recon_mse=mse.detach())
        if self.content_weight:
            terms['loss_content'] = self.content_weight * mse
        d_logits = None
        if self.adv_weight:
            cond = prob if disc.conditional else None
            d_logits = disc(fake, cond)
            terms['loss_adv'] = self.adv_weight * gan_loss(d_logits, True)
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

    def _pseudo_label_terms(self, inputs: Tensor, data_samples: SampleList,
                            logits: Tensor,
                            unlabeled: List[int]) -> Dict[str, Tensor]:
        """Cross-entropy on the model's own confident predictions.

        Self-training (Lee 2013) on the unlabeled samples: the argmax of
        the current prediction, detached, is the target where its
        probability reaches ``pseudo_label_threshold`` (and inside the
        image); other pixels are ignored.
        """
        up = resize(
            logits[unlabeled],
            size=inputs.shape[2:],
            mode='bilinear',
            align_corners=self.align_corners).float()
        area = torch.cat(
            [self._image_area(inputs, data_samples[i]) for i in unlabeled])
        loss, ratio = pseudo_label_loss(up, area, self.pseudo_label_threshold,
                                        self.ignore_index)
        return dict(
            loss_pseudo=self.pseudo_label_weight * loss, pseudo_ratio=ratio)
