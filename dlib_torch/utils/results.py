"""Results folders: results/{gin,json,aggregate}, as disentanglement_lib writes them.

Every pipeline step calls `update_result_directory`, which records the
operative gin config, its flattened form, the step's results and the
namespaced union of all JSON files so far. Keys and file names are the
original's, so analysis code written for it works on our folders.
"""
import copy
import glob
import os
import shutil
import uuid

import gin

from dlib_torch.utils import atomic_io


def update_result_directory(result_dir, step_name, results_dict, old_result_dir=None,
                            extra_config=""):
  """Adds the results of a step to a results folder.

  Args:
    result_dir: the results folder to update (created if missing).
    step_name: "train", "postprocess", "evaluation", ...
    results_dict: the step's results; a "uuid" entry is added.
    old_result_dir: a results folder whose content is copied in first.
    extra_config: gin text appended to the operative config (bindings the
      step read without calling their configurable).
  """
  if old_result_dir is not None:
    copydir(old_result_dir, result_dir)
  results_dict = dict(results_dict)
  results_dict["uuid"] = str(uuid.uuid4())
  gin_path = os.path.join(result_dir, "gin", "{}.gin".format(step_name))
  atomic_io.write_text(gin_path, gin.operative_config_str() + extra_config)
  atomic_io.write_json(
      os.path.join(result_dir, "json", "{}_config.json".format(step_name)), gin_dict(gin_path))
  atomic_io.write_json(
      os.path.join(result_dir, "json", "{}_results.json".format(step_name)), results_dict)
  atomic_io.write_json(
      os.path.join(result_dir, "aggregate", "{}.json".format(step_name)),
      aggregate_json_results(os.path.join(result_dir, "json")))


def copydir(path_to_old_dir, path_to_new_dir):
  """Recursively copies a folder, merging into an existing target.

  A failed copy raises its own OSError (shutil.copytree would gather them into
  one shutil.Error without an errno, hiding a full disk).
  """
  for folder, _, files in os.walk(path_to_old_dir, followlinks=True):
    target = os.path.join(path_to_new_dir, os.path.relpath(folder, path_to_old_dir))
    os.makedirs(target, exist_ok=True)
    for name in files:
      shutil.copy2(os.path.join(folder, name), os.path.join(target, name))


def gin_dict(config_path=None):
  """Flattens an operative gin config into {"scope/name.param": "value text"}.

  Values are kept as the text that gin wrote (quoted strings, @references),
  exactly as the original records them. Without a path, uses the current
  operative config.
  """
  if config_path is None:
    text = gin.operative_config_str()
  else:
    with open(config_path) as f:
      text = f.read()
  result = {}
  for line in text.split("\n"):
    if not line.startswith("#") and " = " in line:
      key, value = line.split(" = ", 1)
      result[key] = value
  return result


def read_gin_value(config_path, key):
  """The value text of `key` in a saved gin config, or None if absent."""
  return gin_dict(config_path).get(key)


def namespaced_dict(base_dict=None, **named_dicts):
  """A copy of base_dict plus "<name>.<key>": value for every named dict."""
  result = {} if base_dict is None else copy.deepcopy(base_dict)
  for outer_key, named_dict in named_dicts.items():
    for inner_key, value in named_dict.items():
      result["{}.{}".format(outer_key, inner_key)] = value
  return result


def aggregate_json_results(base_path):
  """Loads every <name>.json of a folder into one dict namespaced by <name>."""
  named = {}
  for path in sorted(glob.glob(os.path.join(base_path, "*.json"))):
    name = os.path.basename(path)[:-len(".json")]
    named[name] = atomic_io.read_json(path)
  return namespaced_dict(**named)
