"""Helpers shared by the tests (importable: tests/ is on pytest's path)."""
import os
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
# tools/seggan_launch.py, as the tools import it (appended: the standard
# library's ``test`` is not shadowed by tools/test.py)
if osp.join(REPO, 'tools') not in sys.path:
    sys.path.append(osp.join(REPO, 'tools'))
CONFIGS = osp.join(REPO, 'tests', 'data', 'configs')
TINY_DEEPLAB = osp.join(CONFIGS, 'tiny_deeplabv3.py')
TINY_SEGGAN = osp.join(CONFIGS, 'tiny_seggan.py')


def data_root_options(root: str) -> dict:
    """cfg options pointing every dataloader of a toy config to ``root``."""
    return {
        f'{split}_dataloader.dataset.data_root': root
        for split in ('train', 'val', 'test')
    }


def data_root_cli(root: str) -> list:
    return [f'{k}={v}' for k, v in data_root_options(root).items()]


def load_tiny_cfg(path: str, root: str, work_dir: str, **options):
    from mmengine.config import Config
    cfg = Config.fromfile(path)
    cfg.merge_from_dict(data_root_options(root))
    cfg.merge_from_dict(options)
    cfg.work_dir = work_dir
    return cfg


def run_tool(args, timeout=300, env=None, cwd=REPO):
    """Run a python tool in a subprocess; return CompletedProcess."""
    import subprocess
    full_env = dict(os.environ)
    full_env.setdefault('OMP_NUM_THREADS', '1')
    full_env['PYTHONWARNINGS'] = 'ignore'
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable] + list(args),
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout)


class Payload:
    """A pickle payload: unpickling it creates ``path`` (proof code ran)."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, 'w'))


def import_tool(relpath: str):
    """Import a script under tools/ as a module (tools/ is no package).

    As when it runs as a script, its folder (and tools/, where
    ``seggan_launch`` lives) can be imported from; appended, so nothing of
    the standard library is shadowed."""
    import importlib.util
    import sys
    path = osp.join(REPO, relpath)
    for folder in (osp.dirname(path), osp.join(REPO, 'tools')):
        if folder not in sys.path:
            sys.path.append(folder)
    spec = importlib.util.spec_from_file_location(
        osp.splitext(osp.basename(path))[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_toy_scenes(*args, **kwargs) -> str:
    """``tools/misc/make_toy_scenes.py``'s generator (same arguments)."""
    return import_tool('tools/misc/make_toy_scenes.py').make_toy_scenes(
        *args, **kwargs)


def tiny_seggan(num_classes=4, size_divisor=None):
    """A SegGAN (R18 stem/width 8, FCN head, G/D width 4) in eval mode,
    small enough to run in milliseconds."""
    from mmengine.config import ConfigDict
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    norm = dict(type='BN', requires_grad=True)
    model = MODELS.build(
        dict(
            type='SegGAN',
            data_preprocessor=dict(
                type='SegDataPreProcessor',
                mean=[0., 0., 0.],
                std=[1., 1., 1.],
                bgr_to_rgb=True,
                pad_val=0,
                seg_pad_val=255,
                test_cfg=(dict(
                    size_divisor=size_divisor) if size_divisor else None)),
            backbone=dict(
                type='ResNetV1c',
                depth=18,
                stem_channels=8,
                base_channels=8,
                out_indices=(3, ),
                norm_cfg=norm),
            decode_head=dict(
                type='FCNHead',
                in_channels=64,
                channels=8,
                num_convs=1,
                num_classes=num_classes,
                in_index=0,
                norm_cfg=norm,
                concat_input=False,
                loss_decode=dict(type='CrossEntropyLoss')),
            generator=dict(type='SegGANGenerator', base_channels=4),
            discriminator=dict(type='SegGANDiscriminator', base_channels=4),
            test_cfg=ConfigDict(mode='whole')))
    return model.eval()


def save_toy_checkpoint(config: str, path: str) -> str:
    """Save the randomly initialised model of a ToyScenes ``config`` as a
    checkpoint with the dataset's classes and palette (what tools read)."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    from mmseg_seggan.datasets.toy_scenes import TOY_CLASSES, TOY_PALETTE
    init_default_scope('mmseg')
    torch.manual_seed(0)  # tests rely on its predictions varying
    model = MODELS.build(Config.fromfile(config).model)
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(
                dataset_meta=dict(classes=TOY_CLASSES, palette=TOY_PALETTE))),
        path)
    return path


def build_optim(model):
    """The tiny SegGAN config's OptimWrapperDict, built by hand."""
    from mmengine.config import Config
    from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS
    cfg = dict(Config.fromfile(TINY_SEGGAN).optim_wrapper)
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type=cfg.pop('constructor'), optim_wrapper_cfg=cfg))
    return constructor(model)


def make_batch(n=2, ignore_corner=True, seed=0, size=(32, 48), classes=6):
    """A dataloader-style batch: uint8 images and SegDataSamples."""
    import torch
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    g = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for _ in range(n):
        inputs.append(
            torch.randint(0, 256, (3, *size), generator=g, dtype=torch.uint8))
        gt = torch.randint(0, classes, (1, *size), generator=g)
        if ignore_corner:
            gt[:, :4, :4] = 255
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=gt)
        s.set_metainfo(dict(img_shape=size, ori_shape=size, pad_shape=size))
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def toy_runner(work_dir: str, runner_type: str = 'SegGANRunner', **kwargs):
    """A runner around a one-layer model and four tensors (builds in ms).

    For tests of what a runner does around training (save, load, resume,
    the work-dir lock), not of SegGAN itself.
    """
    import torch
    import torch.nn as nn
    from mmengine.model import BaseModel
    from mmengine.runner import Runner
    from mmseg.registry import RUNNERS

    class _Linear(BaseModel):

        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 1)

        def forward(self, inputs, data_samples=None, mode='tensor'):
            x = inputs if torch.is_tensor(inputs) else torch.stack(inputs)
            out = self.fc(x)
            return dict(loss=out.pow(2).mean()) if mode == 'loss' else out

    data = [dict(inputs=torch.ones(2) * i) for i in range(4)]
    args = dict(
        model=_Linear(),
        work_dir=work_dir,
        train_dataloader=dict(
            dataset=data,
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='default_collate'),
            batch_size=2),
        train_cfg=dict(by_epoch=False, max_iters=2),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=1,
                            by_epoch=False)),
        log_level='WARNING',
        default_scope='mmseg')
    args.update(kwargs)
    cls = RUNNERS.get(runner_type) if runner_type else Runner
    runner = cls(**args)
    # what train() does first; save_checkpoint needs the built wrapper
    if runner.optim_wrapper is not None:
        runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    return runner
