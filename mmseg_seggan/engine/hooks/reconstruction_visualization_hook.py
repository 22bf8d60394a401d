"""Show what SegGAN's generator paints from the GT and from the prediction."""
import os.path as osp
import warnings
from typing import Sequence

from mmengine.runner import BaseLoop, Runner
from mmseg.engine.hooks import SegVisualizationHook
from mmseg.registry import HOOKS
from mmseg.structures import SegDataSample

from ...models.utils import gan_view, unwrap_seggan
from ...visualization import view_panels


@HOOKS.register_module()
class SegGANReconstructionVisHook(SegVisualizationHook):
    """mmseg's ``SegVisualizationHook`` drawing one reconstruction panel per
    image; models without a generator get mmseg's drawing, with a warning.

    Args:
        interval (int): Draw every ``interval`` val/test iterations.
        error_vmax (float): RMS error drawn as full scale. Defaults to 1.0.
        titles (bool): Write tile titles. Defaults to True.
        **kwargs: ``draw``, ``show``, ... as mmseg's hook.
    """

    def __init__(self,
                 interval: int = 50,
                 error_vmax: float = 1.0,
                 titles: bool = True,
                 **kwargs):
        if interval < 1:
            raise ValueError(
                f'SegGANReconstructionVisHook(interval={interval}): interval '
                'must be >= 1 (1 draws every iteration).')
        super().__init__(interval=interval, **kwargs)
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

    # The onedl fork overrides these two; mmseg 1.2 calls _after_iter.
    def after_val_iter(self, runner, batch_idx, data_batch, outputs) -> None:
        self._after_iter(runner, batch_idx, data_batch, outputs, 'val')

    def after_test_iter(self, runner, batch_idx, data_batch, outputs) -> None:
        self._after_iter(runner, batch_idx, data_batch, outputs, 'test')

    def _after_iter(self,
                    runner: Runner,
                    batch_idx: int,
                    data_batch: dict,
                    outputs: Sequence[SegDataSample],
                    mode: str = 'val') -> None:
        """Draw the panels of this batch every ``interval`` iterations."""
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
            own = vars(SegVisualizationHook).get(f'after_{mode}_iter')
            if own is not None:  # the onedl fork
                own(self, runner, batch_idx, data_batch, outputs)
            else:
                super()._after_iter(runner, batch_idx, data_batch, outputs,
                                    mode)
            return
        view = gan_view(model, data_batch)
        panels = view_panels(
            view,
            self._palette(model),
            error_vmax=self.error_vmax,
            titles=self.titles)
        for output, panel in zip(outputs, panels):
            path = output.metainfo.get('img_path')
            name = f'{mode}_{osp.basename(path) if path else "image"}'
            if self.show:
                self._visualizer.show(
                    panel, win_name=name, wait_time=self.wait_time)
            else:
                self._visualizer.add_image(
                    name, panel, step=_train_iter(runner))


def _train_iter(runner: Runner) -> int:
    """The training iteration, or 0 (``runner.iter`` would build the loop)."""
    loop = getattr(runner, '_train_loop', None)
    return loop.iter if isinstance(loop, BaseLoop) else 0
