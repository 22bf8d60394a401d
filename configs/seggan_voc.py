# Entry point: SegGAN on PASCAL VOC 2012 + SBD aug (the paper's Table I).
_base_ = ['./seggan/seggan_deeplabv3_r50-d8_4xb2-20k+20k_voc12aug-512x512.py']
