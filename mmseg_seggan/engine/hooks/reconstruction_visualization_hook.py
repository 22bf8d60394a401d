"""Show what SegGAN's generator paints from the GT and from the prediction."""
import os.path as osp
import warnings
from typing import Optional, Sequence

from mmengine.runner import BaseLoop, Runner
from mmseg.engine.hooks import SegVisualizationHook
from mmseg.registry import HOOKS
from mmseg.structures import SegDataSample

from ...models.utils import gan_view, unwrap_seggan
from ...visualization.reconstruction_panel import view_panels


@HOOKS.register_module()
class SegGANReconstructionVisHook(SegVisualizationHook):
    """mmseg's ``SegVisualizationHook``, with the GAN's view added.

    After every ``interval`` validation or test iterations it draws, per
    image, one row of six tiles at the segmentor's input scale::

        image | ground truth | prediction | G(one-hot GT) | G(prediction)
              | per-pixel error of G(prediction)

    and hands it to the runner's visualizer (``add_image``), so every vis
    backend (``LocalVisBackend``, ``TensorBoardVisBackend``, ...) gets it.
    Masks use the dataset's palette (``visualizer.dataset_meta``).

    Use it in a SegGAN config in place of mmseg's hook; ``tools/test.py
    --show-dir`` then draws these panels::

        default_hooks = dict(visualization=dict(
            type='SegGANReconstructionVisHook', draw=False, interval=50))

    Models without a generator (a plain EncoderDecoder, a TTA wrapper) get
    mmseg's usual GT | prediction drawing instead, with one warning.

    Args:
        draw (bool): Draw at all. Defaults to False.
        interval (int): Draw every ``interval`` val/test iterations.
            Defaults to 50.
        show (bool): Show in a window instead of the vis backends.
            Defaults to False.
        wait_time (float): Seconds a shown window stays. Defaults to 0.
        error_vmax (float): RMS error (image in [-1, 1]) drawn as full
            scale in the error tile. Defaults to 1.0.
        titles (bool): Write tile titles. Defaults to True.
        backend_args (dict, optional): File backend (for mmseg's fallback).
    """

    def __init__(self,
                 draw: bool = False,
                 interval: int = 50,
                 show: bool = False,
                 wait_time: float = 0.,
                 error_vmax: float = 1.0,
                 titles: bool = True,
                 backend_args: Optional[dict] = None):
        if interval < 1:
            raise ValueError(
                f'SegGANReconstructionVisHook(interval={interval}): interval '
                'must be >= 1 (1 draws every iteration).')
        super().__init__(
            draw=draw,
            interval=interval,
            show=show,
            wait_time=wait_time,
            backend_args=backend_args)
        self.error_vmax = error_vmax
        self.titles = titles
        self._warned = False

    def _palette(self, model) -> Sequence[Sequence[int]]:
        meta = getattr(self._visualizer, 'dataset_meta', None) or getattr(
            model, 'dataset_meta', None) or {}
        palette = meta.get('palette')
        if palette is None or len(palette) < model.num_classes:
            raise ValueError(
                'SegGANReconstructionVisHook needs a palette with one colour '
                f'per class ({model.num_classes}); the dataset metainfo has '
                f'{None if palette is None else len(palette)}. Set `palette` '
                'in the dataset\'s METAINFO or `metainfo` config.')
        return palette

    def _after_iter(self,
                    runner: Runner,
                    batch_idx: int,
                    data_batch: dict,
                    outputs: Sequence[SegDataSample],
                    mode: str = 'val') -> None:
        """Draw the panels of this batch every ``interval`` iterations.

        Args:
            runner: The runner of the val or test loop.
            batch_idx: Index of the batch in the loop.
            data_batch: The batch from the dataloader.
            outputs: The model's predictions (names the images).
            mode: 'val', 'test' ('train' is skipped).
        """
        if self.draw is False or mode == 'train':
            return
        if not self.every_n_inner_iters(batch_idx, self.interval):
            return
        try:
            model = unwrap_seggan(runner.model)
        except TypeError as err:
            if not self._warned:
                warnings.warn(f'{err} Drawing GT | prediction only.')
                self._warned = True
            super()._after_iter(runner, batch_idx, data_batch, outputs, mode)
            return
        view = gan_view(model, data_batch)
        panels = view_panels(
            view,
            self._palette(model),
            error_vmax=self.error_vmax,
            titles=self.titles)
        for output, panel in zip(outputs, panels):
            name = f'{mode}_{_basename(output)}'
            if self.show:
                self._visualizer.show(
                    panel, win_name=name, wait_time=self.wait_time)
            else:
                self._visualizer.add_image(
                    name, panel, step=_train_iter(runner))


def _train_iter(runner: Runner) -> int:
    """The training iteration, or 0 when no training loop exists.

    ``runner.iter`` would build the training loop (and its dataset) just to
    read a counter, so ``tools/test.py`` would need the training data.
    """
    loop = getattr(runner, '_train_loop', None)
    return loop.iter if isinstance(loop, BaseLoop) else 0


def _basename(sample: SegDataSample) -> str:
    path = sample.metainfo.get('img_path')
    return osp.basename(path) if path else 'image'
