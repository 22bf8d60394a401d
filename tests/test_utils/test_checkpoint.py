"""Checkpoints load with weights-only semantics, and say why they don't."""
import os
import os.path as osp

import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner.checkpoint import _load_checkpoint
from seggan_testing import Payload

from mmseg_seggan.utils import (CorruptCheckpointError, UnsafeCheckpointError,
                                load_checkpoint_file)


def test_message_hub_round_trips_weights_only(tmp_path):
    hub = MessageHub('ckpt_test')
    for v in (1.0, 2.0, 3.5):
        hub.update_scalar('train/loss', v)
    hub.update_info('eta', __import__('numpy').float64(12.5))
    path = str(tmp_path / 'hub.pth')
    torch.save(dict(message_hub=hub.state_dict()), path)
    loaded = load_checkpoint_file(path)['message_hub']
    buf = loaded['log_scalars']['train/loss']
    assert isinstance(buf, HistoryBuffer)
    assert buf.mean() == pytest.approx(6.5 / 3) and buf.current() == 3.5
    assert loaded['runtime_info']['eta'] == 12.5


@pytest.mark.parametrize('loader', ['direct', 'mmengine'])
def test_pickle_payload_refused_and_never_runs(tmp_path, loader):
    sentinel = str(tmp_path / 'PWNED')
    path = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict={}, meta=Payload(sentinel)), path)
    assert not osp.exists(sentinel)
    load = (
        load_checkpoint_file if loader == 'direct' else
        lambda p: _load_checkpoint(p, map_location='cpu'))
    with pytest.raises(
            UnsafeCheckpointError, match='is not a plain checkpoint') as e:
        load(path)
    assert path in str(e.value)
    assert not osp.exists(sentinel)


def test_truncated_checkpoint_names_file(tmp_path):
    path = str(tmp_path / 'cut.pth')
    torch.save(dict(state_dict={'w': torch.ones(1000)}), path)
    size = os.path.getsize(path)
    with open(path, 'r+b') as f:
        f.truncate(size // 2)
    with pytest.raises(CorruptCheckpointError, match='cut.pth'):
        load_checkpoint_file(path)


def test_missing_checkpoint_names_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        load_checkpoint_file(str(tmp_path / 'nope.pth'))
