"""VisCoIN-style concept analytics for models with concept activations.

From non-negative concept activations a [N, K] and class labels [N] (C
classes), as VisCoIN's `testing/concepts.py` computes them, "norm" being the
chosen normalisation (VisCoIN: min-max, (v - min) / (max - min)):

* concept_activation_per_image [K]: norm(sum_x sort_ascending(a(x))), the
  average sorted activation profile (how many concepts one image uses);
* concept_activation_per_concept [K]: sort(norm(sum_x a(x))), spots dead concepts;
* raw_concept_mean_activation [K]: norm(sum_x a(x)), in concept order;
* concept_correlations [K, K]: norm(sum_x a(x) a(x)^T), uncentred co-activation;
* class_concept_correlations [C, K]: S[c, k] = sum_{x of class c} a_k(x),
  normalised per class (row);
* concept_class_correlations [K, C]: B[c, k] = S[c, k] / n_c * max_c n_c
  (class-balanced), normalised per concept (column), transposed;
* concept_entropy [K]: H_k = -sum_c p log(p + 1e-6), p = softmax_c(B[:, k]),
  then normalised across concepts; higher = less class-specific;
* class_concept_importance [C, K] (given class-concept weights W [C, K]): the
  relevance r_k(x) = a_k(x) W[c, k] / max_j |a_j(x) W[c, j]| of concept k for
  the class c predicted for x (argmax a(x) W^T unless predictions are given),
  averaged over the images predicted as c. VisCoIN has the per-image
  relevance only; the average is our dataset-level summary.
"""
import os

from absl import logging
import gin
import numpy as np
from scipy import special
from sklearn import linear_model

from dlib_torch.evaluation.metrics import code_transforms
from dlib_torch.evaluation.metrics import utils
from dlib_torch.utils import atomic_io
from dlib_torch.utils import errors

NORMALIZATIONS = ("minmax", "sum", "none")


def normalize(values, method="minmax", axis=None):
  """Min-max, sum or no normalisation of `values` along `axis` (None: all entries)."""
  values = np.asarray(values, np.float64)
  if method == "none":
    return values
  if method == "sum":
    total = values.sum(axis=axis, keepdims=True)
    return np.divide(values, total, out=np.zeros_like(values), where=total != 0)
  if method == "minmax":
    low = values.min(axis=axis, keepdims=True)
    span = values.max(axis=axis, keepdims=True) - low
    return np.divide(values - low, span, out=np.zeros_like(values), where=span != 0)
  raise errors.UserError("Unknown normalization {!r}; use one of {}.".format(
      method, ", ".join(NORMALIZATIONS)))


def class_concept_sums(activations, labels, num_classes):
  """S [C, K]: summed activations per class, and the class counts [C]."""
  sums = np.zeros([num_classes, activations.shape[1]])
  np.add.at(sums, labels, activations)
  return sums, np.bincount(labels, minlength=num_classes)


def balanced_class_concept_sums(sums, counts):
  """B = S / n_c * max_c n_c (classes without images: 0)."""
  scale = np.divide(counts.max(), counts, out=np.zeros(len(counts)), where=counts > 0)
  return sums * scale[:, None]


def concept_entropy(activations, labels, num_classes):
  """Unnormalised H_k [K] of p(c | k) = softmax_c of the balanced class sums."""
  balanced = balanced_class_concept_sums(*class_concept_sums(activations, labels, num_classes))
  probabilities = special.softmax(balanced, axis=0)
  return -np.sum(probabilities * np.log(probabilities + 1e-6), axis=0)


def class_concept_importance(activations, weights, predicted_classes=None):
  """Mean relevance [C, K] of each concept for the images predicted as each class."""
  weights = np.asarray(weights, np.float64)
  if predicted_classes is None:
    predicted_classes = np.argmax(activations @ weights.T, axis=1)
  contributions = activations * weights[predicted_classes]
  largest = np.abs(contributions).max(axis=1, keepdims=True)
  relevance = np.divide(contributions, largest, out=np.zeros_like(contributions),
                        where=largest > 0)
  sums, counts = class_concept_sums(relevance, predicted_classes, weights.shape[0])
  return np.divide(sums, counts[:, None], out=np.zeros_like(sums), where=counts[:, None] > 0)


def compute_concept_analytics(activations, labels, num_classes=None, weights=None,
                              predicted_classes=None, normalization="minmax"):
  """The analytics above as a dict of lists.

  Args:
    activations: concept activations [N, K] (non-negative for VisCoIN's reading).
    labels: integer class labels [N] in 0..C-1.
    num_classes: C (default: max label + 1).
    weights: optional class-concept weights [C, K] for class_concept_importance.
    predicted_classes: optional predicted classes [N] for the importance.
    normalization: "minmax" (VisCoIN), "sum" or "none".
  """
  activations = np.asarray(activations, np.float64)
  labels = np.asarray(labels, np.int64)
  if activations.ndim != 2 or labels.shape != (activations.shape[0],):
    raise errors.UserError("Concept analytics need activations [N, K] and labels [N].")
  num_classes = int(labels.max()) + 1 if num_classes is None else num_classes
  totals = activations.sum(axis=0)
  sums, counts = class_concept_sums(activations, labels, num_classes)
  balanced = balanced_class_concept_sums(sums, counts)
  results = {
      "concept_activation_per_image": normalize(np.sort(activations, axis=1).sum(axis=0),
                                                normalization),
      "concept_activation_per_concept": np.sort(normalize(totals, normalization)),
      "raw_concept_mean_activation": normalize(totals, normalization),
      "concept_correlations": normalize(activations.T @ activations, normalization),
      "class_concept_correlations": normalize(sums, normalization, axis=1),
      "concept_class_correlations": normalize(balanced, normalization, axis=0).T,
      "concept_entropy": normalize(concept_entropy(activations, labels, num_classes),
                                   normalization),
  }
  if weights is not None:
    results["class_concept_importance"] = class_concept_importance(
        activations, weights, predicted_classes)
  return {key: value.tolist() for key, value in results.items()}


