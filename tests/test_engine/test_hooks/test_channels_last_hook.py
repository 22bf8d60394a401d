"""ChannelsLastHook: the segmentor in NHWC, G and D left to their switch."""
import logging
from types import SimpleNamespace

import torch
from seggan_testing import make_batch, tiny_seggan

from mmseg_seggan.engine.hooks import ChannelsLastHook

CL = torch.channels_last


def _runner(model):
    return SimpleNamespace(model=model, logger=logging.getLogger('cl-test'))


def test_segmentor_weights_and_activations_become_channels_last():
    """Bugs: only the backbone converted (the head's convs stay NCHW and
    every call converts layouts), or G/D forced NCHW->NHWC against their
    own ``channels_last`` setting."""
    model = tiny_seggan()
    model.generator.to(memory_format=torch.contiguous_format)
    data = model.data_preprocessor(make_batch(classes=4), False)
    with torch.no_grad():
        before = model(data['inputs'], mode='tensor')
    ChannelsLastHook().before_run(_runner(model))
    for net in ('backbone', 'decode_head'):
        convs = [
            m.weight for m in getattr(model, net).modules()
            if isinstance(m, torch.nn.Conv2d)
        ]
        assert convs and all(w.is_contiguous(memory_format=CL)
                             for w in convs), net
    g_weight = model.generator.encoder[1].conv.weight
    assert g_weight.is_contiguous() and not g_weight.is_contiguous(
        memory_format=CL)
    with torch.no_grad():
        feats = model.extract_feat(data['inputs'])
        after = model(data['inputs'], mode='tensor')
    assert feats[-1].is_contiguous(memory_format=CL)
    # The same function: only the order of the sums changes.
    assert torch.allclose(after, before, rtol=1e-4, atol=1e-5)
