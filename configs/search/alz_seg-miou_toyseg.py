# AutoLoss-Zero search for mIoU on ToySeg (ALZ section 3.2 and 4.1): regularised evolution
# of one formula over the primitive operators of Table 1 for the decode head's loss,
# initial depth 3, every new formula screened by the loss-rejection protocol (eq. 5-6, B = 5
# samples, eta = 0.6) and the gradient-equivalence check before it is trained. Sized for
# minutes on a CPU: 6 random initial losses, then 2 generations of 3 offspring. The paper:
# K = 20, P = 2500, T = 5%, 500 proxy trainings in all, e.g.
#   --cfg-options searcher.population_size=20 budget.rounds=160 budget.samples_per_round=3
# Data first: `python tools/generate_toyseg.py --out data/toyseg`.
proxy_config = 'configs/proxies/alz_toyseg.py'
search_space = dict(
    type='FormulaSpace',
    primitive_set='alz',
    branches={'model.decode_head.loss_decode': 'seg'})
reward_key = 'mIoU'
searcher = dict(
    type='RegularizedEvolutionSearcher',
    population_size=6,
    max_population=2500,
    tournament_fraction=0.05,
    depth=3,
    copy_prob=0.1,
    reinit_prob=0.5,
    loss_rejection=dict(preset='cpu', metric='mIoU', num_samples=5, threshold=0.6,
                        tolerance=1))
executor = dict(type='LocalExecutor', max_concurrent=1, nonfinite_check_iters=20)
budget = dict(rounds=3, samples_per_round=3)
seed = 0
failure_reward = 0.0
trial_timeout = 1800
