"""Install mmautoloss. Dependencies are installed by tools/install.sh (see README)."""
from setuptools import find_packages, setup


def read_version() -> str:
    namespace: dict = {}
    with open('mmautoloss/version.py', encoding='utf-8') as f:
        exec(f.read(), namespace)
    return namespace['__version__']


setup(
    name='mmautoloss',
    version=read_version(),
    description='Automated loss-function search for OpenMMLab 2.x '
    '(Auto Seg-Loss, Parameterized AP Loss, AutoLoss-Zero, CSE-Autoloss)',
    packages=find_packages(exclude=('tests', 'tests.*', 'benchmarks')),
    python_requires='>=3.8',
    # deap: the tree type of the formula losses, imported with the losses
    install_requires=['torch', 'mmengine>=0.10', 'numpy', 'deap'],
    extras_require={
        'det': ['mmdet>=3.3'],
        'seg': ['mmsegmentation>=1.2'],
        'pose': ['mmpose>=1.3'],
        'ray': ['ray>=2.9,<3'],  # the RayExecutor; core Ray, no torch
        # the Optuna study of a search, optuna-dashboard, TensorBoard logs
        'dashboard': ['optuna>=4,<6', 'optuna-dashboard>=0.16', 'tensorboard>=2.14'],
    },
    license='Apache License 2.0',
)
