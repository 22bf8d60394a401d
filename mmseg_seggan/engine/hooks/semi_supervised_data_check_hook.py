"""``SemiSupervisedDataCheckHook``: no leak, no lopsided batch, before the
first iteration of a semi-supervised run."""
import os.path as osp
from typing import Dict, List, Set, Tuple

from mmengine.hooks import Hook
from mmseg.registry import DATASETS, HOOKS

from ...datasets.samplers import MultiSourceSampler
from ...datasets.validation import format_names

SPLITS_TOOL = 'tools/dataset_converters/make_semi_splits.py'


def _sources(dataset, where: str) -> List[Tuple[str, object]]:
    """``(config key, dataset)`` of each source of a (Concat)Dataset."""
    if hasattr(dataset, 'datasets'):
        return [(f'{where}.datasets.{i}', d)
                for i, d in enumerate(dataset.datasets)]
    return [(where, dataset)]


def _files(dataset, key: str) -> Set[str]:
    """Real paths of the samples' ``key`` files (symlinks resolved)."""
    infos = (dataset.get_data_info(i) for i in range(len(dataset)))
    return {osp.realpath(d[key]) for d in infos if d.get(key)}


@HOOKS.register_module()
class SemiSupervisedDataCheckHook(Hook):
    """Refuse, before the first iteration, training data that leaks.

    Semi-supervised results mean something only if the unlabeled images
    are neither labeled training images nor evaluation images, and if every
    batch mixes the sources as configured. Checked, by real file path, on
    ``train_dataloader`` against the config's ``val_dataloader`` and
    ``test_dataloader`` datasets:

    - no image is in a labeled and an unlabeled source (it would be trained
      on twice, once with its mask);
    - no training image is a val or test image (e.g. ``ann_file=''`` on
      ``img_dir/val``, or on Stanford Background's ``images/``, which holds
      the test images too);
    - no unlabeled image is a mask file (``img_path`` on the mask folder);
    - ``MultiSourceSampler``'s ``batch_size`` is the dataloader's (else
      batches alternate all-labeled / all-unlabeled).

    A source is labeled when its samples have a ``seg_map_path``. Each
    failure is a ``ValueError`` naming the config keys, the files (first
    10) and the fix. Named in the semi-supervised configs
    (``default_hooks.semi_data_check``).
    """
    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        loader = runner.train_dataloader
        self._check_batches(loader)
        train = _sources(loader.dataset, 'train_dataloader.dataset')
        images = {k: _files(d, 'img_path') for k, d in train}
        masks = {k: _files(d, 'seg_map_path') for k, d in train}
        labeled = [k for k in images if masks[k]]
        unlabeled = [k for k in images if not masks[k]]
        problems = []

        def refuse(files: Set[str], what: str, fix: str) -> None:
            if files:
                problems.append(f'{len(files)} {what}: '
                                f'{format_names(sorted(files))}. {fix}')

        for lab in labeled:
            for unl in unlabeled:
                refuse(
                    images[lab] & images[unl],
                    f'image(s) are in both the labeled source {lab} and '
                    f'the unlabeled source {unl}',
                    'Each would be trained on twice, once with its mask. '
                    'Fix: make the unlabeled split the complement of the '
                    f'labeled one ({SPLITS_TOOL} writes both, '
                    'labeled_1-K.txt and unlabeled_1-K.txt).')
        for name, (eval_images, eval_masks) in self._eval_sets(runner):
            masks[name], images[name] = eval_masks, eval_images
            for key, _ in train:
                refuse(
                    images[key] & eval_images,
                    f'training image(s) of {key} are {name} images',
                    'The model would be evaluated on images it was trained '
                    'on. Fix: give the unlabeled source the training '
                    'images only: an ann_file listing them (e.g. the '
                    f'unlabeled_1-K.txt of {SPLITS_TOOL}) rather than '
                    "ann_file='' on a folder that holds evaluation images "
                    "(Stanford Background's images/ holds the test images "
                    'too).')
        # A folder of masks, unless images of the labeled sets lie there.
        image_dirs = {
            osp.dirname(f)
            for k in images if masks.get(k) for f in images[k]
        }
        for unl in unlabeled:
            for key, key_masks in masks.items():
                mask_dirs = {osp.dirname(f) for f in key_masks} - image_dirs
                in_masks = {
                    f
                    for f in images[unl]
                    if f in key_masks or osp.dirname(f) in mask_dirs
                }
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
                'train_dataloader.sampler.batch_size='
                f'{sampler.batch_size} (MultiSourceSampler) differs from '
                f'train_dataloader.batch_size={size}: the sampler lays out '
                f'batches of {sampler.batch_size} '
                f'({sampler.num_per_source} per source), the dataloader '
                f'cuts them every {size}, so batches would not hold the '
                'sources in the configured ratio (e.g. alternate '
                'all-labeled and all-unlabeled). Fix: give both the same '
                'value.')

    @staticmethod
    def _eval_sets(runner) -> List[Tuple[str, Tuple[Set[str], Set[str]]]]:
        """Images and masks of the config's val and test datasets."""
        found: Dict[str, Tuple[Set[str], Set[str]]] = {}
        seen = []
        for split in ('val', 'test'):
            cfg = (runner.cfg.get(f'{split}_dataloader') or {}).get('dataset')
            if not cfg or cfg in seen:
                continue
            seen.append(cfg)
            for key, d in _sources(
                    DATASETS.build(cfg), f'{split}_dataloader.dataset'):
                found[key] = (_files(d, 'img_path'), _files(d, 'seg_map_path'))
        return list(found.items())
