"""ParamAPLoss under DDP, on two real CPU processes (gloo): by default each rank is the
mean over its own positives (the authors' release); with ``reduce_num_pos=True`` the
average over ranks is the mean over every positive of the global batch."""

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from mmautoloss.models.losses import ParamAPLoss

WORLD = 2


def _batch(rank: int):
    """Rank r's mini-batch: different sizes and numbers of positives per rank."""
    gen = torch.Generator().manual_seed(100 + rank)
    n, num_pos = (300, 3) if rank == 0 else (200, 17)
    scores = torch.randn(n, generator=gen, dtype=torch.float64)
    pos_mask = torch.zeros(n, dtype=torch.bool)
    pos_mask[torch.randperm(n, generator=gen)[:num_pos]] = True
    gt = 100 * torch.rand(num_pos, 2, generator=gen, dtype=torch.float64)
    gt = torch.cat([gt, gt + 10 + 30 * torch.rand(num_pos, 2, generator=gen,
                                                  dtype=torch.float64)], 1)
    pred = gt + 3 * torch.randn(num_pos, 4, generator=gen, dtype=torch.float64)
    return scores, pos_mask, pred, gt


def _worker(rank: int, init_file: str, results: dict) -> None:
    dist.init_process_group('gloo', init_method=f'file://{init_file}', rank=rank,
                            world_size=WORLD)
    try:
        params = torch.linspace(0.05, 0.95, 40).tolist()
        out = {}
        for reduce in (False, True):
            loss = ParamAPLoss(params=params, reduce_num_pos=reduce)
            value = loss(*_batch(rank)).detach().reshape(1)
            dist.all_reduce(value)
            out[reduce] = float(value) / WORLD  # what DDP's gradient average optimises
        results[rank] = out
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope='module')
def ddp_results(tmp_path_factory):
    init_file = str(tmp_path_factory.mktemp('ddp') / 'init')
    manager = mp.Manager()
    results = manager.dict()
    mp.start_processes(_worker, args=(init_file, results), nprocs=WORLD, join=True,
                       start_method='spawn')
    return dict(results)


def test_default_averages_the_per_rank_means(ddp_results):
    params = torch.linspace(0.05, 0.95, 40).tolist()
    per_rank = [float(ParamAPLoss(params=params)(*_batch(r))) for r in range(WORLD)]
    for rank in range(WORLD):
        assert ddp_results[rank][False] == pytest.approx(sum(per_rank) / WORLD, rel=1e-6)


def test_reduce_num_pos_gives_the_mean_over_every_positive(ddp_results):
    """1 - (1/|P|) sum_i T_i over the positives of both ranks, each T_i from its own rank's
    ranking: per rank, sum_i (1 - T_i) = |P_r| * (its loss)."""
    params = torch.linspace(0.05, 0.95, 40).tolist()
    totals, counts = 0.0, 0
    for rank in range(WORLD):
        batch = _batch(rank)
        num_pos = int(batch[1].sum())
        totals += num_pos * float(ParamAPLoss(params=params)(*batch))
        counts += num_pos
    for rank in range(WORLD):
        assert ddp_results[rank][True] == pytest.approx(totals / counts, rel=1e-6)
    # the two decisions differ when the ranks' numbers of positives differ (3 vs 17)
    assert abs(ddp_results[0][True] - ddp_results[0][False]) > 1e-3


def test_one_process_is_unaffected():
    batch = _batch(1)
    plain = ParamAPLoss()(*batch)
    assert torch.equal(ParamAPLoss(reduce_num_pos=True)(*batch), plain)
    with pytest.raises(ValueError, match='reduce_num_pos'):
        ParamAPLoss(reduce_num_pos=1)
