# AutoLoss-Zero search for keypoint AP on ToyPose (ALZ section 4.4): one formula for the
# heatmap head's loss (prediction = the predicted heatmaps, target = the target heatmaps,
# keypoint weights applied per keypoint), rewarded with mmpose's CocoMetric keypoint AP.
# Sized for a CPU: 4 initial losses, 2 generations of 2 offspring.
# Data first: `python tools/generate_toypose.py --out data/toypose`.
proxy_config = 'configs/proxies/alz_toypose_heatmap.py'
search_space = dict(
    type='FormulaSpace', primitive_set='alz', branches={'model.head.loss': 'heatmap'})
reward_key = 'coco/AP'
searcher = dict(
    type='RegularizedEvolutionSearcher',
    population_size=4,
    depth=3,
    loss_rejection=dict(preset='cpu', num_samples=5, threshold=0.1, early_check=0))
executor = dict(type='LocalExecutor', max_concurrent=1, nonfinite_check_iters=20)
budget = dict(rounds=3, samples_per_round=2)
seed = 0
failure_reward = 0.0
trial_timeout = 1800
