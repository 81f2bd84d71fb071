"""Every data set of the original (and each procedural stand-in) is registered."""
import pytest

from dlib_torch.data.ground_truth import named_data
from dlib_torch.utils import errors

ORIGINAL = ["dsprites_full", "dsprites_noshape", "color_dsprites", "noisy_dsprites",
            "scream_dsprites", "smallnorb", "cars3d", "shapes3d", "mpi3d_toy",
            "mpi3d_realistic", "mpi3d_real", "dummy_data"]
PROCEDURAL = {
    "procedural_dsprites": ([3, 6, 40, 32, 32], [64, 64, 1]),
    "procedural_color_dsprites": ([3, 6, 40, 32, 32], [64, 64, 3]),
    "procedural_noisy_dsprites": ([3, 6, 40, 32, 32], [64, 64, 3]),
    "procedural_scream_dsprites": ([3, 6, 40, 32, 32], [64, 64, 3]),
    "procedural_shapes3d": ([10, 10, 10, 8, 4, 15], [64, 64, 3]),
}


def test_all_names_registered_with_descriptions():
  names = named_data.known_names()
  for name in ORIGINAL + list(PROCEDURAL):
    assert name in names
    assert named_data.describe(name)


@pytest.mark.parametrize("name", sorted(PROCEDURAL))
def test_procedural_sets_match_the_real_ones(name):
  data = named_data.get_named_ground_truth_data(name)
  sizes, shape = PROCEDURAL[name]
  assert data.factors_num_values == sizes and data.num_factors == len(sizes)
  assert data.observation_shape == shape


def test_file_sets_fail_with_one_line_without_files(tmp_path, monkeypatch):
  monkeypatch.setenv("DISENTANGLEMENT_LIB_DATA", str(tmp_path))
  for name in ORIGINAL[:-1]:
    with pytest.raises(errors.UserError) as info:
      named_data.get_named_ground_truth_data(name)
    # gin appends a line naming the configurable; ours is the first.
    message = str(info.value).splitlines()[0]
    assert message.startswith("Data ") and "ddownload " in message and str(tmp_path) in message
