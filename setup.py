"""Install mmseg-seggan: ``pip install .`` or ``pip install -e .`` (README).

Besides the Python package, a build carries what an OpenMMLab package
carries (see ``BuildPy``): the configs and the user tools under
``mmseg_seggan/.mim/`` (as mmseg ships ``mmseg/.mim/configs``), and the
start-up hook ``_mmseg_seggan_hook`` with its ``.pth`` file.
"""
import os.path as osp
import shutil
from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

# What OpenMMLab's ``mim`` and mmengine look for in ``<package>/.mim/``:
# configs (mmengine resolves ``mmseg_seggan::<path>`` there, after reading
# model-index.yml) and the tools.
MIM_FOLDERS = ('configs', 'tools')
MIM_FILES = ('model-index.yml', )
# Scripts that only make sense in a clone (they set up or test the clone).
MIM_SKIP = ('run_tests.sh', 'setup_env.sh', 'run_demo.sh', '__pycache__',
            '*.pyc')
HOOK_PTH = 'mmseg_seggan-hook.pth'
# The off switch is read first: with MMSEG_SEGGAN_NO_HOOK=1 exactly, no
# module is even looked for. Guarded (as importlib.util.find_spec would,
# without importing it): a .pth left behind without its module must not
# print an error at every interpreter start.
HOOK_LINE = ("import os, sys; os.environ.get('MMSEG_SEGGAN_NO_HOOK') == '1' "
             "or any(getattr(f, 'find_spec', lambda *a: None)("
             "'_mmseg_seggan_hook', None) for f in sys.meta_path) and "
             "__import__('_mmseg_seggan_hook').install()\n")


def read_requirements(name):
    path = osp.join(osp.dirname(__file__), 'requirements', name)
    with open(path) as f:
        return [
            line.split('#')[0].strip() for line in f
            if line.split('#')[0].strip() and not line.startswith('-')
        ]


def get_version():
    scope = {}
    with open(osp.join('mmseg_seggan', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


class BuildPy(build_py):
    """``build_py`` plus ``mmseg_seggan/.mim/{configs,tools}`` and the hook.

    The copies are made in the build folder, never in the source tree. An
    editable install (``pip install -e .``) gets the hook's ``.pth`` too (so
    a clone's environment behaves like a user's) but no ``.mim``: its
    package folder is the clone, whose ``configs/`` and ``tools/`` are used
    by path.
    """

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            # setuptools' editable_wheel packs its install_lib folder (the
            # unpacked wheel), not build_lib.
            install_lib = self.get_finalized_command('install').install_lib
            self._write_hook_pth(install_lib)
            return
        self._write_hook_pth(self.build_lib)
        repo = osp.dirname(osp.abspath(__file__))
        mim = osp.join(self.build_lib, 'mmseg_seggan', '.mim')
        for folder in MIM_FOLDERS:
            dst = osp.join(mim, folder)
            if osp.isdir(dst):
                shutil.rmtree(dst)
            shutil.copytree(
                osp.join(repo, folder),
                dst,
                ignore=shutil.ignore_patterns(*MIM_SKIP))
        for name in MIM_FILES:
            shutil.copyfile(osp.join(repo, name), osp.join(mim, name))

    @staticmethod
    def _write_hook_pth(folder: str) -> None:
        with open(osp.join(folder, HOOK_PTH), 'w') as f:
            f.write(HOOK_LINE)


setup(
    name='mmseg-seggan',
    version=get_version(),
    description='SegGAN (BigMM 2018) as an MMSegmentation 1.x plugin',
    long_description=open('README.md').read()
    if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'docs')),
    py_modules=['_mmseg_seggan_hook'],
    cmdclass=dict(build_py=BuildPy),
    python_requires='>=3.8',
    install_requires=read_requirements('runtime.txt'),
    extras_require=dict(
        tests=read_requirements('tests.txt'),
        mmpretrain=read_requirements('mmpretrain.txt'),
        pretrained=read_requirements('pretrained.txt'),
        mim=read_requirements('mminstall.txt'),
        # One of the two stacks (never both: same import names). mmcv is
        # in neither OpenMMLab extra: mmcv-lite (`mim`) and a compiled mmcv
        # own the same folder; onedl-mmcv is one distribution either way.
        openmmlab=read_requirements('openmmlab.txt'),
        onedl=read_requirements('onedl.txt')),
    license='Apache License 2.0',
    zip_safe=False)
