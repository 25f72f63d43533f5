# A recorded CSE-Autoloss search (see ../record.py): two generations with their filter
# stages, simulations and proxy trainings. Paths are relative to ../.
proxy_config = 'cse_generations/proxy.py'
search_space = dict(type='FormulaSpace', primitive_set='cse-release',
                    branches={'model.roi_head.bbox_head.loss_cls': 'softmax_cls'})
reward_key = 'coco/bbox_mAP'
searcher = dict(type='ConvergenceSimulationSearcher', initial_loss='CEI', population_size=6,
                num_parents=2, crossover_prob=0.5, mutation_prob=0.8, depth=2,
                max_simulated=3,
                convergence=dict(num_classes=3, score_range=(-8.0, 16.0), grid_points=49,
                                 grad_ratio=0.01),
                simulation=dict(iters=3, images_per_category=1))
executor = dict(type='LocalExecutor', max_concurrent=1,
                job_entry=['python3', '../search_job/objective_job.py'], kill_grace_s=0.2,
                poll_interval_s=0.02)
budget = dict(rounds=2, samples_per_round=1)
seed = 0
failure_reward = 0.0
trial_timeout = 60
