"""An mmseg config with custom_imports=['mmseg_seggan'] runs with mmseg's
own tools/train.py (the one in the mmseg wheel), on mmcv-lite too."""
import os.path as osp

import mmseg
from seggan_testing import TINY_DEEPLAB, TINY_SEGGAN, data_root_cli, run_tool

MMSEG_TRAIN = osp.join(
    osp.dirname(mmseg.__file__), '.mim', 'tools', 'train.py')


def test_mmseg_own_train_tool_trains_seggan_via_custom_imports(
        tmp_path, toy_root):
    assert osp.isfile(MMSEG_TRAIN)
    from mmengine.config import Config
    assert Config.fromfile(TINY_SEGGAN).custom_imports.imports == [
        'mmseg_seggan'
    ]
    work = str(tmp_path / 'w')
    res = run_tool([
        MMSEG_TRAIN, TINY_SEGGAN, '--work-dir', work, '--cfg-options',
        *data_root_cli(toy_root), 'train_cfg.val_interval=4'
    ],
                   timeout=300,
                   cwd=str(tmp_path))
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    assert 'phase: 2 (seggan_finetune)' in out
    assert 'mIoU' in out
    assert osp.isfile(osp.join(work, 'iter_4.pth'))


def test_mmseg_own_train_tool_plain_deeplabv3(tmp_path, toy_root):
    work = str(tmp_path / 'w')
    res = run_tool([
        MMSEG_TRAIN, TINY_DEEPLAB, '--work-dir', work, '--cfg-options',
        *data_root_cli(toy_root), 'train_cfg.max_iters=2',
        'train_cfg.val_interval=2'
    ],
                   timeout=300,
                   cwd=str(tmp_path))
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    assert osp.isfile(osp.join(work, 'iter_2.pth'))


# A plain mmseg config: mmseg's bases and classes only, no plugin named.
PLAIN_MMSEG = """\
_base_ = [
    'mmseg::_base_/models/deeplabv3_r50-d8.py',
    'mmseg::_base_/default_runtime.py'
]
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    pretrained=None,
    data_preprocessor=dict(size=(32, 48)),
    backbone=dict(
        depth=18, stem_channels=8, base_channels=8, norm_cfg=norm_cfg),
    decode_head=dict(
        in_channels=64, channels=8, num_classes=6, norm_cfg=norm_cfg),
    auxiliary_head=dict(
        in_channels=32, channels=8, num_classes=6, norm_cfg=norm_cfg))
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='BaseSegDataset',
        data_root='{root}',
        img_suffix='.png',
        seg_map_suffix='.png',
        metainfo=dict(classes=('sky', 'tree', 'road', 'grass', 'building',
                               'car')),
        data_prefix=dict(
            img_path='img_dir/train', seg_map_path='ann_dir/train'),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='PackSegInputs')
        ]))
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam'))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=1),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1))
randomness = dict(seed=0)
"""

PLAIN_RUN = r'''
import json, os, sys
if sys.argv[1] == 'plugin':
    import mmseg_seggan  # noqa: F401
import torch
from mmengine.config import Config
from mmengine.runner import CheckpointLoader, Runner
cfg = Config.fromfile(sys.argv[2])
cfg.work_dir = sys.argv[3]
runner = Runner.from_cfg(cfg)
runner.train()
loader = CheckpointLoader._schemes['']
ckpt = torch.load(os.path.join(cfg.work_dir, 'iter_2.pth'),
                  weights_only=False)  # the test's own file
out = dict(
    runner=type(runner).__name__,
    hooks=[type(h).__name__ for h in runner.hooks],
    loader=f'{loader.__module__}.{loader.__name__}',
    keys=sorted(ckpt), meta=sorted(ckpt['meta']),
    hub=sorted({type(v).__name__
                for v in ckpt['message_hub']['log_scalars'].values()}),
    files=sorted(f for f in os.listdir(cfg.work_dir) if not f[:8].isdigit()),
    weights=float(sum(v.float().sum() for v in ckpt['state_dict'].values())))
cfg.resume = True
cfg.train_cfg.max_iters = 3
try:
    Runner.from_cfg(cfg).train()
    out['resume'] = 'ok'
except Exception as e:
    out['resume'] = type(e).__name__
print(json.dumps(out))
'''


