"""The studies in Python, at the original's path (disentanglement_lib.config).

Sweeps (`<study>/sweep.py`), the study registry (`reproduce.STUDIES`), the seed
plan of dreproduce (`plan`) and where the shipped gin files are (`resources`).
The gin files themselves are the checkout's `configs/` folder, installed as
`dlib_torch.gin_configs`.
"""
