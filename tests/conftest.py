"""Shared fixtures: a tiny generated ToyScenes dataset."""
import warnings

import pytest

warnings.filterwarnings('ignore', message='pkg_resources is deprecated')

import mmseg_seggan  # noqa: E402,F401  (compat + registration first)
import seggan_testing  # noqa: E402,F401  (tools/ on sys.path)


def _cache_mmseg_metafiles() -> None:
    """Read mmseg's model metafiles once per session, not once per base.

    ``Config.fromfile`` resolves every ``mmseg::`` base by re-reading all
    ~150 metafile YAMLs of the mmseg wheel and re-importing pkg_resources
    (about 0.5 s per base, most of a test's time). Those files cannot change
    during a test session, so both lookups are cached; configs parse exactly
    as before, only faster.
    """
    import functools

    from mmengine.config import config as config_module
    from mmengine.config import utils as config_utils
    if hasattr(config_utils.load, 'cache_info'):
        return
    load = config_utils.load  # used there only for the metafiles

    @functools.lru_cache(maxsize=None)
    def cached_load(path):
        return load(path)

    config_utils.load = lambda path, *a, **k: (
        cached_load(path)
        if isinstance(path, str) and not (a or k) else load(path, *a, **k))
    config_utils.load.cache_info = cached_load.cache_info
    config_module.is_installed = functools.lru_cache(maxsize=None)(
        config_module.is_installed)


_cache_mmseg_metafiles()


@pytest.fixture(scope='session')
def toy_root(tmp_path_factory):
    """16 train / 4 val ToyScenes at 32x48, made once per session."""
    from seggan_testing import make_toy_scenes
    root = str(tmp_path_factory.mktemp('toy_scenes'))
    return make_toy_scenes(
        root, num_train=16, num_val=4, size=(32, 48), seed=0)
