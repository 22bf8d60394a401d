"""MultiSourceSampler: a fixed labeled/unlabeled mix in every batch."""
import itertools

import pytest
from mmengine.dataset import BaseDataset, ConcatDataset

from mmseg_seggan.datasets import MultiSourceSampler


class _Range(BaseDataset):

    def __init__(self, n):
        self.n = n
        super().__init__(serialize_data=False)

    def load_data_list(self):
        return [dict(index=i) for i in range(self.n)]


def _concat(*sizes):
    return ConcatDataset([_Range(n) for n in sizes])


def _batches(sampler, n, batch):
    it = iter(sampler)
    return [list(itertools.islice(it, batch)) for _ in range(n)]


def test_every_batch_has_the_ratio_and_each_source_is_covered():
    ds = _concat(5, 40)  # 5 labeled, 40 unlabeled
    sampler = MultiSourceSampler(ds, batch_size=8, source_ratio=[1, 3], seed=0)
    assert sampler.num_per_source == [2, 6]
    batches = _batches(sampler, 30, 8)
    for b in batches:
        assert sum(i < 5 for i in b) == 2
        assert sum(i >= 5 for i in b) == 6
    labeled = [i for b in batches for i in b if i < 5]
    # each pass over a source is a permutation of it
    for k in range(0, len(labeled) - 4, 5):
        assert sorted(labeled[k:k + 5]) == list(range(5))
    unlabeled = {i for b in batches for i in b if i >= 5}
    assert unlabeled == set(range(5, 45))


def test_the_stream_is_a_function_of_the_seed():
    ds = _concat(6, 10)
    a = _batches(MultiSourceSampler(ds, 4, [1, 1], seed=3), 20, 4)
    b = _batches(MultiSourceSampler(ds, 4, [1, 1], seed=3), 20, 4)
    c = _batches(MultiSourceSampler(ds, 4, [1, 1], seed=4), 20, 4)
    assert a == b  # a resumed loader, advanced to iteration k, sees a[k:]
    assert a != c


def test_bad_settings_are_refused():
    ds = _concat(6, 10)
    with pytest.raises(ValueError, match='multiple of 6'):
        MultiSourceSampler(ds, 8, [1, 5], seed=0)  # would not be 1:5
    with pytest.raises(ValueError, match='2 datasets'):
        MultiSourceSampler(ds, 4, [1, 1, 1], seed=0)
    with pytest.raises(TypeError, match='ConcatDataset'):
        MultiSourceSampler(_Range(4), 4, [1], seed=0)


def test_fractional_source_ratio_is_refused_when_built():
    # Bug: [0.5, 0.5] built, then failed at the first batch with a bare
    # "TypeError: 'float' object cannot be interpreted as an integer".
    ds = _concat(6, 10)
    with pytest.raises(ValueError, match=r'\[0.5, 0.5\] must be whole'):
        MultiSourceSampler(ds, 4, [0.5, 0.5], seed=0)
    with pytest.raises(ValueError, match='whole numbers'):
        MultiSourceSampler(ds, 4, [1.0, 1.0], seed=0)


def test_a_float_batch_size_is_refused_when_built():
    # Bug (issue 33): batch_size=2.0 built, then a raw TypeError ('float'
    # object cannot be interpreted as an integer) at the first batch.
    with pytest.raises(ValueError) as e:
        MultiSourceSampler(_concat(6, 10), 2.0, [1, 1], seed=0)
    assert 'train_dataloader.sampler.batch_size=2.0 must be a whole' \
        in str(e.value)


def test_a_source_never_drawn_is_refused():
    # Bug (issue 33): source_ratio=[1, 0] was accepted; the second source
    # was never drawn, without a word.
    with pytest.raises(ValueError) as e:
        MultiSourceSampler(_concat(6, 10), 2, [1, 0], seed=0)
    assert 'never draws source(s) [1] (train_dataloader.dataset.datasets.1)' \
        in str(e.value) and 'Fix:' in str(e.value)
