import itertools
import numbers
from typing import Iterator, Optional, Sequence

import torch
from mmengine.dataset import ConcatDataset
from mmengine.dist import get_dist_info, sync_random_seed
from mmseg.registry import DATA_SAMPLERS
from torch.utils.data import Sampler


@DATA_SAMPLERS.register_module()
class MultiSourceSampler(Sampler):
    """Infinite ``ConcatDataset`` sampler, fixed counts per batch; each source
    reshuffles on its own, seeded, so a resume sees the same mix.

    Args:
        dataset (ConcatDataset): The sources, in ``source_ratio`` order.
        batch_size (int): The dataloader's batch size.
        source_ratio (Sequence[int]): Whole shares >= 1, e.g. ``[1, 1]``;
            ``batch_size`` must be a multiple of their sum.
        shuffle (bool): Shuffle each source. Defaults to True.
        seed (int, optional): Shuffling seed; the same on every rank.
    """

    def __init__(self,
                 dataset: ConcatDataset,
                 batch_size: int,
                 source_ratio: Sequence[int],
                 shuffle: bool = True,
                 seed: Optional[int] = None) -> None:
        if not hasattr(dataset, 'cumulative_sizes'):
            raise TypeError(
                'MultiSourceSampler needs a ConcatDataset of the sources '
                f'(got {type(dataset).__name__}): set train_dataloader.'
                "dataset=dict(type='ConcatDataset', datasets=[...]).")
        sizes = [len(d) for d in dataset.datasets]
        key = 'train_dataloader.sampler'

        def whole(v) -> bool:
            return isinstance(v, numbers.Integral) and not isinstance(v, bool)

        if not whole(batch_size) or batch_size < 1:
            raise ValueError(
                f'MultiSourceSampler: {key}.batch_size={batch_size!r} must '
                'be a whole number >= 1, the same as train_dataloader.'
                'batch_size.')
        if not all(whole(r) and r >= 0 for r in source_ratio):
            raise ValueError(
                f'MultiSourceSampler: {key}.source_ratio={list(source_ratio)} '
                'must be whole numbers, the relative counts of each source '
                'in a batch (e.g. [1, 1] for half and half, [1, 3] for a '
                'quarter from the first source), not fractions.')
        if len(source_ratio) != len(sizes):
            raise ValueError(
                f'MultiSourceSampler: source_ratio {list(source_ratio)} has '
                f'{len(source_ratio)} entries for {len(sizes)} datasets.')
        unused = [i for i, r in enumerate(source_ratio) if r == 0]
        if unused:
            raise ValueError(
                f'MultiSourceSampler: {key}.source_ratio={list(source_ratio)}'
                f' never draws source(s) {unused} (train_dataloader.dataset.'
                f'datasets.{unused[0]}), which would be loaded and checked '
                'but never trained on. Fix: give each source a share >= 1, '
                'or remove the unused ones from the ConcatDataset.')
        total = sum(source_ratio)
        if any(batch_size * r % total for r in source_ratio):
            raise ValueError(
                f'MultiSourceSampler: a batch of {batch_size} cannot be split '
                f'exactly in the ratio {list(source_ratio)}; choose a '
                f'batch_size that is a multiple of {total}.')
        if 0 in sizes:
            raise ValueError(
                f'MultiSourceSampler: source {sizes.index(0)} is empty.')
        self.dataset = dataset
        self.batch_size = batch_size
        self.source_ratio = list(source_ratio)
        self.num_per_source = [batch_size * r // total for r in source_ratio]
        self.sizes = sizes
        self.offsets = [0] + list(dataset.cumulative_sizes[:-1])
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else seed
        self.rank, self.world_size = get_dist_info()

    def _infinite(self, source: int) -> Iterator[int]:
        g = torch.Generator()
        g.manual_seed(self.seed + 7919 * source)
        n = self.sizes[source]
        while True:
            if self.shuffle:
                yield from torch.randperm(n, generator=g).tolist()
            else:
                yield from range(n)

    def __iter__(self) -> Iterator[int]:
        streams = [
            itertools.islice(
                self._infinite(i), self.rank, None, self.world_size)
            for i in range(len(self.sizes))
        ]
        while True:
            for i, count in enumerate(self.num_per_source):
                for _ in range(count):
                    yield self.offsets[i] + next(streams[i])

    def __len__(self) -> int:
        return len(self.dataset)

    def set_epoch(self, epoch: int) -> None:
        """Not used: the sampler is infinite."""
