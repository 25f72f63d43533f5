"""A candidate drawn: its searched curves (ASL / PAP) or its formulas (AutoLoss-Zero /
CSE-Autoloss), as a search space plots it."""
from __future__ import annotations

import math

import torch

from ..functional.monotone_function import MonotoneFunction


def plot_curves(curves: dict[str, MonotoneFunction], path: str, title: str) -> None:
    """The searched curves g / f of a candidate on [0, 1], with the identity for reference."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    x = torch.linspace(0, 1, 201, dtype=torch.float64)
    cols = min(len(curves), 5)
    rows = math.ceil(len(curves) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.6 * rows), squeeze=False)
    for ax in axes.flat[len(curves):]:
        ax.axis('off')
    for ax, (name, curve) in zip(axes.flat, curves.items()):
        ax.plot(x.numpy(), x.numpy(), color='grey', linestyle=':', linewidth=1)
        ax.plot(x.numpy(), curve(x).numpy(), color='tab:blue')
        ax.scatter(curve.points[:, 0].numpy(), curve.points[:, 1].numpy(), s=10,
                   color='tab:red', zorder=3)
        ax.set_title(name, fontsize=8)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_formulas(formulas: dict[str, str], path: str, title: str) -> None:
    """The searched formulas of a candidate as text, one line of maths per loss branch."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    lines = list(formulas.items())
    width = max([len(title)] + [len(k) + len(f) + 3 for k, f in lines])
    fig = plt.figure(figsize=(min(max(4.0, 0.09 * width), 24.0), 0.6 + 0.45 * len(lines)))
    fig.text(0.01, 1 - 0.25 / (0.6 + 0.45 * len(lines)), title, fontsize=9, weight='bold',
             va='top', family='monospace')
    for row, (key, formula) in enumerate(lines):
        fig.text(0.01, 1 - (0.55 + 0.45 * row) / (0.6 + 0.45 * len(lines)),
                 f'{key}: {formula}', fontsize=8, va='top', family='monospace')
    fig.savefig(path, dpi=100)
    plt.close(fig)