def test_plain_mmseg_config_behaves_as_without_the_plugin(tmp_path, toy_root):
    """Bug (issue 19): importing the plugin changed how every Runner of the
    process saved (atomic, plain message hub), loaded (its own '' scheme),
    resumed (its fallback) and which default hooks it had."""
    import json
    import sys
    config = tmp_path / 'plain.py'
    config.write_text(PLAIN_MMSEG.format(root=toy_root))
    results = {}
    for mode in ('plain', 'plugin'):
        res = run_tool(
            ['-c', PLAIN_RUN, mode,
             str(config),
             str(tmp_path / mode)],
            timeout=300,
            cwd=str(tmp_path))
        assert res.returncode == 0, res.stderr[-3000:]
        results[mode] = json.loads(res.stdout.strip().splitlines()[-1])
    assert results['plugin'] == results['plain']
    assert results['plain']['runner'] == 'Runner'
    assert 'NumClassesCheckHook' not in results['plain']['hooks']
    assert results['plain']['loader'] == \
        'mmengine.runner.checkpoint.load_from_local'
    assert results['plain']['hub'] == ['HistoryBuffer']
    assert sys.executable  # both ran in this environment's interpreter


# Records every os.replace of a checkpoint in the process it is loaded in.
RECORD_REPLACES = r'''
import os
_real = os.replace
def _replace(src, dst, *a, **k):
    if str(dst).endswith('.pth'):
        with open(os.environ['REPLACES_LOG'], 'a') as f:
            f.write(f'{os.path.basename(src)} {os.path.basename(dst)}\n')
    return _real(src, dst, *a, **k)
os.replace = _replace
'''


def _drop_in_config(tmp_path, root):
    """The README's drop-in recipe on a plain mmseg config of one's own."""
    import re

    from seggan_testing import REPO
    (tmp_path / 'my_deeplabv3_config.py').write_text(
        PLAIN_MMSEG.format(root=root))
    text = open(osp.join(REPO, 'README.md')).read()
    after = text[text.index('**Drop-in for your own mmseg config.**'):]
    recipe = re.search(r'```python\n(.*?)```', after, re.S).group(1)
    # the scope as written: this clone's editable install resolves it
    assert "'mmseg_seggan::_base_/" in recipe
    recipe = recipe.replace('./my_segmentor_config.py',
                            './my_deeplabv3_config.py')
    (tmp_path / 'my_seggan.py').write_text(recipe)
    return str(tmp_path / 'my_seggan.py')


def test_mmseg_own_train_tool_keeps_every_protection(tmp_path, toy_root):
    """The README's recipe trained with mmseg's own tools/train.py gets what
    the package's tools give (issue 19: after the global patches went, a
    config must name them, and mmseg's tool must honour the names)."""
    import os

    import torch

    from mmseg_seggan.engine.runner.seggan_runner import WORK_DIR_LOCK
    from mmseg_seggan.utils.dir_lock import DirLock
    config = _drop_in_config(tmp_path, toy_root)
    site = tmp_path / 'site'
    site.mkdir()
    (site / 'sitecustomize.py').write_text(RECORD_REPLACES)
    replaces = str(tmp_path / 'replaces.txt')
    env = dict(PYTHONPATH=str(site), REPLACES_LOG=replaces)
    work = str(tmp_path / 'work')
    args = [
        MMSEG_TRAIN, config, '--work-dir', work, '--cfg-options',
        'train_cfg.max_iters=4', 'model.gan_iters=2',
        'default_hooks.checkpoint.interval=2'
    ]
    res = run_tool(args, timeout=300, cwd=str(tmp_path), env=env)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    assert 'CPU capability:' in out  # SegGANRunner's log header
    assert 'NumClassesCheckHook' in out  # its default hook
    assert 'SegGAN phase 2 (seggan_finetune) from iteration 3' in out
    # atomic: each checkpoint was a temp file of this writer, then renamed
    lines = open(replaces).read().split('\n')
    saved = [ln.split()[1] for ln in lines if ln]
    assert saved == ['iter_2.pth', 'iter_4.pth']
    assert all(
        ln.startswith('.iter_') and ln.split()[0].endswith('.tmp')
        for ln in lines if ln)
    # safe: torch's own weights-only load reads it; the phase record
    ckpt = torch.load(osp.join(work, 'iter_4.pth'), weights_only=True)
    assert ckpt['meta']['seggan'] == dict(gan_iters=2)
    with open(osp.join(work, WORK_DIR_LOCK)) as f:
        assert f.read() == ''  # released: no record of a live run
    # resume (mmengine's own resume fails here on torch >= 2.6)
    res = run_tool(
        args[:-3] + ['train_cfg.max_iters=6', 'model.gan_iters=2', '--resume'],
        timeout=300,
        cwd=str(tmp_path),
        env=env)
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    assert 'resumed epoch: 0, iter: 4' in res.stdout + res.stderr
    # one run per work dir: a live holder refuses this one
    holder = DirLock(work, WORK_DIR_LOCK).acquire()  # held by this process
    res = run_tool(args, timeout=300, cwd=str(tmp_path), env=env)
    assert res.returncode != 0
    assert f'is in use by process {os.getpid()}' in res.stderr
    holder.release()
    # the class-count check
    res = run_tool(
        args + ['model.decode_head.num_classes=5'],
        timeout=300,
        cwd=str(tmp_path),
        env=env)
    assert res.returncode != 0
    assert 'NumClassesMismatchError' in res.stderr
    assert 'model.decode_head.num_classes=5' in res.stderr


