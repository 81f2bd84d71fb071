"""Evaluation: metrics on trained representations (evaluate.py) and on arrays (score_codes)."""


def __getattr__(name):
  # Lazily: `import dlib_torch.evaluation.evaluate` need not import every metric.
  if name == "score_codes":
    from dlib_torch.evaluation import code_scores  # pylint: disable=g-import-not-at-top
    return code_scores.score_codes
  raise AttributeError("module {!r} has no attribute {!r}".format(__name__, name))