def save_concept_analytics(results, output_dir, name="concept_analytics"):
  """Writes `results` as OUTPUT_DIR/NAME.json and, if matplotlib is installed, NAME.png."""
  atomic_io.write_json(os.path.join(output_dir, name + ".json"), results)
  try:
    from matplotlib import figure  # pylint: disable=g-import-not-at-top
  except ImportError:
    logging.info("matplotlib is not installed: concept analytics are saved without a plot.")
    return
  fig = figure.Figure(figsize=(12, 8))
  axes = fig.subplots(2, 2)
  axes[0, 0].plot(results["concept_activation_per_image"])
  axes[0, 0].set_title("Sorted activation profile per image")
  axes[0, 1].plot(results["concept_activation_per_concept"])
  axes[0, 1].set_title("Activation per concept (sorted)")
  axes[1, 0].bar(np.arange(len(results["concept_entropy"])), results["concept_entropy"])
  axes[1, 0].set_title("Concept entropy over classes")
  axes[1, 0].set_xlabel("concept")
  heatmap = results.get("class_concept_importance", results["class_concept_correlations"])
  image = axes[1, 1].imshow(np.asarray(heatmap), aspect="auto", cmap="coolwarm"
                            if "class_concept_importance" in results else "viridis")
  axes[1, 1].set_title("Class-concept importance" if "class_concept_importance" in results
                       else "Class-concept activation")
  axes[1, 1].set_xlabel("concept")
  axes[1, 1].set_ylabel("class")
  fig.colorbar(image, ax=axes[1, 1])
  fig.tight_layout()
  atomic_io.write_with(os.path.join(output_dir, name + ".png"),
                       lambda tmp: fig.savefig(tmp, format="png"))


def linear_class_concept_weights(activations, labels, num_classes, max_iter=1000):
  """Class-concept weights [C, K] of a logistic regression from activations to labels."""
  model = linear_model.LogisticRegression(max_iter=max_iter)
  model.fit(activations, labels)
  weights = np.zeros([num_classes, activations.shape[1]])
  if len(model.classes_) == 2:
    # One logit for class 1 against class 0 = the softmax of (-w/2, w/2).
    weights[model.classes_] = np.stack([-model.coef_[0] / 2, model.coef_[0] / 2])
  else:
    weights[model.classes_] = model.coef_
  return weights


@gin.configurable(
    "concept_analytics",
    denylist=["ground_truth_data", "representation_function", "random_state",
              "artifact_dir"])
def compute_concept_analytics_metric(ground_truth_data, representation_function,
                                     random_state, artifact_dir=None, num_points=1000,
                                     batch_size=16, label_factor=None,
                                     activation_transform="sigmoid",
                                     normalization="minmax"):
  """Concept analytics of a representation's concept activations.

  Args:
    ground_truth_data: GroundTruthData to sample from.
    representation_function: numpy observations -> codes [N, K]; the concept
      activations are `activation_transform` of the codes (GlanceNet's
      concepts tanh(z/2) are "tanh_half"; "sigmoid" = (1 + tanh(z/2)) / 2 is
      the non-negative version).
    random_state: np.random.RandomState for sampling.
    artifact_dir: where NAME.json and NAME.png are written (if given).
    num_points: points sampled.
    batch_size: points per sampling call.
    label_factor: factor whose values are the classes; None: the data set's
      `task_labels` (e.g. dsprites_leakage) if it has them, else factor 0.
    activation_transform: "sigmoid", "tanh_half" or "none".
    normalization: "minmax" (VisCoIN), "sum" or "none".

  Returns:
    The analytics (lists); class_concept_importance uses the weights of a
    logistic regression from the activations to the classes.
  """
  codes, factors = utils.generate_batch_factor_code(
      ground_truth_data, representation_function, num_points, random_state, batch_size)
  if label_factor is None and hasattr(ground_truth_data, "task_labels"):
    raw_labels = ground_truth_data.task_labels(factors.T)
  else:
    raw_labels = factors[label_factor or 0]
  _, labels = np.unique(raw_labels, return_inverse=True)
  num_classes = int(labels.max()) + 1
  activations = code_transforms.transform_codes(codes.T, activation_transform)
  weights = (linear_class_concept_weights(activations, labels, num_classes)
             if num_classes > 1 else None)
  results = compute_concept_analytics(activations, labels, num_classes, weights,
                                      normalization=normalization)
  if artifact_dir:
    save_concept_analytics(results, artifact_dir)
  return results
