"""The shipped gin files, installed as dlib_torch.gin_configs (no Python here).

The Python study definitions that use them are dlib_torch.config; find a file
with dlib_torch.config.resources.config_path("<study>/<kind>_configs/<name>.gin").
"""
