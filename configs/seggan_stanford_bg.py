# Entry point: SegGAN on Stanford Background (converted, at data/stanford_bg).
_base_ = [
    './seggan/seggan_deeplabv3_r18-d16_1xb4-800+800it_stanford-bg-176x240.py'
]
