"""Time of score_codes with every metric on 10,000 points and 10 codes (issue 14).

The points: 5 discrete factors (sizes 3, 6, 10, 8, 8), codes = the five
normalised factors plus noise, and five pure-noise codes. Prints each metric's
seconds, the total against the target (under a minute on 2 cores) and, as a
same-run reference for other machines, the total in units of one fit of the
original's DCI (gradient-boosted trees) on the same points. The load average
is printed before and after: timings on a loaded machine are not figures.

  python benchmarks/score_codes.py [--points 10000] [--codes 10] [--only mig_review,med]
"""
import argparse
import os
import time

import numpy as np

from dlib_torch.evaluation import code_scores


def points(num_points, num_codes, seed=0):
  rs = np.random.RandomState(seed)
  sizes = [3, 6, 10, 8, 8]
  factors = np.stack([rs.randint(0, s, num_points) for s in sizes], axis=1)
  codes = rs.randn(num_points, num_codes)
  informative = min(num_codes, len(sizes))
  codes[:, :informative] = (factors[:, :informative] / (np.array(sizes[:informative]) - 1) +
                            0.05 * codes[:, :informative])
  return factors, codes


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--points", type=int, default=10000)
  parser.add_argument("--codes", type=int, default=10)
  parser.add_argument("--only", default=None, help="comma-separated metric names")
  args = parser.parse_args()
  factors, codes = points(args.points, args.codes)
  names = args.only.split(",") if args.only else list(code_scores.METRIC_NAMES)
  print("{} points, {} codes, {} CPUs, load average {:.2f}".format(
      args.points, args.codes, os.cpu_count(), os.getloadavg()[0]))
  total, seconds = time.perf_counter(), {}
  for name in names:
    start = time.perf_counter()
    code_scores.score_codes(factors, codes, metrics=[name])
    seconds[name] = time.perf_counter() - start
    print("  {:<26s} {:7.2f} s".format(name, seconds[name]), flush=True)
  total = time.perf_counter() - total
  reference = seconds.get("dci")
  if reference is None:
    start = time.perf_counter()
    code_scores.score_codes(factors, codes, metrics=["dci"])
    reference = time.perf_counter() - start
  print("all {} metrics: {:.1f} s (target < 60 s on 2 cores) = {:.1f} x the original's DCI "
        "({:.1f} s)".format(len(names), total, total / reference, reference))
  print("load average {:.2f}".format(os.getloadavg()[0]))


if __name__ == "__main__":
  main()
