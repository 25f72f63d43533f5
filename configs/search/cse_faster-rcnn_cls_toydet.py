# CSE-Autoloss search of the classification loss of Faster R-CNN's R-CNN head on ToyDet
# (CSE-Autoloss section 3.2, Algorithm 1), GIoU fixed as the regression loss. Generation 1
# mutates the initial loss CEI -dot(w y, log(softmax(x))) with the CSE primitive set; each
# generation drops duplicates, invalid and non-convergent offspring (section 3.2.2), runs
# the model-optimisation simulation on a verification set of one training image per
# category (section 3.2.3) and trains the best K on the proxy. Sized for a CPU: N = 12
# offspring, at most 4 simulations of 60 iterations and K = 2 proxy trainings per
# generation, P = 2 parents, E = 2 generations (paper: N about 10^4 for classification).
# Data first: `python tools/generate_toydet.py --out data/toydet`.
proxy_config = 'configs/proxies/cse_toydet_faster-rcnn_ce-giou.py'
search_space = dict(
    type='FormulaSpace',
    primitive_set='cse',
    branches={'model.roi_head.bbox_head.loss_cls': 'softmax_cls'})
reward_key = 'coco/bbox_mAP'
searcher = dict(
    type='ConvergenceSimulationSearcher',
    initial_loss='CEI',
    population_size=12,
    num_parents=2,
    crossover_prob=0.5,
    mutation_prob=0.8,
    depth=2,
    max_simulated=4,
    convergence=dict(num_classes=3, score_range=(-8.0, 16.0), grid_points=49,
                     grad_ratio=0.01),
    simulation=dict(iters=60, images_per_category=1))
executor = dict(type='LocalExecutor', max_concurrent=1, nonfinite_check_iters=20)
budget = dict(rounds=2, samples_per_round=2)
seed = 0
failure_reward = 0.0
trial_timeout = 1800
