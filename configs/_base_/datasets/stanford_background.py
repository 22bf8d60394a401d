# Stanford Background under mmseg's usual names (dataset_type, train_pipeline,
# train_dataloader, ...), from ./stanford_background_dropin.py (the layout,
# the converter, the pipelines and the paper's split are described there).
_base_ = ['./stanford_background_dropin.py']
dataset_type = _base_.stanford_bg_dataset_type
data_root = _base_.stanford_bg_data_root
crop_size = _base_.stanford_bg_crop_size
scale = _base_.stanford_bg_scale
train_pipeline = _base_.stanford_bg_train_pipeline
test_pipeline = _base_.stanford_bg_test_pipeline
tta_pipeline = _base_.stanford_bg_tta_pipeline
train_dataloader = _base_.stanford_bg_train_dataloader
val_dataloader = _base_.stanford_bg_val_dataloader
test_dataloader = _base_.stanford_bg_test_dataloader
val_evaluator = _base_.stanford_bg_val_evaluator
test_evaluator = _base_.stanford_bg_test_evaluator
