"""Per-dimension truncated normal distribution on [0, 1] (ASL section 4.3, PAP eq. 10-11).

Both papers sample candidates from ``N_trunc[0,1](mu, sigma^2 I)``: every dimension is an
independent normal N(mu_d, sigma^2) restricted to [0, 1] and renormalised (Burkardt, 2014):

    p(x; mu, sigma) = phi((x - mu) / sigma) / (sigma * (Phi(b) - Phi(a))),
    a = (0 - mu) / sigma,  b = (1 - mu) / sigma.

Sampling uses the inverse CDF, ``x = mu + sigma * Phi^-1(Phi(a) + u (Phi(b) - Phi(a)))`` with
u ~ U(0, 1), so a sample is a pure function of the uniform draws (reproducible from a seed).
The log-density is differentiable in ``mu``, which the PPO2 update needs.
"""
import math

import torch
from torch import Tensor

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _check_sigma(sigma: float) -> None:
    if not (isinstance(sigma, (int, float)) and math.isfinite(sigma) and sigma > 0):
        raise ValueError(f'sigma must be a finite positive number, got {sigma!r}')


def truncnorm_sample(mean: Tensor, sigma: float, uniform: Tensor) -> Tensor:
    """Map uniform draws ``u`` in [0, 1) to samples of N_trunc[0,1](mean, sigma^2), elementwise.

    Args:
        mean (Tensor): (..., D) means; must lie in [0, 1].
        sigma (float): standard deviation of the parent normal.
        uniform (Tensor): draws in [0, 1], broadcastable against ``mean``.

    Returns:
        Samples in [0, 1] with the broadcast shape, float64.
    """
    _check_sigma(sigma)
    mean = torch.as_tensor(mean, dtype=torch.float64)
    uniform = torch.as_tensor(uniform, dtype=torch.float64)
    if not torch.isfinite(mean).all() or mean.min() < 0 or mean.max() > 1:
        raise ValueError(f'mean must lie in [0, 1], got {mean.tolist()}')
    if not torch.isfinite(uniform).all() or uniform.min() < 0 or uniform.max() > 1:
        raise ValueError(f'uniform draws must lie in [0, 1], got {uniform.tolist()}')
    cdf_a = torch.special.ndtr((0 - mean) / sigma)
    cdf_b = torch.special.ndtr((1 - mean) / sigma)
    z = torch.special.ndtri(cdf_a + uniform * (cdf_b - cdf_a))
    return (mean + sigma * z).clamp(0, 1)


def truncnorm_log_prob(x: Tensor, mean: Tensor, sigma: float) -> Tensor:
    """Elementwise log p(x; mean, sigma) of N_trunc[0,1] (the PDF in ASL/PAP eq. 11).

    ``log(Phi(b) - Phi(a))`` is computed from ``log_ndtr`` so it stays finite when the mean
    lies near or slightly outside the interval (PPO2's Adam steps may leave [0, 1] before the
    projection back).
    """
    _check_sigma(sigma)
    a = (0 - mean) / sigma
    b = (1 - mean) / sigma
    log_cdf_a = torch.special.log_ndtr(a)
    log_cdf_b = torch.special.log_ndtr(b)
    log_mass = log_cdf_b + torch.log1p(-torch.exp(log_cdf_a - log_cdf_b))
    z = (x - mean) / sigma
    return -0.5 * z * z - _LOG_SQRT_2PI - math.log(sigma) - log_mass
