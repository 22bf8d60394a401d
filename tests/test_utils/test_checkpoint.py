"""Checkpoints load with weights-only semantics, and say why they don't."""
import os
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner.checkpoint import _load_checkpoint
from seggan_testing import Payload

from mmseg_seggan.utils import (CorruptCheckpointError, UnsafeCheckpointError,
                                load_checkpoint_file, plain_message_hub,
                                restore_message_hub)


def test_message_hub_round_trips_weights_only(tmp_path):
    """The plain form needs no allow-list: torch's own weights-only load
    (mmseg's init_model, MMSegInferencer, mmseg's test.py) reads it."""
    hub = MessageHub('ckpt_test')
    for v in (1.0, 2.0, 3.5):
        hub.update_scalar('train/loss', v)
    hub.update_info('eta', np.float64(12.5))
    path = str(tmp_path / 'hub.pth')
    torch.save(dict(message_hub=plain_message_hub(hub.state_dict())), path)
    plain = torch.load(path, weights_only=True)['message_hub']
    loaded = restore_message_hub(plain)
    buf = loaded['log_scalars']['train/loss']
    assert isinstance(buf, HistoryBuffer)
    assert buf.mean() == pytest.approx(6.5 / 3) and buf.current() == 3.5
    assert loaded['runtime_info']['eta'] == 12.5
    restored = MessageHub('ckpt_test_2')
    restored.load_state_dict(loaded)
    assert restored.get_scalar('train/loss').data[0].tolist() == [1., 2., 3.5]


class _LegacyBuffer:
    """How checkpoints of earlier versions pickled a HistoryBuffer."""

    def __reduce__(self):
        return (HistoryBuffer, ([1.0, 2.5], [1, 1], 20))


def test_checkpoints_of_earlier_versions_still_load(tmp_path):
    """Bug: the work dirs of runs started before the plain form (a
    HistoryBuffer and numpy scalars pickled by class) could no longer be
    resumed or used as ``load_from``."""
    path = str(tmp_path / 'old.pth')
    torch.save(
        dict(
            message_hub=dict(
                log_scalars={'train/loss': _LegacyBuffer()},
                runtime_info={'eta': np.float64(3.0)})), path)
    with pytest.raises(Exception, match='HistoryBuffer'):
        torch.load(path, weights_only=True)  # what needs the allow-list
    hub = load_checkpoint_file(path)['message_hub']
    assert hub['log_scalars']['train/loss'].current() == 2.5
    assert hub['runtime_info']['eta'] == 3.0
    # the allow-list was for that one load only
    with pytest.raises(Exception, match='HistoryBuffer'):
        torch.load(path, weights_only=True)


@pytest.mark.parametrize('loader', ['direct', 'seggan_scheme'])
def test_pickle_payload_refused_and_never_runs(tmp_path, loader):
    sentinel = str(tmp_path / 'PWNED')
    path = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict={}, meta=Payload(sentinel)), path)
    assert not osp.exists(sentinel)
    load = (
        load_checkpoint_file if loader == 'direct' else
        lambda p: _load_checkpoint('seggan://' + p, map_location='cpu'))
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


def test_mmengine_plain_path_stays_mmengine_and_weights_only(tmp_path):
    """Without the scheme, mmengine's own loader reads the file (nothing of
    it is replaced), and torch's weights-only default still refuses the
    payload."""
    sentinel = str(tmp_path / 'PWNED')
    path = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict={}, meta=Payload(sentinel)), path)
    with pytest.raises(pickle.UnpicklingError, match='Weights only load'):
        _load_checkpoint(path, map_location='cpu')
    assert not osp.exists(sentinel)


def test_seggan_runner_checkpoints_load_with_torch_defaults(tmp_path):
    """Bug: without the plain message hub, a checkpoint of a run holds
    pickled HistoryBuffers, which torch's weights-only default (mmseg's
    init_model, MMSegInferencer, mmseg's test.py) refuses."""
    from seggan_testing import toy_runner
    runner = toy_runner(str(tmp_path))
    runner.message_hub.update_scalar('train/loss', 0.5)
    runner.message_hub.update_info('eta', np.float64(2.0))
    runner.save_checkpoint(str(tmp_path), 'iter_1.pth', by_epoch=False)
    ckpt = torch.load(str(tmp_path / 'iter_1.pth'), weights_only=True)
    assert ckpt['message_hub']['log_scalars']['train/loss'][
        'log_history'] == [0.5]
    runner.release_work_dir()
    resumed = toy_runner(str(tmp_path))
    resumed.resume(str(tmp_path / 'iter_1.pth'))
    assert resumed.message_hub.get_scalar('train/loss').current() == 0.5
    resumed.release_work_dir()


