"""bf16 autocast training on the CPU (``tools/train.py --amp``)."""
import json
import os
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.logging import MMLogger
from seggan_testing import REPO, TINY_SEGGAN, data_root_cli, run_tool

from mmseg_seggan.engine.optimizers import BF16AutocastOptimWrapper
from mmseg_seggan.utils import load_checkpoint_file
from mmseg_seggan.utils.cpu_features import bf16_speed_note

PLUGINS = osp.join(REPO, 'tests', 'data', 'plugins')


def test_forward_runs_in_bf16_and_the_update_stays_fp32():
    """Bugs: no autocast in the wrapper's context (fp32 forward), or
    weights/gradients cast to bf16 (precision lost in every update)."""
    MMLogger.get_instance('bf16-unit')
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 2, 1))
    wrapper = BF16AutocastOptimWrapper(
        optimizer=torch.optim.SGD(net.parameters(), lr=0.1))
    before = [p.detach().clone() for p in net.parameters()]
    with wrapper.optim_context(net):
        out = net(torch.randn(2, 3, 8, 8))
        assert out.dtype == torch.bfloat16
    wrapper.update_params(out.float().square().mean())
    for p, p0 in zip(net.parameters(), before):
        assert p.dtype == torch.float32 and not torch.equal(p, p0)
    assert 'loss_scaler' not in wrapper.state_dict()
    with pytest.raises(ValueError, match='device_type'):
        BF16AutocastOptimWrapper(
            device_type='tpu', optimizer=torch.optim.SGD(net.parameters()))


def test_train_tool_amp_on_cpu_trains_both_phases_in_bf16(tmp_path, toy_root):
    """tools/train.py --amp, tiny SegGAN, 1 phase-1 + 1 phase-2 iteration:
    every network's convolutions computed in bf16, the saved weights fp32,
    and saved contiguous (the policy's channels-last not in the file), and
    the log names the precision and the policy (and says so where bf16 is
    emulated, where --amp needs the override). Bugs: autocast missing from
    one network's wrapper (its convs fp32), the policy hook not run, a
    silent emulated bf16."""
    work = str(tmp_path / 'work')
    config = str(tmp_path / 'amp.py')
    with open(config, 'w') as f:
        f.write(f'_base_ = [{TINY_SEGGAN!r}]\n'
                "custom_imports = dict(imports=['mmseg_seggan', "
                "'dtype_record_hook'])\n"
                "model = dict(gan_iters=1)\n"
                "custom_hooks = [dict(type='SegGANPhaseHook'), "
                "dict(type='DtypeRecordHook')]\n")
    res = run_tool([
        'tools/train.py', config, '--amp', '--work-dir', work, '--cfg-options',
        *data_root_cli(toy_root), 'train_cfg.max_iters=2',
        'train_cfg.val_interval=10', 'default_hooks.checkpoint.interval=2',
        'default_hooks.logger.interval=1',
        'model.data_preprocessor.size=[32,48]',
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        *(['allow_emulated_bf16=True'] if bf16_speed_note() else [])
    ],
                   timeout=300,
                   env=dict(PYTHONPATH=PLUGINS + ':' +
                            os.environ.get('PYTHONPATH', '')))
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    with open(osp.join(work, 'dtypes.json')) as f:
        dtypes = json.load(f)
    for net in ('backbone', 'decode_head', 'generator', 'discriminator'):
        assert dtypes[net] == ['torch.bfloat16'], dtypes
    state = load_checkpoint_file(osp.join(work, 'iter_2.pth'))['state_dict']
    floats = {v.dtype for v in state.values() if v.is_floating_point()}
    assert floats == {torch.float32}
    assert all(v.is_contiguous() for v in state.values())
    logs = [
        osp.join(d, f) for d, _, fs in os.walk(work) for f in fs
        if f.endswith('.log')
    ]
    with open(logs[0]) as f:
        log = f.read()
    assert log.count('Precision: bf16 autocast on cpu') == 1
    assert 'bf16 policy: segmentor channels-last True' in log
    assert ('EMULATED' in log) == (bf16_speed_note() is not None)
