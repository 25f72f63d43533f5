# Parameterized AP Loss search for Deformable DETR on ToyDet (one feature level in the proxy,
# PAP section 4.1).
_base_ = './paploss_retinanet_toydet.py'
proxy_config = 'configs/proxies/paploss_toydet_deformable-detr.py'
