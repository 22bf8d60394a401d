"""Panels of what SegGAN's G makes of a mask: six tiles per image at the
segmentor's input scale; the error tile's scale is fixed so images compare."""
from typing import List, Optional, Sequence

import cv2
import numpy as np
import torch
from torch import Tensor

PANEL_TITLES = ('image', 'ground truth', 'prediction', 'G(one-hot GT)',
                'G(prediction)', 'error of G(prediction)')
NUM_TILES = len(PANEL_TITLES)


def to_uint8_image(img: Tensor, rgb: bool = True) -> np.ndarray:
    """A (3, H, W) image in [-1, 1] as an (H, W, 3) RGB uint8 array."""
    arr = ((img.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round()
    arr = arr.to(torch.uint8).permute(1, 2, 0).numpy()
    return np.ascontiguousarray(arr if rgb else arr[..., ::-1])


def colorize_mask(
    mask: np.ndarray,
    palette: Sequence[Sequence[int]],
    ignore_color: Sequence[int] = (0, 0, 0)
) -> np.ndarray:
    """Labels to RGB by ``palette``; labels outside it get ``ignore_color``."""
    mask = np.asarray(mask).astype(np.int64)
    lut = np.array(list(palette) + [list(ignore_color)], dtype=np.uint8)
    idx = np.where((mask >= 0) & (mask < len(palette)), mask, len(palette))
    return lut[idx]


def error_heatmap(error: np.ndarray, vmax: float = 1.0) -> np.ndarray:
    """A non-negative (H, W) error map as RGB (inferno, 0 to ``vmax``)."""
    scaled = np.clip(np.asarray(error, np.float32) / vmax, 0, 1)
    bgr = cv2.applyColorMap((scaled * 255).astype(np.uint8),
                            cv2.COLORMAP_INFERNO)
    return bgr[..., ::-1].copy()


def _put_text(tile: np.ndarray, text: str) -> None:
    h, w = tile.shape[:2]
    scale = max(0.3, min(0.6, w / 400))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    tile[:th + base + 4, :min(w, tw + 4)] //= 3
    cv2.putText(tile, text, (2, th + 2), cv2.FONT_HERSHEY_SIMPLEX, scale,
                (255, 255, 255), 1, cv2.LINE_AA)


def reconstruction_panel(image: np.ndarray,
                         pred: np.ndarray,
                         fake_pred: np.ndarray,
                         error: np.ndarray,
                         palette: Sequence[Sequence[int]],
                         gt: Optional[np.ndarray] = None,
                         fake_gt: Optional[np.ndarray] = None,
                         error_vmax: float = 1.0,
                         titles: bool = True) -> np.ndarray:
    """The six tiles of one image side by side: (H, 6 W, 3) RGB uint8.

    Args:
        image, fake_pred, fake_gt: (H, W, 3) RGB uint8: the image,
            G(prediction) and G(one-hot GT) (None: a gray tile).
        pred, gt: (H, W) predicted and GT labels; gt None gives gray tiles.
        error, error_vmax: (H, W) RMS error of G(prediction); its full scale.
        palette, titles: RGB colour per class; write each tile's title on it.
    """
    shape = image.shape
    missing = np.full(shape[:2] + (3, ), 96, np.uint8)  # gray
    for name, arr in (('pred', pred), ('fake_pred', fake_pred),
                      ('error', error), ('gt', gt), ('fake_gt', fake_gt)):
        if arr is not None and arr.shape[:2] != shape[:2]:
            raise ValueError(f'{name} is {arr.shape[:2]} but the image is '
                             f'{shape[:2]}: all tiles must match.')
    tiles = [
        image.copy(),
        colorize_mask(gt, palette) if gt is not None else missing,
        colorize_mask(pred, palette),
        fake_gt.copy() if fake_gt is not None else missing.copy(),
        fake_pred.copy(),
        error_heatmap(error, error_vmax),
    ]
    if titles:
        for tile, title in zip(tiles, PANEL_TITLES):
            _put_text(tile, title)
    return np.concatenate(tiles, axis=1)


def view_panels(view,
                palette: Sequence[Sequence[int]],
                error_vmax: float = 1.0,
                titles: bool = True) -> List[np.ndarray]:
    """One :func:`reconstruction_panel` per ``GANView`` image, unpadded."""
    panels = []
    for i in range(len(view)):
        h, w = view.crop(i)
        err = ((view.fake_pred[i] - view.image[i])**2).mean(0).sqrt()[:h, :w]
        gt = fake_gt = None
        if view.gt is not None:
            gt = view.gt[i, :h, :w].cpu().numpy()
            fake_gt = to_uint8_image(view.fake_gt[i, :, :h, :w], view.rgb)
        panels.append(
            reconstruction_panel(
                to_uint8_image(view.image[i, :, :h, :w], view.rgb),
                view.pred[i, :h, :w].cpu().numpy(),
                to_uint8_image(view.fake_pred[i, :, :h, :w], view.rgb),
                err.cpu().numpy(),
                palette,
                gt=gt,
                fake_gt=fake_gt,
                error_vmax=error_vmax,
                titles=titles))
    return panels


def contact_sheet(panels: Sequence[np.ndarray],
                  captions: Sequence[str],
                  max_width: Optional[int] = None) -> np.ndarray:
    """Panels under their captions, padded right, scaled to ``max_width``."""
    if len(panels) != len(captions):
        raise ValueError('One caption per panel is needed.')
    if not panels:
        raise ValueError('No panels to put on a contact sheet.')
    rows = []
    width = max(p.shape[1] for p in panels)
    for panel, caption in zip(panels, captions):
        strip = np.full((20, width, 3), 255, np.uint8)
        cv2.putText(strip, caption, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                    (0, 0, 0), 1, cv2.LINE_AA)
        pad = np.zeros((panel.shape[0], width - panel.shape[1], 3), np.uint8)
        rows += [strip, np.concatenate([panel, pad], axis=1)]
    sheet = np.concatenate(rows, axis=0)
    if max_width is not None and sheet.shape[1] > max_width:
        scale = max_width / sheet.shape[1]
        sheet = cv2.resize(
            sheet, (max_width, max(1, round(sheet.shape[0] * scale))),
            interpolation=cv2.INTER_AREA)
    return sheet
