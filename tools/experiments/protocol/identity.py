"""What a stage's result depends on beyond its config: data, code, files.

A stage's identity (:meth:`.engine.Protocol.identity`) holds the resolved
config, the flags, the threads and the precision, and, from here:

* the **data** its loaders read (:func:`data_digest`): the sample list
  that the dataset itself builds (its ``load_data_list``: the split file
  and the image and mask files it names), every file hashed by content;
  a changed, added or removed image, mask or split line changes it;
* the **code** that runs (:func:`code_digest`): the package's version and
  a digest of its sources and of ``tools/train.py`` / ``tools/test.py``,
  and the versions of torch, mmengine, mmseg and mmcv;
* the SHA-256 of every input checkpoint (:func:`sha256_of`).

File digests are cached by (path, size, modification time), so a rerun
hashes only what changed since the process started.
"""
import glob
import hashlib
import os
import os.path as osp
import threading
from typing import Dict, List, Optional, Tuple

_FILE_DIGESTS: Dict[Tuple[str, int, int], str] = {}
_DIGEST_LOCK = threading.Lock()


def sha256_of(path: str) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def cached_sha256(path: str) -> str:
    """:func:`sha256_of`, computed once per (path, size, mtime)."""
    st = os.stat(path)
    key = (osp.abspath(path), st.st_size, st.st_mtime_ns)
    with _DIGEST_LOCK:
        digest = _FILE_DIGESTS.get(key)
    if digest is None:
        digest = sha256_of(path)
        with _DIGEST_LOCK:
            _FILE_DIGESTS[key] = digest
    return digest


def _leaf_datasets(cfg: dict) -> List[dict]:
    """The datasets under wrappers (``ConcatDataset``, ``RepeatDataset``)."""
    if 'datasets' in cfg:
        return [d for sub in cfg['datasets'] for d in _leaf_datasets(sub)]
    if isinstance(cfg.get('dataset'), dict):
        return _leaf_datasets(cfg['dataset'])
    return [cfg]


def dataset_files(dataset_cfg: dict) -> List[Tuple[str, str]]:
    """(name, path) of every file a dataset config reads: its split file
    and each sample's files, as the dataset lists them (names relative to
    its data root)."""
    from mmengine.registry import DefaultScope
    from mmseg.registry import DATASETS
    out = []
    for ds in _leaf_datasets(dict(dataset_cfg)):
        with DefaultScope.overwrite_default_scope('mmseg'):
            dataset = DATASETS.build(dict(ds, lazy_init=True))
        root = getattr(dataset, 'data_root', None) or ''
        paths = set()
        ann = getattr(dataset, 'ann_file', '')
        if ann and osp.isfile(ann):
            paths.add(ann)
        for info in dataset.load_data_list():
            paths.update(v for v in info.values()
                         if isinstance(v, str) and osp.isfile(v))
        out += [(osp.relpath(p, root) if root else p, p) for p in paths]
    return sorted(set(out))


def data_digest(cfg, loader: str) -> Optional[dict]:
    """``{'files': N, 'sha256': ...}`` of what ``cfg[loader]`` reads, or
    None when the config has no such loader."""
    loader_cfg = cfg.get(loader)
    if not loader_cfg:
        return None
    files = dataset_files(loader_cfg['dataset'])
    h = hashlib.sha256()
    for name, path in files:
        h.update(f'{name}\0{cached_sha256(path)}\n'.encode())
    return dict(files=len(files), sha256=h.hexdigest())


def code_digest(repo: str) -> dict:
    """Versions and a digest of the package's sources (the Python files of
    the imported ``mmseg_seggan``, the repository's train/test tools and
    ``tools/seggan_launch.py``, which they read configs with)."""
    import mmcv
    import mmengine
    import mmseg
    import torch

    import mmseg_seggan
    pkg = osp.dirname(osp.abspath(mmseg_seggan.__file__))
    files = sorted(glob.glob(osp.join(pkg, '**', '*.py'), recursive=True))
    h = hashlib.sha256()
    for path in files:
        h.update(f'{osp.relpath(path, pkg)}\0{sha256_of(path)}\n'.encode())
    for tool in ('train.py', 'test.py', 'seggan_launch.py'):
        path = osp.join(repo, 'tools', tool)
        if osp.isfile(path):
            h.update(f'tools/{tool}\0{sha256_of(path)}\n'.encode())
    return dict(
        mmseg_seggan=mmseg_seggan.__version__,
        sources_sha256=h.hexdigest(),
        torch=torch.__version__,
        mmengine=mmengine.__version__,
        mmseg=mmseg.__version__,
        mmcv=mmcv.__version__)


def precision_of(cfg) -> str:
    """The training precision a config sets: ``fp32``, or the optimizer
    wrappers' AMP types and dtypes (``AmpOptimWrapper(bfloat16)``)."""
    wrappers = cfg.get('optim_wrapper') or {}
    if 'type' in wrappers or 'optimizer' in wrappers:
        wrappers = {'': wrappers}
    kinds = set()
    for w in wrappers.values():
        if isinstance(w, dict) and w.get(
                'type', 'OptimWrapper') not in ('OptimWrapper', None):
            kinds.add(f'{w["type"]}({w.get("dtype") or "default"})')
    return ', '.join(sorted(kinds)) or 'fp32'
