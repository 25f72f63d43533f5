# A recorded ASL search (see ../record.py): PPO2, two seeds per candidate, a re-training
# stage on a second target with a fixed baseline. Paths are relative to ../ (the working
# directory of record.py and of the test that resumes it).
proxy_config = 'asl_ppo2_seeds_retrain/proxy.py'
search_space = dict(type='ASLSpace', metric='mIoU')
reward_key = 'mIoU'
searcher = dict(type='PPO2Searcher', num_steps=10)
executor = dict(type='LocalExecutor', max_concurrent=1,
                job_entry=['python3', '../search_job/objective_job.py'], kill_grace_s=0.2,
                poll_interval_s=0.02)
budget = dict(rounds=2, samples_per_round=3)
seed = 0
failure_reward = 0.0
trial_timeout = 60
seeds_per_candidate = 2
retrain = dict(top_k=2, seeds=2, config=[None, 'asl_ppo2_seeds_retrain/target.py'],
               baseline=False, schedule_factor=1,
               baselines=dict(fixed={'model.decode_head.loss_decode': dict(
                   _delete_=True, type='AutoSegLoss', metric='mIoU', params=[0.9] * 12)}))