def test_drop_in_keeps_the_users_optimizer_and_schedule(tmp_path, toy_root):
    """Bug (issue 32): the recipe replaced the config's SGD by Adam 1e-4 and
    dropped its PolyLR (param_scheduler = []); keeping a list schedule
    decayed G and D too and started it at iteration 0, in phase 1."""
    import torch
    config = _drop_in_config(tmp_path, toy_root)
    with open(tmp_path / 'my_deeplabv3_config.py', 'a') as f:
        f.write("optim_wrapper = dict(type='OptimWrapper', "
                "optimizer=dict(type='SGD', lr=0.01, momentum=0.9), "
                "paramwise_cfg=dict(custom_keys={'head': "
                "dict(lr_mult=10.)}))\n"
                "param_scheduler = [dict(type='PolyLR', eta_min=1e-4, "
                'power=0.9, begin=0, end=4, by_epoch=False)]\n')
    work = str(tmp_path / 'work')
    res = run_tool([
        MMSEG_TRAIN, config, '--work-dir', work, '--cfg-options',
        'train_cfg.max_iters=6', 'model.gan_iters=2'
    ],
                   timeout=300,
                   cwd=str(tmp_path))
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    ckpt = torch.load(osp.join(work, 'iter_6.pth'), weights_only=True)
    optim = ckpt['optimizer']
    seg = optim['segmentor']['param_groups']
    assert all(g['momentum'] == 0.9 for g in seg)  # SGD: the config's own
    lrs = {round(g['initial_lr'], 6) for g in seg}
    assert lrs == {0.01, 0.1}  # with its paramwise rule
    for net in ('generator', 'discriminator'):  # the paper's Adam, constant
        (group, ) = optim[net]['param_groups']
        assert group['lr'] == 1e-3 and group['betas'] == (0.9, 0.999)
    (poly, ) = ckpt['param_schedulers']['segmentor']
    assert (poly['begin'], poly['end']) == (2, 6)  # shifted by gan_iters
    assert all(g['lr'] < g['initial_lr'] for g in seg)  # decayed in phase 2
    assert ckpt['param_schedulers']['generator'] == []


def test_no_stack_in_hard_requirements_and_a_missing_one_is_named():
    """Bug (issue 32): install_requires named mmengine and mmsegmentation,
    so installing the plugin beside the onedl-* fork put OpenMMLab's
    packages over the fork's folders."""
    from seggan_testing import REPO
    names = set()
    for name in ('runtime.txt', 'tests.txt'):
        with open(osp.join(REPO, 'requirements', name)) as f:
            names |= {
                line.split('#')[0].strip().split('=')[0].split('>')[0]
                .split('<')[0]
                for line in f if line.split('#')[0].strip()
            }
    assert not names & {'mmengine', 'mmsegmentation', 'mmcv', 'mmcv-lite'}
    res = run_tool([
        '-c', "import sys; sys.modules['mmseg'] = None; import mmseg_seggan"
    ])
    assert res.returncode != 0
    assert "pip install 'mmseg-seggan[openmmlab]'" in res.stderr
    assert "'mmseg-seggan[onedl]'" in res.stderr
