# Entry point: SegGAN on the generated ToyScenes (the README's demo).
_base_ = ['./seggan/seggan_deeplabv3_r18-d16_1xb8-300+300it_toy-96x128.py']
