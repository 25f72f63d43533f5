# AutoLoss-Zero search for COCO AP of Faster R-CNN on ToyDet (ALZ section 4.2): the four
# loss branches (RPN / R-CNN classification and box regression) searched together from
# random formulas, eq. (4); regression formulas over the intersection, union and enclosing
# areas of the decoded boxes. Each new formula passes the loss-rejection protocol for its
# branch with the other branches at their targets (appendix A.2). Sized for a CPU: 4
# initial losses, then 2 generations of 2 offspring.
# Data first: `python tools/generate_toydet.py --out data/toydet`.
proxy_config = 'configs/proxies/alz_toydet_faster-rcnn.py'
search_space = dict(
    type='FormulaSpace',
    primitive_set='alz',
    branches={
        'model.rpn_head.loss_cls': 'sigmoid_cls',
        'model.rpn_head.loss_bbox': 'box',
        'model.roi_head.bbox_head.loss_cls': 'softmax_cls',
        'model.roi_head.bbox_head.loss_bbox': 'box',
    })
reward_key = 'coco/bbox_mAP'
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