def _plain_mmengine_checkpoint(work) -> str:
    """What mmseg's own tools/train.py writes: mmengine's plain Runner,
    whose message hub pickles ``getattr(HistoryBuffer, 'min')`` & co."""
    from seggan_testing import toy_runner
    runner = toy_runner(work, runner_type=None)
    runner.message_hub.update_scalar('train/loss', 0.5)
    runner.message_hub.update_info('eta', np.float64(2.0))
    runner.save_checkpoint(work, 'iter_1.pth', by_epoch=False)
    return osp.join(work, 'iter_1.pth')


def test_plain_mmengine_checkpoint_loads_weights_only(tmp_path):
    """Bug (issue 32): a checkpoint of mmseg's own train.py was refused as
    ``load_from`` (``Unsupported global: GLOBAL getattr``)."""
    from seggan_testing import toy_runner
    path = _plain_mmengine_checkpoint(str(tmp_path / 'plain'))
    # mmengine's own loader fails on it: the runner's success below shows
    # that the package's loader read it, without patching anything.
    with pytest.raises(pickle.UnpicklingError, match='HistoryBuffer'):
        _load_checkpoint(path, map_location='cpu')
    hub = load_checkpoint_file(path)['message_hub']
    assert hub['log_scalars']['train/loss'].current() == 0.5
    runner = toy_runner(str(tmp_path / 'seggan'), resume=True)
    runner.resume(path)
    runner.release_work_dir()
    assert runner.message_hub.get_scalar('train/loss').current() == 0.5
    assert runner.iter == 1
    with pytest.raises(pickle.UnpicklingError, match='HistoryBuffer'):
        torch.load(path, weights_only=True)  # allowed for that load only


class _GetattrPayload:
    """``getattr`` reaching for something other than a statistic."""

    def __reduce__(self):
        return (getattr, (HistoryBuffer, 'register_statistics'))


def test_getattr_outside_the_statistics_is_refused(tmp_path):
    path = str(tmp_path / 'evil.pth')
    torch.save(dict(message_hub=_GetattrPayload()), path)
    with pytest.raises(UnsafeCheckpointError, match='register_statistics'):
        load_checkpoint_file(path)


@pytest.fixture
def http_payload(tmp_path, monkeypatch):
    """``evil.pth`` served on 127.0.0.1 (loopback only); torch's hub cache
    in the test's folder."""
    import functools
    import http.server
    import threading
    served = tmp_path / 'served'
    served.mkdir()
    sentinel = str(tmp_path / 'PWNED')
    torch.save(dict(state_dict={}, meta=Payload(sentinel)),
               str(served / 'evil.pth'))
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a: None
    server = http.server.HTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    for proxy in ('http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY'):
        monkeypatch.delenv(proxy, raising=False)
    monkeypatch.setenv('no_proxy', '127.0.0.1')
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    url = f'http://127.0.0.1:{server.server_address[1]}/evil.pth'
    yield url, sentinel, tmp_path / 'torch_home' / 'hub' / 'checkpoints'
    server.shutdown()


@pytest.mark.parametrize('door', ['load_from', 'init_cfg', 'seggan_scheme'])
def test_url_payload_is_refused_and_not_cached(http_payload, tmp_path, door):
    """Bug (issue 31): ``load_from=http://...`` and ``init_cfg`` URLs went
    to torch.hub with ``weights_only=False``: the payload ran and stayed in
    the hub cache."""
    from seggan_testing import toy_runner
    url, sentinel, cache = http_payload
    runner = toy_runner(str(tmp_path / 'work'))
    with pytest.raises(UnsafeCheckpointError, match='is not a plain') as e:
        if door == 'load_from':
            runner.load_checkpoint(url)
        elif door == 'init_cfg':
            runner.model.init_cfg = dict(type='Pretrained', checkpoint=url)
            runner._init_model_weights()
        else:  # mmseg's init_model, init_cfg outside the runner
            _load_checkpoint('seggan://' + url, map_location='cpu')
    runner.release_work_dir()
    assert url in str(e.value)
    assert not osp.exists(sentinel), 'the payload ran'
    assert not list(cache.glob('*.pth')), 'the payload stayed in the cache'
