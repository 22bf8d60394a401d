"""NumClassesCheckHook: model heads vs dataset classes, before iteration 1."""
import os.path as osp
from types import SimpleNamespace

import pytest
import torch.nn as nn
from mmengine.model import MMDistributedDataParallel

from mmseg_seggan.datasets.validation import NumClassesMismatchError
from mmseg_seggan.engine.hooks import NumClassesCheckHook
from mmseg_seggan.engine.hooks.num_classes_check_hook import model_num_classes


class _Head(nn.Module):

    def __init__(self, num_classes):
        super().__init__()
        self.num_classes = num_classes


class _Segmentor(nn.Module):

    def __init__(self, decode, aux=None):
        super().__init__()
        self.decode_head = _Head(decode)
        if isinstance(aux, list):
            self.auxiliary_head = nn.ModuleList(_Head(n) for n in aux)
        elif aux is not None:
            self.auxiliary_head = _Head(aux)


def _runner(model, classes):
    loader = SimpleNamespace(
        dataset=SimpleNamespace(metainfo=dict(classes=classes)))
    return SimpleNamespace(
        model=model,
        train_dataloader=loader,
        val_dataloader=loader,
        test_dataloader=loader)


CLASSES = tuple(f'c{i}' for i in range(11))


def test_matching_heads_pass_in_every_stage():
    runner = _runner(_Segmentor(11, 11), CLASSES)
    hook = NumClassesCheckHook()
    hook.before_train(runner)
    hook.before_val(runner)
    hook.before_test(runner)


def test_decode_head_mismatch_names_key_and_both_numbers():
    runner = _runner(_Segmentor(12, 11), CLASSES)
    with pytest.raises(NumClassesMismatchError) as e:
        NumClassesCheckHook().before_train(runner)
    msg = str(e.value)
    assert 'model.decode_head.num_classes=12' in msg
    assert 'has 11 classes' in msg and 'train_dataloader' in msg
    assert '--cfg-options model.decode_head.num_classes=11' in msg


def test_auxiliary_head_mismatch_in_test():
    runner = _runner(_Segmentor(11, 19), CLASSES)
    with pytest.raises(
            NumClassesMismatchError,
            match='auxiliary_head.num_classes=19.*test_dataloader'):
        NumClassesCheckHook().before_test(runner)


def test_list_of_auxiliary_heads_and_wrapped_model():
    model = _Segmentor(11, [11, 7])
    assert model_num_classes(model) == [
        ('model.decode_head.num_classes', 11),
        ('model.auxiliary_head[0].num_classes', 11),
        ('model.auxiliary_head[1].num_classes', 7)
    ]
    wrapped = MMDistributedDataParallel.__new__(MMDistributedDataParallel)
    nn.Module.__init__(wrapped)
    wrapped.module = model
    with pytest.raises(NumClassesMismatchError, match=r'\[1\]'):
        NumClassesCheckHook().before_val(_runner(wrapped, CLASSES))


def test_dataset_without_classes_or_unbuilt_loader_is_skipped():
    runner = _runner(_Segmentor(3), ())
    runner.val_dataloader = dict(batch_size=1)  # a config, not built
    NumClassesCheckHook().before_train(runner)
    NumClassesCheckHook().before_val(runner)


# ------------------------------------- every config of the package gets it
TOY_CONFIGS = [
    'configs/seggan_toy.py',
    'configs/deeplabv3/deeplabv3_r18-d16_1xb8-600it_toy-96x128.py',
    'configs/seggan/seggan-gan-pretrain_deeplabv3_r18-d16_1xb8-300it_'
    'toy-96x128.py',
    'configs/seggan/seggan-finetune_deeplabv3_r18-d16_1xb8-300it_'
    'toy-96x128.py',
    'configs/seggan/seggan-control_deeplabv3_r18-d16_1xb8-300+300it_'
    'toy-96x128.py',
]


