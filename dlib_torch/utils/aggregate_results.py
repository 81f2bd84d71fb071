"""Collecting many results/aggregate/*.json files into one table for pandas."""
import glob
import json

import pandas as pd

from dlib_torch.utils import atomic_io
from dlib_torch.utils import errors


def aggregate_results_to_json(result_file_pattern, output_path):
  """Writes one JSON (pandas "columns" layout) with a row per matching file.

  Each row is the flat aggregate dict of one step plus its "path". Returns
  the DataFrame.
  """
  paths = sorted(glob.glob(result_file_pattern))
  rows = []
  for path in paths:
    try:
      row = atomic_io.read_json(path)
    except ValueError as e:  # Empty, truncated or not JSON: nothing is written.
      raise errors.UserError("{} is not a JSON results file ({}).".format(path, e)) from e
    if not isinstance(row, dict):
      raise errors.UserError("{} is not a JSON results file (no object).".format(path))
    row["path"] = path
    rows.append(row)
  df = pd.DataFrame(rows)
  atomic_io.write_text(output_path, df.to_json())
  return df


def load_aggregated_json_results(source_path):
  """Loads an aggregated JSON written by `aggregate_results_to_json`."""
  with open(source_path) as f:
    data = json.load(f)
  # pandas' read_json would coerce gin value strings such as "'mig'" or
  # "1.0"; building the frame from the parsed columns keeps them as written.
  df = pd.DataFrame(data)
  df.index = df.index.astype(int)
  return df.sort_index()

