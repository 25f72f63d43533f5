# Parameterized AP Loss search for RetinaNet on ToyDet (PAP Algorithm 1, section 4.1),
# sized for a CPU: 2 rounds x 3 proxy trainings. The paper searched T=40 rounds of S=8
# samples: --cfg-options budget.rounds=40 budget.samples_per_round=8 --gpus 8
# Data first: `python tools/generate_toydet.py --out data/toydet`.
proxy_config = 'configs/proxies/paploss_toydet_retinanet.py'
search_space = dict(type='PAPSpace', keys=['model.bbox_head.loss_ap'], num_segments=5)
reward_key = 'coco/bbox_mAP'
searcher = dict(
    type='PPO2Searcher',
    sigma=0.2,
    sigma_schedule='linear',  # "decays linearly to 0 with respect to the search round"
    clip_eps=0.1,  # per component
    lr=0.01,
    num_steps=100,
    warmup_steps=30,
    # PAP Algorithm 1 draws all S samples; here one of them is the mean itself, so every
    # round also scores mu_t (as ASL does). sample_mean=False gives the paper's form.
    sample_mean=True,
    select='sample')  # PAP returns the best sampled parameters
executor = dict(type='LocalExecutor', max_concurrent=1, nonfinite_check_iters=20)
budget = dict(rounds=2, samples_per_round=3)
seed = 0
failure_reward = 0.0
trial_timeout = 3600
