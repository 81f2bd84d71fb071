"""Fit time of PresortedGradientBoostingClassifier against sklearn's estimator.

Codes like the metrics' (10000 points x 10 float32 Gaussian dimensions);
labels with 6 and with 40 classes, a noisy function of two dimensions each.
Each round fits both estimators with the same seed, one after the other
(alternating which goes first), on one thread; the script prints each time,
the ratio sklearn / presorted per round and their median, and checks that
the two models predict the same. Target (issue 3): ratio >= 10.

  python benchmarks/gradient_boosting.py [--rounds 2] [--n_estimators 100] [--classes 6,40]
"""
import argparse
import os
import time

import numpy as np
from sklearn import ensemble
import threadpoolctl

from dlib_torch.evaluation.metrics import presorted_boosting


def _data(num_classes, num_points=10000, num_codes=10, seed=0):
  rs = np.random.RandomState(seed)
  codes = rs.normal(size=(num_points, num_codes)).astype(np.float32)
  first = num_classes % num_codes
  signal = codes[:, first] + .5 * codes[:, (first + 1) % num_codes]
  signal += .3 * rs.normal(size=num_points)
  edges = np.quantile(signal, np.linspace(0, 1, num_classes + 1)[1:-1])
  return codes, np.digitize(signal, edges)


def _timed_fit(estimator, x, y):
  start = time.perf_counter()
  estimator.fit(x, y)
  return time.perf_counter() - start, estimator


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--rounds", type=int, default=2)
  parser.add_argument("--n_estimators", type=int, default=100)
  parser.add_argument("--classes", default="6,40")
  args = parser.parse_args()
  print("load average: %s" % " ".join("%.2f" % v for v in os.getloadavg()))
  # Compile (or load the numba cache) outside the timings.
  start = time.perf_counter()
  presorted_boosting.PresortedGradientBoostingClassifier(n_estimators=1).fit(
      *_data(3, num_points=50))
  print("first fit in this process (numba compile or cache load): %.2f s"
        % (time.perf_counter() - start))
  with threadpoolctl.threadpool_limits(limits=1):
    for num_classes in [int(c) for c in args.classes.split(",")]:
      x, y = _data(num_classes)
      ratios = []
      for round_index in range(args.rounds):
        fits = [("presorted", presorted_boosting.PresortedGradientBoostingClassifier),
                ("sklearn", ensemble.GradientBoostingClassifier)]
        if round_index % 2:
          fits.reverse()
        times, models = {}, {}
        for name, cls in fits:
          times[name], models[name] = _timed_fit(
              cls(n_estimators=args.n_estimators, random_state=round_index), x, y)
        same = np.array_equal(models["presorted"].predict(x), models["sklearn"].predict(x))
        ratios.append(times["sklearn"] / times["presorted"])
        print("%2d classes, round %d: sklearn %.2f s, presorted %.2f s (%d trees, %d "
              "nodes split again in sklearn's order), ratio %.1f, same predictions: %s"
              % (num_classes, round_index, times["sklearn"], times["presorted"],
                 models["presorted"].estimators_.size,
                 models["presorted"].resplit_nodes_, ratios[-1], same))
      print("%2d classes: median ratio sklearn / presorted %.1f"
            % (num_classes, float(np.median(ratios))))


if __name__ == "__main__":
  main()
