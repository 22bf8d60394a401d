"""A one-process gloo group for SegGAN under its distributed wrapper."""
import os.path as osp
import socket

import pytest
import torch
import torch.distributed as dist
from mmengine.config import Config
from seggan_testing import REPO

from seggan_launch import setup_cpu_distributed, shutdown_distributed


@pytest.fixture
def ddp_wrapper_cfg(monkeypatch):
    """The package's model wrapper config
    (``MMSeparateDistributedDataParallel``) in a 1-process gloo group, set up
    as ``tools/train.py --launcher pytorch`` does on the CPU; the group is
    destroyed after the test.

    Build the wrapper with ``MODEL_WRAPPERS.build(dict(cfg, module=model))``.
    """
    assert not dist.is_initialized(), 'a process group leaked from a test'
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    for key, value in dict(
            RANK='0',
            LOCAL_RANK='0',
            WORLD_SIZE='1',
            MASTER_ADDR='127.0.0.1',
            MASTER_PORT=str(port)).items():
        monkeypatch.setenv(key, value)
    defaults = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'seggan_defaults.py'))
    cfg = Config(
        dict(
            launcher='pytorch',
            env_cfg=dict(dist_cfg=dict(backend='nccl')),  # mmseg's default
            model_wrapper_cfg=defaults.seggan_model_wrapper_cfg))
    if torch.cuda.is_available():  # the tests' tensors stay on the CPU
        from mmengine.model.wrappers import seperate_distributed
        monkeypatch.setattr(seperate_distributed, 'get_device', lambda: 'cpu')
        dist.init_process_group('gloo')
        cfg.model_wrapper_cfg['device_ids'] = None
    else:
        setup_cpu_distributed(cfg)
    assert dist.get_backend() == 'gloo' and dist.get_world_size() == 1
    try:
        yield cfg.model_wrapper_cfg.to_dict()
    finally:
        shutdown_distributed()
