"""Shared fixtures: a tiny generated ToyScenes dataset."""
import warnings

import pytest

warnings.filterwarnings('ignore', message='pkg_resources is deprecated')

import mmseg_seggan  # noqa: E402,F401  (compat + registration first)


@pytest.fixture(scope='session')
def toy_root(tmp_path_factory):
    """16 train / 4 val ToyScenes at 32x48, made once per session."""
    from mmseg_seggan.datasets import make_toy_scenes
    root = str(tmp_path_factory.mktemp('toy_scenes'))
    return make_toy_scenes(
        root, num_train=16, num_val=4, size=(32, 48), seed=0)
