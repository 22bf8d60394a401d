"""What SegGAN's G and D see, shared by training and the tools."""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from mmseg.utils import SampleList
from torch import Tensor


def real_image(inputs: Tensor, data_preprocessor) -> Tensor:
    """Inputs de-normalised to [-1, 1] (G's range), preprocessor's channels."""
    img = inputs
    if getattr(data_preprocessor, '_enable_normalize', False):
        img = img * data_preprocessor.std + data_preprocessor.mean
    return img / 127.5 - 1.0


def one_hot(labels: Tensor, num_classes: int, ignore_index: int) -> Tensor:
    """(N, C, H, W) float one-hot; ignored pixels all-zero (no class)."""
    valid = labels != ignore_index
    if (labels[valid] >= num_classes).any() or (labels[valid] < 0).any():
        bad = torch.unique(
            labels[valid & ((labels >= num_classes) | (labels < 0))]).tolist()
        raise ValueError(
            f'Label values {bad} are outside [0, {num_classes}) and are not '
            f'the ignore index {ignore_index}. Check the dataset (see its '
            'loading errors) and `decode_head.num_classes`.')
    labels = torch.where(valid, labels, torch.zeros_like(labels))
    onehot = F.one_hot(labels, num_classes).permute(0, 3, 1, 2)
    return onehot.to(torch.float32) * valid.unsqueeze(1)


def image_area(data_samples: Sequence,
               size: Tuple[int, int],
               device=None) -> Tensor:
    """(N, H, W) bool: each image inside the padded (bottom/right) batch."""
    area = torch.zeros(
        (len(data_samples), ) + tuple(size), dtype=torch.bool, device=device)
    for i, sample in enumerate(data_samples):
        h, w = sample.metainfo.get('img_shape', size)[:2]
        area[i, :h, :w] = True
    return area


def content_mask(inputs: Tensor, data_samples: SampleList,
                 ignore_index: int) -> Tensor:
    """(N, 1, H, W) bool: content-loss pixels (GT not ignored, else area)."""
    size = inputs.shape[2:]
    masks = [
        s.gt_sem_seg.data.to(inputs.device) != ignore_index
        if 'gt_sem_seg' in s else image_area([s], size, inputs.device)
        for s in data_samples
    ]
    return torch.stack(masks)
