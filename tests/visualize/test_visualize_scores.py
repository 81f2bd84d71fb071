"""visualize_scores: connected groups and recovered rows of a score matrix; plots."""
import numpy as np
import pytest

from dlib_torch.visualize import plotting
from dlib_torch.visualize import visualize_scores

TWO_BLOCKS = np.array([[1, 1, 0, 0, 0],
                       [0, 0, 0, 0, 0],
                       [0, 0, 0, 0, 0],
                       [0, 0, 0, 0, 0],
                       [0, 0, 0, 1, 1]])
BRIDGED = np.array([[1, 1, 0, 0, 0],
                    [0, 0, 0, 0, 0],
                    [0, 0, 0, 0, 0],
                    [0, 1, 0, 0, 0],
                    [0, 0, 0, 1, 1]])


class TestGraphCounts:

  @pytest.mark.parametrize("matrix,rows_seen,columns_seen,size", [
      (np.eye(5), [1, 0, 0, 0, 0], [1, 0, 0, 0, 0], 2),
      (np.triu(np.ones(5)), [1] * 5, [1] * 5, 10),
      (np.ones((5, 5)), [1] * 5, [1] * 5, 10),
      (TWO_BLOCKS, [1, 0, 0, 0, 0], [1, 1, 0, 0, 0], 3),
      # Row 3 is reached through column 1.
      (BRIDGED, [1, 0, 0, 1, 0], [1, 1, 0, 0, 0], 4),
  ])
  def test_bfs_marks_the_component_of_the_start(self, matrix, rows_seen, columns_seen, size):
    rows, columns, found = visualize_scores.bfs(matrix, [(0, 0)], np.zeros(5), np.zeros(5), 1)
    np.testing.assert_array_equal(rows, rows_seen)
    np.testing.assert_array_equal(columns, columns_seen)
    assert found == size

  @pytest.mark.parametrize("matrix,groups,rows", [
      (np.zeros((5, 5)), 0, 0),
      (np.eye(5), 5, 5),
      (np.triu(np.ones(5)), 1, 5),
      (np.ones((5, 5)), 1, 5),
      (TWO_BLOCKS, 2, 2),
      (BRIDGED, 2, 3),
  ])
  def test_precision_and_recall_at_one(self, matrix, groups, rows):
    assert visualize_scores.precision(matrix, 1) == groups
    assert visualize_scores.recall(matrix, 1) == rows

  def test_threshold_cuts_weak_edges(self):
    matrix = np.array([[0.9, 0.2], [0.3, 0.8]])
    assert visualize_scores.precision(matrix, 0.5) == 2  # two separate pairs
    assert visualize_scores.precision(matrix, 0.25) == 1  # 0.3 joins them
    assert visualize_scores.recall(matrix, 0.85) == 1
    np.testing.assert_array_equal(matrix, [[0.9, 0.2], [0.3, 0.8]])  # input untouched


class TestPlots:

  def test_max_val_below_the_maximum_is_refused(self, tmp_path):
    with pytest.raises(ValueError, match="larger than max_val"):
      visualize_scores.heat_square(np.eye(3) * 2., str(tmp_path), "m", "x", "y", max_val=1.)

  def test_without_matplotlib_nothing_is_written(self, tmp_path, monkeypatch):
    monkeypatch.setattr(plotting, "available", lambda: False)
    visualize_scores.heat_square(np.eye(3), str(tmp_path), "m", "x", "y")
    visualize_scores.plot_recovery_vs_independent(np.eye(3), str(tmp_path), "m_pr")
    assert not list(tmp_path.iterdir())

  @pytest.mark.parametrize("matrix", [np.zeros((5, 10)), np.random.RandomState(0).rand(10, 4)])
  def test_plots_are_written(self, tmp_path, matrix):
    pytest.importorskip("matplotlib")
    from PIL import Image  # pylint: disable=g-import-not-at-top
    visualize_scores.heat_square(matrix, str(tmp_path), "m", "Latent codes", "Factors",
                                 factor_names=["f{}".format(i) for i in range(matrix.shape[1])])
    visualize_scores.plot_recovery_vs_independent(matrix.T, str(tmp_path), "m_pr")
    for name in ("m.png", "m_pr.png"):
      with Image.open(tmp_path / name) as image:
        assert image.format == "PNG" and min(image.size) > 100
