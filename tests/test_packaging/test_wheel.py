"""The package as a user installs it: a built wheel, installed (not ``-e``)
in a fresh virtual environment with mmcv-lite (issue 12).

- the wheel carries the configs and tools (``mmseg_seggan/.mim/``, as mmseg
  ships ``mmseg/.mim/``) and the start-up hook;
- the README's drop-in recipe, taken verbatim from README.md, inherits
  ``mmseg_seggan::_base_/seggan_defaults.py`` and trains a user's own mmseg
  config with mmseg's wheel ``tools/train.py``, from a folder that is not
  the clone;
- mmseg's tools that import ``mmseg.models`` at their top run on
  mmcv-lite (the hook), and fail as before without it.

Making the environment costs about a minute of CPU (torch from the local
disk, the rest from pip's cache); every test here shares it.
"""
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
import zipfile

import pytest
from seggan_testing import REPO

PINS = ['mmengine==0.10.7', 'mmsegmentation==1.2.2', 'mmcv-lite==2.1.0']
USER_DEEPLABV3 = """\
# A user's own mmseg config: mmseg's DeepLabV3 (made tiny), own data.
_base_ = [
    'mmseg::_base_/models/deeplabv3_r50-d8.py',
    'mmseg::_base_/default_runtime.py'
]
norm_cfg = dict(type='BN', requires_grad=True)
classes = ('sky', 'tree', 'road', 'grass', 'building', 'car')
palette = [[70, 130, 180], [107, 142, 35], [128, 64, 128], [152, 251, 152],
           [70, 70, 70], [0, 0, 142]]
model = dict(
    pretrained=None,
    data_preprocessor=dict(size=(32, 48)),
    backbone=dict(
        depth=18, stem_channels=8, base_channels=8, norm_cfg=norm_cfg),
    decode_head=dict(
        in_channels=64, channels=8, num_classes=6, norm_cfg=norm_cfg),
    auxiliary_head=dict(
        in_channels=32, channels=8, num_classes=6, norm_cfg=norm_cfg))
pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
dataset = dict(
    type='BaseSegDataset',
    data_root='toy',
    img_suffix='.png',
    seg_map_suffix='.png',
    metainfo=dict(classes=classes, palette=palette),
    pipeline=pipeline)
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        dataset,
        data_prefix=dict(
            img_path='img_dir/train', seg_map_path='ann_dir/train')))
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        dataset,
        data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val')))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam'))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=4, val_interval=4)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=1),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=4))
"""


def _readme_drop_in_recipe():
    """The python block after README's 'Drop-in for your own mmseg config'."""
    text = open(osp.join(REPO, 'README.md')).read()
    after = text[text.index('**Drop-in for your own mmseg config.**'):]
    return re.search(r'```python\n(.*?)```', after, re.S).group(1)


def _run(cmd, cwd, env=None, timeout=900):
    """Run with a clean environment: nothing of the clone on the path."""
    # PYTHONDONTWRITEBYTECODE too: the new environment is installed without
    # byte-code, which its first run then writes for the others.
    full_env = {
        k: v
        for k, v in os.environ.items()
        if k not in ('PYTHONPATH', 'PYTHONHOME', 'VIRTUAL_ENV',
                     'PYTHONDONTWRITEBYTECODE')
    }
    full_env.update(OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore')
    full_env.update(env or {})
    return subprocess.run(
        cmd,
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout)


def _check(res):
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-4000:]
    return out


def _clone_files():
    """The files a clone has: tracked ones and new ones git does not
    ignore (no work_dirs, no data, no virtual environments)."""
    out = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard'],
                         cwd=REPO,
                         capture_output=True,
                         text=True,
                         check=True).stdout.split('\n')
    return [f for f in out if f and osp.isfile(osp.join(REPO, f))]


@pytest.fixture(scope='module')
def env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('wheel')
    src = tmp / 'src'
    for f in _clone_files():
        os.makedirs(osp.dirname(src / f), exist_ok=True)
        shutil.copy2(osp.join(REPO, f), src / f)
    dist = tmp / 'dist'
    _check(
        _run([
            sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps',
            '--no-build-isolation', '-w',
            str(dist),
            str(src)
        ],
             cwd=str(tmp)))
    wheel = str(next(dist.glob('mmseg_seggan-*.whl')))
    venv = tmp / 'venv'
    base_python = getattr(sys, '_base_executable', sys.executable)
    _check(
        _run([base_python, '-m', 'venv', '--without-pip',
              str(venv)],
             cwd=str(tmp)))
    python = str(venv / 'bin' / 'python')
    # This environment's pip installs into the new one (no pip of its own
    # to bootstrap); one resolver run; modules compile when first imported.
    _check(
        _run(
            [
                sys.executable, '-m', 'pip', '--python', python, 'install',
                '-q', '--disable-pip-version-check', '--no-compile',
                'torch==2.13.0', 'setuptools>=77,<81'
            ] + PINS + [wheel],
            cwd=str(tmp)))
    site = _check(
        _run([
            python, '-c', 'import sysconfig; '
            "print(sysconfig.get_paths()['purelib'])"
        ],
             cwd=str(tmp))).strip()
    user = tmp / 'user'  # a user's folder, far from the clone
    user.mkdir()
    from seggan_testing import make_toy_scenes
    make_toy_scenes(
        str(user / 'toy'), num_train=8, num_val=2, size=(32, 48), seed=0)
    (user / 'my_deeplabv3_config.py').write_text(USER_DEEPLABV3)
    (user / 'my_seggan.py').write_text(_readme_drop_in_recipe().replace(
        './my_segmentor_config.py', './my_deeplabv3_config.py'))
    return dict(tmp=tmp, wheel=wheel, python=python, site=site, user=str(user))


