"""A few training iterations of a ToyDet proxy config, shared by the detection head tests."""
from mmengine.config import Config
from mmengine.runner import Runner

from mmautoloss.datasets.toy_detection import generate_toydet


def train_toydet_proxy(proxy_config: str, tmp_path, max_iters: int = 3) -> Runner:
    """Train ``proxy_config`` for ``max_iters`` on a fresh 4 + 2 + 2 image ToyDet set; the
    iteration loop validates (CocoMetric, on the search split) after its last iteration.
    No checkpoints."""
    data_root = str(tmp_path / 'toydet') + '/'
    generate_toydet(data_root, seed=0, num_train=4, num_val=2)
    cfg = Config.fromfile(proxy_config)
    cfg.work_dir = str(tmp_path / 'work')
    for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
        loader.dataset.data_root = data_root
        loader.batch_size = 2
    cfg.val_evaluator.ann_file = data_root + 'annotations/instances_search.json'
    cfg.train_cfg.max_iters = max_iters
    cfg.train_cfg.val_interval = 100
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=-1, save_last=False)
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner
