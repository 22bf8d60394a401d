"""A checkpoint whose tensors do not fit the model is refused, not warned."""
import pytest
import torch
import torch.nn as nn
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner.checkpoint import load_checkpoint, load_state_dict

from mmseg_seggan.utils import (CheckpointShapeError, find_shape_mismatches,
                                check_state_dict_shapes, shape_check_pre_hook)


class Head(nn.Module):

    def __init__(self, num_classes):
        super().__init__()
        self.conv = nn.Conv2d(4, 8, 3)
        self.conv_seg = nn.Conv2d(8, num_classes, 1)


class Net(nn.Module):
    """Checked where loads start, as SegGAN registers it."""

    def __init__(self, num_classes=6, gen_width=4, checked=True):
        super().__init__()
        self.decode_head = Head(num_classes)
        self.generator = nn.Conv2d(num_classes, gen_width, 3)
        if checked:
            for module in (self, self.generator):
                module.register_load_state_dict_pre_hook(shape_check_pre_hook)


def test_models_without_the_pre_hook_load_as_in_mmengine(tmp_path):
    """Nothing global: mmengine's load_state_dict is mmengine's, and a model
    that does not register the check keeps mmengine's warning."""
    assert mmengine_checkpoint.load_state_dict is load_state_dict
    assert load_state_dict.__module__ == 'mmengine.runner.checkpoint'
    path = str(tmp_path / 'voc.pth')
    torch.save(dict(state_dict=Net(num_classes=21).state_dict()), path)
    model = Net(num_classes=6, checked=False)
    load_checkpoint(model, path, map_location='cpu')  # warns, loads the rest


def test_class_count_mismatch_names_parameters_shapes_and_cause(tmp_path):
    path = str(tmp_path / 'voc.pth')
    torch.save(dict(state_dict=Net(num_classes=21).state_dict()), path)
    model = Net(num_classes=6)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(CheckpointShapeError) as e:
        load_checkpoint(model, path, map_location='cpu')
    msg = str(e.value)
    assert ('decode_head.conv_seg.weight: checkpoint [21, 8, 1, 1] vs '
            'model [6, 8, 1, 1]') in msg
    assert 'decode_head.conv_seg.bias: checkpoint [21] vs model [6]' in msg
    assert 'generator.weight: checkpoint [4, 21, 3, 3]' in msg
    assert 'trained for 21 classes' in msg and 'num_classes' in msg
    assert 'Nothing was loaded' in msg
    # Nothing was copied, not even the tensors that did fit.
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_generator_width_mismatch_via_pretrained_init(tmp_path):
    from mmengine.model.weight_init import PretrainedInit
    path = str(tmp_path / 'gan.pth')
    torch.save(dict(state_dict=Net(gen_width=8).state_dict()), path)
    model = Net(gen_width=4)
    init = PretrainedInit(checkpoint=path, prefix='generator.')
    with pytest.raises(
            CheckpointShapeError,
            match=r'weight: checkpoint \[8, 6, 3, 3\] vs model '
            r'\[4, 6, 3, 3\]') as e:
        init(model.generator)
    assert 'generator.base_channels' in str(e.value)


def test_missing_and_unexpected_keys_stay_warnings(tmp_path):
    # A plain segmentor checkpoint into SegGAN: G and D start fresh.
    seg_only = {
        k: v
        for k, v in Net().state_dict().items() if k.startswith('decode_head')
    }
    seg_only['auxiliary_head.w'] = torch.ones(1)
    path = str(tmp_path / 'baseline.pth')
    torch.save(dict(state_dict=seg_only), path)
    model = Net()
    load_checkpoint(model, path, map_location='cpu')
    assert torch.equal(model.decode_head.conv.weight,
                       seg_only['decode_head.conv.weight'])


def test_find_shape_mismatches_looks_through_wrappers():

    class Wrapper(nn.Module):

        def __init__(self, module):
            super().__init__()
            self.module = module

    from mmengine.registry import MODEL_WRAPPERS
    name = 'ShapeTestWrapper'
    if name not in MODEL_WRAPPERS.module_dict:
        MODEL_WRAPPERS.register_module(name=name, module=Wrapper)
    wrapped = MODEL_WRAPPERS.get(name)(Net(num_classes=3))
    found = find_shape_mismatches(wrapped, Net(num_classes=4).state_dict())
    assert ('decode_head.conv_seg.bias', (4, ), (3, )) in found


def test_the_file_is_named_when_known():
    with pytest.raises(CheckpointShapeError, match=r'\(work/iter_4.pth\)'):
        check_state_dict_shapes(
            Net(num_classes=6),
            Net(num_classes=3).state_dict(),
            source='work/iter_4.pth')


def test_the_runner_checks_models_without_the_hook_once(tmp_path,
                                                        monkeypatch):
    """One check per load: SegGAN registers the pre-hook itself, and the
    runner adds it to any other model (a plain segmentor), never twice."""
    from seggan_testing import toy_runner

    from mmseg_seggan.utils import checkpoint_shapes
    calls = []
    real = checkpoint_shapes.check_state_dict_shapes
    monkeypatch.setattr(checkpoint_shapes, 'check_state_dict_shapes',
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    runner = toy_runner(str(tmp_path))
    path = str(tmp_path / 'wide.pth')
    torch.save(dict(state_dict={'fc.weight': torch.ones(3, 2)}), path)
    for _ in range(2):
        with pytest.raises(CheckpointShapeError, match='wide.pth') as e:
            runner.load_checkpoint(path)
    runner.release_work_dir()
    assert 'fc.weight: checkpoint [3, 2] vs model [1, 2]' in str(e.value)
    assert len(calls) == 2  # one per load, not one per registration
