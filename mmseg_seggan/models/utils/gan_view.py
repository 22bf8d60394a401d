from dataclasses import dataclass
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmseg.models.utils import resize
from torch import Tensor

from .ddp import unwrap
from .gan_inputs import image_area, one_hot, real_image


def unwrap_seggan(model: torch.nn.Module) -> torch.nn.Module:
    """The SegGAN inside a model wrapper; a clear error for other models."""
    model = unwrap(model)
    if not hasattr(model, 'generator') or not hasattr(model, 'discriminator'):
        raise TypeError(
            f'{type(model).__name__} has no generator/discriminator: mask '
            "quality needs a SegGAN model (config `model.type='SegGAN'`) "
            'and a checkpoint whose phase-1 GAN is trained.')
    return model


@dataclass
class GANView:
    """One batch on the preprocessed grid (G's training scale): ``image`` in
    [-1, 1], G's paintings of the soft/hard prediction, of uniform 1/C
    (``fake_null``: how hard the image is to paint) and of the GT (or None);
    ``region``: not padding; ``d_pred``, ``d_gt``: D's mean logit per image."""
    image: Tensor
    rgb: bool
    region: Tensor
    logits: Tensor
    prob: Tensor
    pred: Tensor
    fake_pred: Tensor
    fake_hard: Tensor
    fake_null: Tensor
    gt: Optional[Tensor]
    fake_gt: Optional[Tensor]
    d_pred: Tensor
    d_gt: Optional[Tensor]
    ignore_index: int
    samples: list

    def __len__(self) -> int:
        return self.image.shape[0]

    def crop(self, i: int) -> Tuple[int, int]:
        """(h, w) of image ``i`` without padding."""
        rows = self.region[i].any(dim=1).nonzero()
        cols = self.region[i].any(dim=0).nonzero()
        return int(rows.max()) + 1, int(cols.max()) + 1


def _gt_on_grid(sample, size: Tuple[int, int], ignore_index: int) -> Tensor:
    gt = sample.gt_sem_seg.data.long().reshape(
        (1, 1) + tuple(sample.gt_sem_seg.data.shape[-2:]))
    h, w = sample.metainfo.get('img_shape', size)[:2]
    if tuple(gt.shape[-2:]) != (h, w):
        gt = F.interpolate(gt.float(), size=(h, w), mode='nearest').long()
    out = torch.full(tuple(size), ignore_index, dtype=torch.long)
    out[:h, :w] = gt[0, 0]
    return out


def _disc_logit(disc: torch.nn.Module, fake: Tensor, cond: Tensor) -> Tensor:
    logits = disc(fake, cond if disc.conditional else None)
    return logits.flatten(1).mean(1)


@torch.no_grad()
def gan_view(model: torch.nn.Module,
             data_batch: dict,
             with_gt: bool = True) -> GANView:
    """Segment a test/val batch with a SegGAN (wrapped or not, in eval mode)
    and let its G paint it back; ``with_gt``: the GT too, if all carry one."""
    model = unwrap_seggan(model)
    data = model.data_preprocessor(data_batch, False)
    inputs, samples = data['inputs'], data['data_samples']
    size = tuple(inputs.shape[2:])
    logits = model.inference(inputs, [s.metainfo for s in samples])
    if tuple(logits.shape[2:]) != size:
        logits = resize(
            logits,
            size=size,
            mode='bilinear',
            align_corners=model.align_corners)
    logits = logits.float()
    prob = logits.softmax(dim=1)
    pred = prob.argmax(dim=1)
    ignore_index = model.decode_head.ignore_index
    region = image_area(samples, size, inputs.device)
    gen, disc = model.generator, model.discriminator
    image = real_image(inputs, model.data_preprocessor)
    fake_pred = gen(prob)
    hard = one_hot(pred, model.num_classes, ignore_index)
    fake_hard = gen(hard)
    fake_null = gen(torch.full_like(prob, 1.0 / prob.shape[1]))
    gt = fake_gt = d_gt = None
    if with_gt and all('gt_sem_seg' in s for s in samples):
        gt = torch.stack([_gt_on_grid(s, size, ignore_index) for s in samples])
        gt = gt.to(inputs.device)
        gt[~region] = ignore_index
        onehot = one_hot(gt, model.num_classes, ignore_index)
        fake_gt = gen(onehot)
        d_gt = _disc_logit(disc, fake_gt, onehot)
    return GANView(
        image=image,
        rgb=bool(getattr(model.data_preprocessor, 'channel_conversion', True)),
        region=region,
        logits=logits,
        prob=prob,
        pred=pred,
        fake_pred=fake_pred,
        fake_hard=fake_hard,
        fake_null=fake_null,
        gt=gt,
        fake_gt=fake_gt,
        d_pred=_disc_logit(disc, fake_pred, prob),
        d_gt=d_gt,
        ignore_index=ignore_index,
        samples=samples)
