"""Tests of the studies, their gin files and the seeds of dreproduce."""
import contextlib
import importlib
import os

import gin
import pytest

from dlib_torch.config import plan
from dlib_torch.config import reproduce
from dlib_torch.config import resources
from dlib_torch.config import study as study_lib
from dlib_torch.config.fairness_study_v1 import sweep as fairness_sweep
from dlib_torch.config.unsupervised_study_v1 import sweep as unsupervised_sweep
from dlib_torch.utils import errors
from dlib_torch.utils import submodules

_ARCH = ["encoder.encoder_fn = @conv_encoder",
         "decoder.decoder_fn = @deconv_decoder"]

# §2.5.2 of the behaviour reference: the exact binding lists.
_EXPECTED_BINDINGS = {
    0: ["dataset.name = 'dsprites_full'"] + _ARCH + [
        "model.name = 'beta_vae'", "vae.beta = 1.0", "model.model = @vae()",
        "model.random_seed = 0"],
    42: ["dataset.name = 'dsprites_full'"] + _ARCH + [
        "model.name = 'beta_vae'", "vae.beta = 1.0", "model.model = @vae()",
        "model.random_seed = 42"],
    50: ["dataset.name = 'dsprites_full'"] + _ARCH + [
        "model.name = 'beta_vae'", "vae.beta = 2.0", "model.model = @vae()",
        "model.random_seed = 0"],
    300: ["dataset.name = 'dsprites_full'"] + _ARCH + [
        "model.name = 'factor_vae'", "factor_vae.gamma = 10.0",
        "model.model = @factor_vae()",
        "discriminator.discriminator_fn = @fc_discriminator",
        "model.random_seed = 0"],
    1799: ["dataset.name = 'dsprites_full'"] + _ARCH + [
        "model.name = 'annealed_vae'", "annealed_vae.c_max = 100.0",
        "annealed_vae.iteration_threshold = 100000",
        "annealed_vae.gamma = 1000", "model.model = @annealed_vae()",
        "model.random_seed = 49"],
    1800: ["dataset.name = 'color_dsprites'"] + _ARCH + [
        "model.name = 'beta_vae'", "vae.beta = 1.0", "model.model = @vae()",
        "model.random_seed = 0"],
    12599: ["dataset.name = 'shapes3d'"] + _ARCH + [
        "model.name = 'annealed_vae'", "annealed_vae.c_max = 100.0",
        "annealed_vae.iteration_threshold = 100000",
        "annealed_vae.gamma = 1000", "model.model = @annealed_vae()",
        "model.random_seed = 49"],
}

_METRICS = ["beta_vae_sklearn", "dci", "downstream_task_boosted_trees",
            "downstream_task_logistic_regression", "factor_vae_metric", "mig",
            "modularity_explicitness", "sap_score", "unsupervised"]

# §2.5: the seeds of every postprocessing and evaluation step.
_EXPECTED_POST_SEEDS = {"mean": 2357136044, "sampled": 2546248239}
_EXPECTED_EVAL_SEEDS = {
    ("mean", "beta_vae_sklearn"): 3071714933,
    ("mean", "dci"): 3626093760,
    ("mean", "downstream_task_boosted_trees"): 2588848963,
    ("mean", "downstream_task_logistic_regression"): 3684848379,
    ("mean", "factor_vae_metric"): 2340255427,
    ("mean", "mig"): 3638918503,
    ("mean", "modularity_explicitness"): 1819583497,
    ("mean", "sap_score"): 2678185683,
    ("mean", "unsupervised"): 2774094101,
    ("sampled", "beta_vae_sklearn"): 1650906866,
    ("sampled", "dci"): 1879422756,
    ("sampled", "downstream_task_boosted_trees"): 1277901399,
    ("sampled", "downstream_task_logistic_regression"): 3830135878,
    ("sampled", "factor_vae_metric"): 243580376,
    ("sampled", "mig"): 4138900056,
    ("sampled", "modularity_explicitness"): 1171049868,
    ("sampled", "sap_score"): 1646868794,
    ("sampled", "unsupervised"): 2051556033,
}

