"""Install mmseg-seggan: ``pip install -e .`` (see README for the stack)."""
import os.path as osp

from setuptools import find_packages, setup


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


setup(
    name='mmseg-seggan',
    version=get_version(),
    description='SegGAN (BigMM 2018) as an MMSegmentation 1.x plugin',
    long_description=open('README.md').read() if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'docs')),
    python_requires='>=3.8',
    install_requires=read_requirements('runtime.txt'),
    extras_require=dict(
        tests=read_requirements('tests.txt'),
        mmpretrain=read_requirements('mmpretrain.txt'),
        pretrained=read_requirements('pretrained.txt'),
        mim=read_requirements('mminstall.txt')),
    license='Apache License 2.0',
    zip_safe=False)