def test_wheel_carries_configs_tools_and_hook(env):
    names = set(zipfile.ZipFile(env['wheel']).namelist())
    for path in ('configs/_base_/seggan_defaults.py', 'configs/seggan_toy.py',
                 'configs/seggan_voc.py', 'tools/train.py', 'tools/test.py',
                 'tools/model_converters/seggan2deeplabv3.py',
                 'model-index.yml'):
        assert f'mmseg_seggan/.mim/{path}' in names, path
    assert {'_mmseg_seggan_hook.py', 'mmseg_seggan-hook.pth'} <= names
    # the experiment tools ship in .mim with the other tools (their
    # protocol package beside them), never as part of the importable
    # package; the test runner stays in the repository
    for path in ('tools/experiments/compare.py',
                 'tools/experiments/protocol/engine.py'):
        assert f'mmseg_seggan/.mim/{path}' in names, path
    assert not any(
        n.startswith('mmseg_seggan/experiments/') or 'run_tests' in n
        for n in names)


def test_the_installed_wheel_is_what_runs(env):
    out = _check(
        _run([
            env['python'], '-c',
            'import mmseg_seggan, mmcv, importlib.metadata as m; '
            'print(mmseg_seggan.__file__); print(m.version("mmcv-lite"))'
        ],
             cwd=env['user']))
    path, lite = out.split()[-2:]
    assert path.startswith(env['site']) and lite == '2.1.0'
    assert osp.isfile(
        osp.join(env['site'], 'mmseg_seggan', '.mim', 'configs', '_base_',
                 'seggan_defaults.py'))


def test_readme_drop_in_trains_with_mmseg_wheel_train_tool(env):
    recipe = open(osp.join(env['user'], 'my_seggan.py')).read()
    assert "'mmseg_seggan::_base_/" in recipe
    mmseg_train = osp.join(env['site'], 'mmseg', '.mim', 'tools', 'train.py')
    cmd = [
        env['python'], mmseg_train, 'my_seggan.py', '--work-dir', 'work',
        '--cfg-options', 'train_cfg.max_iters=4', 'train_cfg.val_interval=4',
        'model.gan_iters=2'
    ]
    out = _check(_run(cmd, cwd=env['user']))
    assert 'SegGAN phase 1 (gan_pretrain) from iteration 1' in out
    assert 'SegGAN phase 2 (seggan_finetune) from iteration 3' in out
    assert 'mIoU' in out
    assert osp.isfile(osp.join(env['user'], 'work', 'iter_4.pth'))
    assert 'Failed to search registry' not in out
    # What the hook does: without it mmengine does not know the scope.
    res = _run(cmd, cwd=env['user'], env=dict(MMSEG_SEGGAN_NO_HOOK='1'))
    assert res.returncode != 0
    assert 'does not support to load mmseg_seggan config' in res.stderr


def test_mmseg_tools_that_import_models_first_run_on_mmcv_lite(env):
    # mmengine's scope paths need a folder (``<scope>::<dir>/<file>``): the
    # entry point configs/seggan_toy.py is this config in configs/seggan/.
    config = osp.join(env['user'], 'from_package.py')
    with open(config, 'w') as f:
        f.write("_base_ = ['mmseg_seggan::seggan/"
                "seggan_deeplabv3_r18-d16_1xb8-300+300it_toy-96x128.py']\n")
    print_config = osp.join(env['site'], 'mmseg', '.mim', 'tools', 'misc',
                            'print_config.py')
    out = _check(_run([env['python'], print_config, config], env['user']))
    assert "type='SegGAN'" in out and 'SegGANPhaseHook' in out
    res = _run([env['python'], print_config, config],
               env['user'],
               env=dict(MMSEG_SEGGAN_NO_HOOK='1'))
    assert res.returncode != 0
    assert "No module named 'mmcv._ext'" in res.stderr


def test_package_tools_run_from_the_wheel(env):
    train = osp.join(env['site'], 'mmseg_seggan', '.mim', 'tools', 'train.py')
    out = _check(_run([env['python'], train, '--help'], env['user']))
    assert '--cfg-options' in out