_MODEL_FAMILIES = ["beta_vae", "factor_vae", "dip_vae_i", "dip_vae_ii",
                   "beta_tc_vae", "annealed_vae"]
_DATASETS = ["dsprites_full", "color_dsprites", "noisy_dsprites",
             "scream_dsprites", "smallnorb", "cars3d", "shapes3d"]


class TestUnsupervisedSweep:

  def test_size(self):
    assert len(unsupervised_sweep.get_config()) == 12600

  @pytest.mark.parametrize("model_num", sorted(_EXPECTED_BINDINGS))
  def test_binding_lists(self, model_num):
    study = reproduce.STUDIES["unsupervised_study_v1"]
    bindings, config_file = study.get_model_config(model_num)
    assert bindings == _EXPECTED_BINDINGS[model_num]
    assert config_file == resources.config_path(
        "unsupervised_study_v1/model_configs/shared.gin")

  def test_index_arithmetic_for_every_model(self):
    for model_num, config in enumerate(unsupervised_sweep.get_config()):
      assert config["dataset.name"] == _DATASETS[model_num // 1800]
      family = (model_num % 1800) // 50
      assert config["model.name"] == _MODEL_FAMILIES[family // 6]
      assert config["model.random_seed"] == model_num % 50

  def test_hyper_parameter_values(self):
    configs = unsupervised_sweep.get_config()
    def values(key, first):
      return [configs[first + 50 * i][key] for i in range(6)]
    assert values("vae.beta", 0) == [1., 2., 4., 6., 8., 16.]
    assert values("factor_vae.gamma", 300) == [10., 20., 30., 40., 50., 100.]
    assert values("dip_vae.lambda_od", 600) == [1., 2., 5., 10., 20., 50.]
    assert values("dip_vae.lambda_od", 900) == [1., 2., 5., 10., 20., 50.]
    assert values("beta_tc_vae.beta", 1200) == [1., 2., 4., 6., 8., 10.]
    assert values("annealed_vae.c_max", 1500) == [5., 10., 25., 50., 75., 100.]
    assert (configs[600]["dip_vae.lambda_d_factor"],
            configs[600]["dip_vae.dip_type"]) == (10., "i")
    assert (configs[900]["dip_vae.lambda_d_factor"],
            configs[900]["dip_vae.dip_type"]) == (1., "ii")

  def test_dip_vae_binding_order(self):
    bindings, _ = reproduce.STUDIES["unsupervised_study_v1"].get_model_config(
        950)
    assert bindings[3:] == [
        "model.name = 'dip_vae_ii'", "model.model = @dip_vae()",
        "dip_vae.lambda_od = 2.0", "dip_vae.lambda_d_factor = 1.0",
        "dip_vae.dip_type = 'ii'", "model.random_seed = 0"]

  @pytest.mark.parametrize("model_num", [-1, 12600])
  def test_out_of_range_model_num(self, model_num):
    with pytest.raises(errors.UserError, match="0 to 12599"):
      reproduce.STUDIES["unsupervised_study_v1"].get_model_config(model_num)

  def test_print_model_config(self, capsys):
    reproduce.STUDIES["unsupervised_study_v1"].print_model_config(42)
    path = resources.config_path(
        "unsupervised_study_v1/model_configs/shared.gin")
    assert capsys.readouterr().out == "\n".join(
        ["Gin base config for model training:", "--", path, "",
         "Gin bindings for model training:", "--"]
        + _EXPECTED_BINDINGS[42]) + "\n"

  def test_print_postprocess_config(self, capsys):
    study = reproduce.STUDIES["unsupervised_study_v1"]
    study.print_postprocess_config()
    files = study.get_postprocess_config_files()
    assert [plan.config_name(f) for f in files] == ["mean", "sampled"]
    assert capsys.readouterr().out == "\n".join(
        ["Gin config files for postprocessing (random seeds may be set "
         "later):", "--"] + files) + "\n"


class TestOtherStudies:

  def test_known_studies(self):
    assert sorted(reproduce.STUDIES) == [
        "abstract_reasoning_study_v1", "fairness_study_v1", "field_metrics_study", "quickstart",
        "semi_supervised_study", "test", "unsupervised_study_v1", "weakly_supervised_study"]
    assert reproduce.get_study("test") is reproduce.STUDIES["test"]
    with pytest.raises(errors.UserError, match="unsupervised_study_v1"):
      reproduce.get_study("no_such_study")

  def test_fairness_has_the_same_sweep_and_its_own_files(self):
    assert fairness_sweep.get_config() == unsupervised_sweep.get_config()
    study = reproduce.STUDIES["fairness_study_v1"]
    bindings, config_file = study.get_model_config(42)
    assert bindings == _EXPECTED_BINDINGS[42]
    assert config_file == resources.config_path(
        "fairness_study_v1/model_configs/shared.gin")
    assert [plan.config_name(f) for f in study.get_postprocess_config_files()
           ] == ["mean", "sampled"]

  def test_test_study(self):
    study = reproduce.STUDIES["test"]
    assert study.get_model_config(7) == (
        [], resources.config_path("tests/methods/unsupervised/train_test.gin"))
    assert [plan.config_name(f) for f in study.get_postprocess_config_files()
           ] == ["mean", "sampled"]


  def test_print_eval_config(self, capsys):

    class TwoMetrics(study_lib.Study):

      def get_eval_config_files(self):
        return ["/a/mig.gin", "/a/dci.gin"]

    TwoMetrics().print_eval_config()
    assert capsys.readouterr().out == (
        "Gin config files for evaluation (random seeds may be set later):\n"
        "--\n/a/mig.gin\n/a/dci.gin\n")


class TestPlan:

  def test_seed_table(self):
    post_files = ["/c/post/sampled.gin", "/c/post/mean.gin"]
    eval_files = ["/c/metrics/{}.gin".format(m) for m in reversed(_METRICS)]
    post_steps, eval_steps = plan.make_plan(post_files, eval_files)
    assert [(s.name, s.config_file, s.random_seed) for s in post_steps] == [
        ("mean", "/c/post/mean.gin", 2357136044),
        ("sampled", "/c/post/sampled.gin", 2546248239)]
    assert [(s.post_name, s.metric_name) for s in eval_steps] == [
        (p, m) for p in ["mean", "sampled"] for m in _METRICS]
    assert {(s.post_name, s.metric_name): s.random_seed
            for s in eval_steps} == _EXPECTED_EVAL_SEEDS
    assert all(s.config_file == "/c/metrics/{}.gin".format(s.metric_name)
               for s in eval_steps)

  def test_bindings(self):
    post_steps, eval_steps = plan.make_plan(["/c/mean.gin"], ["/m/mig.gin"])
    assert post_steps[0].bindings() == [
        "postprocess.random_seed = 2357136044", "postprocess.name = 'mean'"]
    assert eval_steps[0].bindings() == [
        "evaluation.random_seed = 2546248239", "evaluation.name = 'mig'"]
    assert type(post_steps[0].random_seed) is int

  def test_fairness_metric_shifts_later_seeds(self):
    metrics = sorted(_METRICS + ["fairness"])
    _, eval_steps = plan.make_plan(
        ["mean.gin", "sampled.gin"], [m + ".gin" for m in metrics])
    seeds = {(s.post_name, s.metric_name): s.random_seed for s in eval_steps}
    assert seeds[("mean", "factor_vae_metric")] == 2340255427
    assert seeds[("mean", "fairness")] == 3638918503
    assert seeds[("mean", "mig")] == 1819583497
    assert seeds[("sampled", "beta_vae_sklearn")] == 1879422756

  def test_study_files_give_the_seed_table(self):
    study = reproduce.STUDIES["unsupervised_study_v1"]
    post_steps, eval_steps = plan.make_plan(
        study.get_postprocess_config_files(), study.get_eval_config_files())
    assert {s.name: s.random_seed for s in post_steps} == _EXPECTED_POST_SEEDS
    assert {(s.post_name, s.metric_name): s.random_seed
            for s in eval_steps} == _EXPECTED_EVAL_SEEDS


class TestResources:

  def test_missing_file_and_folder(self):
    with pytest.raises(errors.UserError, match="no_such.gin"):
      resources.config_path("unsupervised_study_v1/no_such.gin")
    with pytest.raises(errors.UserError, match="no_such_dir"):
      resources.list_configs("no_such_dir")

  def test_paths_are_inside_the_gin_configs_package(self):
    import dlib_torch.gin_configs  # pylint: disable=g-import-not-at-top
    root = os.path.dirname(dlib_torch.gin_configs.__file__)
    files = resources.list_configs("unsupervised_study_v1/postprocess_configs")
    assert files == sorted(files)
    assert all(os.path.dirname(f) == os.path.join(
        root, "unsupervised_study_v1", "postprocess_configs") for f in files)


# The gin files of this area, with bindings every one of them must contain.
_GIN_FILES = {
    "unsupervised_study_v1/model_configs/shared.gin": [
        "model.batch_size = 64", "model.training_steps = 300000",
        "encoder.num_latent = 10",
        "vae_optimizer.optimizer_fn = @vae/AdamOptimizer",
        "vae/AdamOptimizer.beta1 = 0.9", "vae/AdamOptimizer.epsilon = 1e-08",
        "vae/AdamOptimizer.learning_rate = 0.0001",
        "vae/AdamOptimizer.name = 'Adam'",
        "vae/AdamOptimizer.use_locking = False",
        "discriminator_optimizer.optimizer_fn = @discriminator/AdamOptimizer",
        "discriminator/AdamOptimizer.beta1 = 0.5",
        "discriminator/AdamOptimizer.beta2 = 0.9",
        "reconstruction_loss.loss_fn = @bernoulli_loss"],
    "unsupervised_study_v1/postprocess_configs/mean.gin": [
        "postprocess.postprocess_fn = @mean_representation",
        'dataset.name = "auto"'],
    "unsupervised_study_v1/postprocess_configs/sampled.gin": [
        "postprocess.postprocess_fn = @sampled_representation",
        'dataset.name = "auto"'],
    "fairness_study_v1/postprocess_configs/mean.gin": [
        "postprocess.postprocess_fn = @mean_representation"],
    "fairness_study_v1/postprocess_configs/sampled.gin": [
        "postprocess.postprocess_fn = @sampled_representation"],
    "tests/methods/unsupervised/train_test.gin": [
        'dataset.name = "dummy_data"', "model.batch_size = 2",
        "model.training_steps = 2",
        "vae_optimizer.optimizer_fn = @AdamOptimizer",
        "AdamOptimizer.epsilon = 0.001", "encoder.encoder_fn = @test_encoder"],
    "tests/postprocessing/postprocess_test_configs/mean.gin": [
        "postprocess.postprocess_fn = @mean_representation",
        'dataset.name = "auto"'],
    "tests/postprocessing/postprocess_test_configs/sampled.gin": [
        "postprocess.postprocess_fn = @sampled_representation",
        'dataset.name = "dummy_data"'],
    "examples/model.gin": [
        "vae.beta = 4", "model.training_steps = 5",
        "vae_optimizer.optimizer_fn = @AdamOptimizer",
        "AdamOptimizer.learning_rate = 0.0001"],
    "examples/postprocess.gin": [
        "postprocess.postprocess_fn = @mean_representation"],
}


def _binding_lines(path):
  with open(path) as f:
    return [line.strip() for line in f
            if line.strip() and not line.startswith("#")]


class TestGinFiles:

  @pytest.mark.parametrize("relative", sorted(_GIN_FILES))
  def test_contains_bindings(self, relative):
    lines = _binding_lines(resources.config_path(relative))
    for binding in _GIN_FILES[relative]:
      assert binding in lines

  def test_fairness_model_config_equals_unsupervised(self):
    assert _binding_lines(resources.config_path(
        "fairness_study_v1/model_configs/shared.gin")) == _binding_lines(
            resources.config_path(
                "unsupervised_study_v1/model_configs/shared.gin"))

  def test_files_are_ascii(self):
    for relative in _GIN_FILES:
      with open(resources.config_path(relative), "rb") as f:
        f.read().decode("ascii")


# Packages whose configurables the gin files of this area refer to.
_CONFIGURABLE_PACKAGES = ("dlib_torch.data.ground_truth", "dlib_torch.methods",
                          "dlib_torch.postprocessing")


@contextlib.contextmanager
def _parsed(config_files, bindings=()):
  """Parses the files and bindings with this area's configurables registered."""
  for package in _CONFIGURABLE_PACKAGES:
    submodules.import_submodules(
        package, importlib.import_module(package).__path__)
  gin.clear_config()
  try:
    gin.parse_config_files_and_bindings(config_files, list(bindings))
    yield
  finally:
    gin.clear_config()


class TestGinParsing:

  @pytest.mark.parametrize("model_num", [0, 300, 600, 900, 1200, 1500])
  def test_study_model_config_parses_with_each_family(self, model_num):
    bindings, config_file = reproduce.STUDIES[
        "unsupervised_study_v1"].get_model_config(model_num)
    bindings = ["model.name = 'shared'", "model.model_num = 0"] + bindings
    with _parsed([config_file], bindings):
      assert gin.query_parameter("model.batch_size") == 64
      assert gin.query_parameter("vae/AdamOptimizer.beta1") == 0.9
      assert gin.query_parameter("model.name") == _MODEL_FAMILIES[
          model_num // 300]

  @pytest.mark.parametrize("relative", [
      "tests/methods/unsupervised/train_test.gin", "examples/model.gin"])
  def test_training_configs_parse(self, relative):
    with _parsed([resources.config_path(relative)]):
      assert gin.query_parameter("encoder.num_latent") == 10

  @pytest.mark.parametrize("relative", [
      "unsupervised_study_v1/postprocess_configs/mean.gin",
      "unsupervised_study_v1/postprocess_configs/sampled.gin",
      "fairness_study_v1/postprocess_configs/mean.gin",
      "fairness_study_v1/postprocess_configs/sampled.gin",
      "tests/postprocessing/postprocess_test_configs/mean.gin",
      "tests/postprocessing/postprocess_test_configs/sampled.gin",
      "examples/postprocess.gin"])
  def test_postprocess_configs_parse(self, relative):
    bindings = ["postprocess.random_seed = 1", "postprocess.name = 'x'"]
    with _parsed([resources.config_path(relative)], bindings):
      assert gin.query_parameter("postprocess.random_seed") == 1


class TestQuickstart:

  def test_model_configs_are_the_study_s_offline_and_short(self):
    quick = reproduce.get_study("quickstart")
    study = reproduce.get_study("unsupervised_study_v1")
    for model_num, dataset in [(42, "'procedural_dsprites'"), (1800, "'procedural_color_dsprites'"),
                               (7200, "'smallnorb'"), (12599, "'procedural_shapes3d'")]:
      bindings, config_file = quick.get_model_config(model_num)
      original, original_file = study.get_model_config(model_num)
      assert config_file == original_file
      assert bindings[0] == "dataset.name = " + dataset
      assert bindings[1:-2] == original[1:]
      assert bindings[-2:] == ["model.training_steps = 300", "model.eval_steps = 100"]

  def test_metric_configs_are_the_study_s_at_a_tenth(self):
    quick = reproduce.get_study("quickstart").get_eval_config_files()
    full = reproduce.get_study("unsupervised_study_v1").get_eval_config_files()
    assert [os.path.basename(p) for p in quick] == [os.path.basename(p) for p in full]
    for quick_file, full_file in zip(quick, full):
      with open(quick_file) as f:
        quick_lines = [l for l in f.read().splitlines() if " = " in l]
      with open(full_file) as f:
        full_lines = [l for l in f.read().splitlines() if " = " in l]
      assert len(quick_lines) == len(full_lines)
      for q, o in zip(quick_lines, full_lines):
        if q != o:
          key, value = o.split(" = ")
          expected = {"10000": "1000", "5000": "500",
                      "[10, 100, 1000, 10000]": "[10, 100, 1000]"}[value]
          assert q == "{} = {}".format(key, expected)
