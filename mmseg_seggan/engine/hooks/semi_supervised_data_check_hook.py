import hashlib
import os
import os.path as osp
from functools import lru_cache
from typing import Dict, Iterable, List, Optional, Set, Tuple

import cv2
import numpy as np
from mmengine.hooks import Hook
from mmseg.registry import DATASETS, HOOKS

from ...datasets.samplers import MultiSourceSampler
from ...datasets.validation import format_names

SPLITS_TOOL = 'tools/dataset_converters/make_semi_splits.py'


def _sources(dataset, where: str) -> List[Tuple[str, object]]:
    if hasattr(dataset, 'datasets'):
        return [(f'{where}.datasets.{i}', d)
                for i, d in enumerate(dataset.datasets)]
    return [(where, dataset)]


def _files(dataset, key: str) -> Set[str]:
    infos = (dataset.get_data_info(i) for i in range(len(dataset)))
    return {osp.realpath(d[key]) for d in infos if d.get(key)}


def _sha256(path: str) -> str:
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def _thumbnail(path: str) -> Optional[np.ndarray]:
    img = cv2.imread(path, cv2.IMREAD_GRAYSCALE)  # None: unreadable
    return None if img is None or not img.size else cv2.resize(
        img,
        (16, 16), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()


class _Copies:
    """Files of one set that are files or pictures of another: same inode,
    same SHA-256, or 16x16 grey thumbnails within ``max_rms`` (a resized or
    cropped copy may be missed); each file is read at most once."""

    def __init__(self, max_rms: Optional[float]) -> None:
        self.max_rms = max_rms
        self.stat = lru_cache(None)(os.stat)
        self.sha = lru_cache(None)(_sha256)
        self.thumb = lru_cache(None)(_thumbnail)

    def _inode(self, path: str) -> Tuple[int, int]:
        return self.stat(path).st_dev, self.stat(path).st_ino

    def find(self, files: Iterable[str], originals: Iterable[str],
             content: bool) -> List[str]:
        """Files that are originals, and how (if content: bytes, pictures)."""
        originals = sorted(originals)
        inode = {self._inode(p): p for p in originals}
        found: Dict[str, str] = {}
        rest = []
        for f in sorted(files):
            p = inode.get(self._inode(f))
            if p:
                found[f] = f if p == f else f'{f} (the file {p}: a hard link)'
            else:
                rest.append(f)
        if not content:
            return list(found.values())
        sizes: Dict[int, List[str]] = {}
        for p in originals:
            sizes.setdefault(self.stat(p).st_size, []).append(p)
        for f in rest:
            p = next((p for p in sizes.get(self.stat(f).st_size, ())
                      if self.sha(p) == self.sha(f)), None)
            if p:
                found[f] = f'{f} (a copy of {p})'
        if self.max_rms is not None:
            self._same_picture([f for f in rest if f not in found], originals,
                               found)
        return [found[f] for f in sorted(found)]

    def _same_picture(self, files: List[str], originals: List[str],
                      found: Dict[str, str]) -> None:
        files = [f for f in files if self.thumb(f) is not None]
        known = [p for p in originals if self.thumb(p) is not None]
        if not files or not known:
            return
        ref = np.stack([self.thumb(p) for p in known])
        ref_sq = (ref**2).sum(1)
        for f in files:
            t = self.thumb(f)
            d = (ref_sq + (t**2).sum() - 2 * ref @ t) / t.size
            i = int(d.argmin())
            rms = float(np.sqrt(max(d[i], 0)))
            if rms <= self.max_rms:
                found[f] = (f'{f} (the picture of {known[i]}, re-encoded: '
                            f'thumbnail RMS {rms:.2f})')


@HOOKS.register_module()
class SemiSupervisedDataCheckHook(Hook):
    """Refuse, before the first iteration, training data that leaks.

    Semi-supervised results mean something only if no training image is a
    val/test one, no unlabeled image a labeled or mask one (nor a copy or
    re-encode), and ``MultiSourceSampler`` batches as the dataloader does.

    Args:
        max_thumbnail_rms (float, optional): Re-encode RMS limit; None: off.
    """
    priority = 'VERY_HIGH'

    def __init__(self, max_thumbnail_rms: Optional[float] = 1.5) -> None:
        self.max_thumbnail_rms = max_thumbnail_rms

    def before_train(self, runner) -> None:
        loader = runner.train_dataloader
        self._check_batches(loader)
        copies = _Copies(self.max_thumbnail_rms)
        train = _sources(loader.dataset, 'train_dataloader.dataset')
        images = {k: _files(d, 'img_path') for k, d in train}
        masks = {k: _files(d, 'seg_map_path') for k, d in train}
        labeled = [k for k in images if masks[k]]
        unlabeled = [k for k in images if not masks[k]]
        problems = []

        def refuse(files: List[str], what: str, fix: str) -> None:
            if files:
                problems.append(f'{len(files)} {what}: '
                                f'{format_names(files)}. {fix}')

        for lab in labeled:
            for unl in unlabeled:
                refuse(
                    copies.find(images[unl], images[lab], content=True),
                    f'image(s) are in both the labeled source {lab} and '
                    f'the unlabeled source {unl}',
                    'Each would be trained on twice, once with its mask. '
                    'Fix: make the unlabeled split the complement of the '
                    f'labeled one ({SPLITS_TOOL} writes both, '
                    'labeled_1-K.txt and unlabeled_1-K.txt), and remove '
                    'copies of labeled images from the unlabeled images.')
        for name, (eval_images, eval_masks) in self._eval_sets(runner):
            masks[name], images[name] = eval_masks, eval_images
            for key, _ in train:
                refuse(
                    copies.find(images[key], eval_images, key in unlabeled),
                    f'training image(s) of {key} are {name} images',
                    'The model would be evaluated on images it was trained '
                    'on. Fix: give the unlabeled source the training '
                    'images only: an ann_file listing them (e.g. the '
                    f'unlabeled_1-K.txt of {SPLITS_TOOL}) rather than '
                    "ann_file='' on a folder that holds evaluation images, "
                    'and remove copies of evaluation images from it.')
        # A folder of masks, unless images of the labeled sets lie there.
        image_dirs = {
            osp.dirname(f)
            for k in images if masks.get(k) for f in images[k]
        }
        for unl in unlabeled:
            for key, key_masks in masks.items():
                mask_dirs = {osp.dirname(f) for f in key_masks} - image_dirs
                in_masks = sorted(
                    f for f in images[unl]
                    if f in key_masks or osp.dirname(f) in mask_dirs)
                refuse(
                    in_masks, f'unlabeled image(s) of {unl} are in the mask '
                    f'folder of {key}', 'Its data_prefix.img_path points at '
                    'masks, not images. Fix: point it at the image folder.')
        if problems:
            raise ValueError(
                'SemiSupervisedDataCheckHook: the training data would leak '
                'labels or evaluation images:\n- ' + '\n- '.join(problems))

    @staticmethod
    def _check_batches(loader) -> None:
        sampler = getattr(loader.batch_sampler, 'sampler', loader.sampler)
        size = loader.batch_size or getattr(loader.batch_sampler, 'batch_size',
                                            None)
        if isinstance(sampler, MultiSourceSampler) and \
                sampler.batch_size != size:
            raise ValueError(
                f'train_dataloader.sampler.batch_size={sampler.batch_size} '
                '(MultiSourceSampler) differs from train_dataloader.'
                f'batch_size={size}: batches would not hold the sources in '
                f'the configured ratio ({sampler.num_per_source} per '
                'source), e.g. alternate all-labeled and all-unlabeled. Fix: '
                'give both the same value.')

    @staticmethod
    def _eval_sets(runner) -> List[Tuple[str, Tuple[Set[str], Set[str]]]]:
        found, seen = [], []
        for split in ('val', 'test'):
            cfg = (runner.cfg.get(f'{split}_dataloader') or {}).get('dataset')
            if cfg and cfg not in seen:
                seen.append(cfg)
                found += [
                    (key, (_files(d, 'img_path'), _files(d, 'seg_map_path')))
                    for key, d in _sources(
                        DATASETS.build(cfg), f'{split}_dataloader.dataset')
                ]
        return found