def _toy_runner(path, root, work, plain_runner=False, **options):
    from mmengine.config import Config
    from mmengine.runner import Runner
    from seggan_testing import REPO

    from seggan_launch import build_runner
    cfg = Config.fromfile(osp.join(REPO, path))
    for split in ('train', 'val', 'test'):
        if cfg.get(f'{split}_dataloader'):  # phase-1-only runs: no val
            cfg[f'{split}_dataloader'].dataset.data_root = root
    cfg.merge_from_dict({
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_dataloader.batch_size': 2,
        **options
    })
    cfg.work_dir = work
    cfg.experiment_name = osp.basename(work)
    if plain_runner:
        cfg.pop('runner_type')
        return Runner.from_cfg(cfg)
    return build_runner(cfg)


@pytest.mark.parametrize('path', TOY_CONFIGS)
def test_every_config_gets_the_check_wrong_aux_head(tmp_path, toy_root, path):
    """Bug: the toy configs had no NumClassesCheckHook, and a wrong
    auxiliary head trained to the end with exit code 0."""
    runner = _toy_runner(path, toy_root, str(tmp_path / 'w'),
                         **{'model.auxiliary_head.num_classes': 5})
    assert sum(isinstance(h, NumClassesCheckHook) for h in runner.hooks) == 1
    with pytest.raises(
            NumClassesMismatchError,
            match='model.auxiliary_head.num_classes=5'):
        runner.train()
    assert runner.iter == 0  # before the first iteration


def test_wrong_decode_head_is_named_not_a_one_hot_error(tmp_path, toy_root):
    """Bug: a wrong decode head failed at iteration 2 with SegGAN's one-hot
    error (``Label values [5] are outside [0, 5)``) instead."""
    runner = _toy_runner(TOY_CONFIGS[0], toy_root, str(tmp_path / 'w'),
                         **{'model.decode_head.num_classes': 5})
    with pytest.raises(
            NumClassesMismatchError, match='model.decode_head.num_classes=5'):
        runner.train()


def test_check_can_be_switched_off_on_purpose(tmp_path, toy_root):
    runner = _toy_runner(TOY_CONFIGS[1], toy_root, str(tmp_path / 'w'),
                         **{'default_hooks.num_classes_check': None})
    assert not any(isinstance(h, NumClassesCheckHook) for h in runner.hooks)
    runner = _toy_runner(TOY_CONFIGS[1], toy_root, str(tmp_path / 'w2'))
    assert sum(isinstance(h, NumClassesCheckHook) for h in runner.hooks) == 1


def test_a_runner_the_config_does_not_name_gets_no_check(tmp_path, toy_root):
    """Nothing global: mmengine's Runner in the same process has mmengine's
    default hooks only (the check comes with runner_type='SegGANRunner')."""
    runner = _toy_runner(
        TOY_CONFIGS[1], toy_root, str(tmp_path / 'w'), plain_runner=True)
    assert not any(isinstance(h, NumClassesCheckHook) for h in runner.hooks)


def _aspp_runner(batch_size, gan_iters=None, max_iters=100):
    from mmseg.models.decode_heads import ASPPHead
    model = _Segmentor(3)
    model.decode_head = ASPPHead(
        in_channels=4,
        channels=4,
        dilations=(1, ),
        num_classes=3,
        norm_cfg=dict(type='BN'))
    if gan_iters is not None:
        model.gan_iters = gan_iters
    runner = _runner(model, ('a', 'b', 'c'))
    runner.train_dataloader.batch_size = batch_size
    runner.max_iters = max_iters
    return runner


def test_batch_size_one_with_aspp_image_pool_is_refused_before_training():
    # Bug (issue 33): batch size 1 ran the whole of phase 1, then phase 2
    # failed in ASPP's image pool with a raw BatchNorm error.
    import torch
    runner = _aspp_runner(1, gan_iters=60)
    head = runner.model.decode_head.train()
    with pytest.raises(ValueError, match='more than 1 value per channel'):
        head([torch.rand(1, 4, 8, 8)])  # what phase 2 would meet
    with pytest.raises(ValueError) as e:
        NumClassesCheckHook().before_train(runner)
    msg = str(e.value)
    assert 'train_dataloader.batch_size=1' in msg
    assert 'decode_head.image_pool' in msg
    assert '--cfg-options train_dataloader.batch_size=2' in msg
    NumClassesCheckHook().before_train(_aspp_runner(2, gan_iters=60))
    # A run of phase 1 only never trains the segmentor: batch 1 is fine.
    NumClassesCheckHook().before_train(
        _aspp_runner(1, gan_iters=100, max_iters=100))
