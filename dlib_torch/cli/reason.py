"""dreason: trains and scores the abstract-reasoning model (the original's dlib_reason).

With --input_dir (a postprocessed folder), the panels are embedded by its
frozen representation (TwoStageModel.embedding_model_class = @HubEmbedding);
without it, the model learns from pixels or the true factors.
"""
from absl import flags

from dlib_torch.cli import common
from dlib_torch.evaluation.abstract_reasoning import reason

FLAGS = flags.FLAGS
flags.DEFINE_string("input_dir", None, "Directory to take the postprocessed representation from.")
flags.DEFINE_string("output_dir", None, "Directory to save the reasoning results to (required).")
flags.DEFINE_multi_string("gin_config", [], "List of paths to the config files.")
flags.DEFINE_multi_string("gin_bindings", [], "Gin bindings, applied after the files")
flags.DEFINE_boolean("overwrite", False, "Whether to overwrite output directory.")
flags.mark_flags_as_required(["output_dir"])
common.define_device_flag()


def main(unused_argv):
  common.require_files(FLAGS.gin_config)
  reason.reason_with_gin(FLAGS.input_dir, FLAGS.output_dir, FLAGS.overwrite, FLAGS.gin_config,
                         FLAGS.gin_bindings, device=FLAGS.device)


def run():
  common.run_main(main)


if __name__ == "__main__":
  run()
