"""dendrogram: the order in which factors merge through shared codes."""
import numpy as np
import pytest

from dlib_torch.visualize import dendrogram
from dlib_torch.visualize import plotting

# Factors 0 and 1 share code 0 (edges of rank 0 and 1); factor 2 owns code 1;
# code 2 links factor 2 (rank 3) and then factor 1 (rank 4).
MATRIX = np.array([[0.9, 0.0, 0.1],
                   [0.8, 0.0, 0.2],
                   [0.0, 0.7, 0.3]])


def test_merge_events_by_hand():
  z, discovered, thresholds = dendrogram._merge_events(MATRIX)
  # Rows name the cluster of the edge's factor first. Rank 1 (factor 1, code 0)
  # makes cluster 3 = {1, 0}; rank 4 (factor 1, code 2) joins it with factor 2.
  np.testing.assert_array_equal(z, [[1, 0, 1, 2], [3, 2, 4, 3]])
  assert discovered == {0: 0, 1: 1, 2: 2}
  np.testing.assert_allclose(thresholds[:5], [0.9, 0.8, 0.7, 0.3, 0.2])


def test_report_merges_lists_every_joined_pair():
  z, _, _ = dendrogram._merge_events(MATRIX)
  assert dendrogram.report_merges(z, 3) == {"merge_1_0": 1., "merge_1_2": 4., "merge_0_2": 4.}


def test_two_by_two():
  # Edges by rank: (1, c1) 4, (1, c0) 3, (0, c1) 2: factors join at rank 2.
  z, discovered, _ = dendrogram._merge_events(np.array([[1, 2], [3, 4]]))
  np.testing.assert_array_equal(z, [[0, 1, 2, 2]])
  assert discovered == {1: 0, 0: 2}


def test_ties_keep_the_original_order():
  # All weights tie; the merge ranks are those the original library reports.
  z, _, _ = dendrogram._merge_events(np.zeros((5, 10)))
  assert dendrogram.report_merges(z, 5) == {
      "merge_1_2": 3., "merge_0_1": 4., "merge_0_2": 4., "merge_3_4": 6., "merge_0_3": 7.,
      "merge_0_4": 7., "merge_1_3": 7., "merge_1_4": 7., "merge_2_3": 7., "merge_2_4": 7.}


def test_without_matplotlib_merges_are_still_returned(tmp_path, monkeypatch):
  monkeypatch.setattr(plotting, "available", lambda: False)
  merges = dendrogram.dendrogram_plot(MATRIX, str(tmp_path / "m_dendrogram"), None)
  assert merges == {"merge_1_0": 1., "merge_1_2": 4., "merge_0_2": 4.}
  assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("matrix", [MATRIX, np.zeros((5, 10)),
                                    np.random.RandomState(0).rand(4, 12)])
def test_plot_is_written(tmp_path, matrix):
  pytest.importorskip("matplotlib")
  names = ["Factor {}".format(i) for i in range(matrix.shape[0])]
  merges = dendrogram.dendrogram_plot(matrix, str(tmp_path / "m_dendrogram"), names)
  assert (tmp_path / "m_dendrogram.png").stat().st_size > 1000
  assert len(merges) == matrix.shape[0] * (matrix.shape[0] - 1) // 2
