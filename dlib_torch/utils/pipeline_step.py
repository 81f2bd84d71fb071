"""What postprocessing and evaluation share: the output-folder rule and `dataset.name = "auto"`."""
import os

import gin

from dlib_torch.utils import atomic_io
from dlib_torch.utils import errors
from dlib_torch.utils import folder_lock
from dlib_torch.utils import results


def check_output_dir(output_dir, overwrite):
  """Takes the output folder for this step and applies the original's rule: an existing
  output folder needs overwrite=True.

  The folder's lock (folder_lock) is held until the step ends, so a second
  process on the same folder ends at once with folder_lock.FolderBusy, and
  what a killed run left there is removed (atomic_io.claim_folder). The
  folder itself is only replaced when the step has succeeded (see
  atomic_io.staged_directory), so a failed step loses nothing.
  """
  atomic_io.claim_folder(output_dir)
  if os.path.exists(output_dir) and not overwrite:
    folder_lock.end_unscoped(output_dir)
    raise errors.UserError(
        "Directory already exists and overwrite is False: {}".format(output_dir))


def resolve_auto_dataset(previous_gin_path):
  """Re-binds dataset.name from the previous step when it is "auto"."""
  if gin.query_parameter("dataset.name") != "auto":
    return
  if not os.path.exists(previous_gin_path):
    raise errors.UserError(
        "dataset.name is 'auto' but {} does not exist; is the input folder a finished "
        "step?".format(previous_gin_path))
  value = results.read_gin_value(previous_gin_path, "dataset.name")
  if value is None:
    raise errors.UserError("No dataset.name in {}.".format(previous_gin_path))
  with gin.unlock_config():
    gin.bind_parameter("dataset.name", value.replace("'", "").replace('"', ""))


def require_input_dir(input_dir, what):
  if not os.path.isdir(input_dir):
    raise errors.UserError("Input folder {} does not exist (expected {}).".format(
        input_dir, what))
