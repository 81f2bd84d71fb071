"""dreproduce: trains and evaluates one model of a study (the original's dlib_reproduce).

Beyond the original: repeatable --gin_bindings are applied on top of the
study's model bindings (e.g. a shorter run or a procedural data set), and
finished stages are skipped when the command is run again.
"""
from absl import flags
from absl import logging

from dlib_torch import reproduce
from dlib_torch.cli import common
from dlib_torch.config import reproduce as studies

FLAGS = flags.FLAGS
flags.DEFINE_string("study", "unsupervised_study_v1", "Name of the study.")
flags.DEFINE_string("output_directory", None,
                    "Output folder; may contain {model_num} and {study}. Default: "
                    "output/{study}/{model_num} when training, else output.")
flags.DEFINE_string("model_dir", None, "A trained model folder; training is then skipped.")
flags.DEFINE_integer("model_num", 0, "Number of the model of the study to train.")
flags.DEFINE_boolean("only_print", False, "Only print the configuration of the model.")
flags.DEFINE_multi_string("gin_bindings", [], "Extra gin bindings for training, applied after "
                          "the study's (repeatable).")
flags.DEFINE_boolean("overwrite", False, "Redo finished stages instead of skipping them.")
flags.DEFINE_list("metrics", None, "Evaluate only these metric configs (comma-separated names, "
                  "e.g. mig,dci); their seeds are the same as in a full run.")
common.define_runtime_flags()


def main(unused_argv):
  study = studies.get_study(FLAGS.study)
  if FLAGS.model_dir is None:
    study.print_model_config(FLAGS.model_num)
    for binding in FLAGS.gin_bindings:
      print(binding)
  else:
    print("Model directory (skipped training):")
    print("--")
    print(FLAGS.model_dir)
  print()
  study.print_postprocess_config()
  print()
  study.print_eval_config()
  if FLAGS.only_print:
    return

  output_directory = FLAGS.output_directory
  if output_directory is None:
    output_directory = "output/{study}/{model_num}" if FLAGS.model_dir is None else "output"
  output_directory = output_directory.format(model_num=str(FLAGS.model_num), study=FLAGS.study)
  skipped = reproduce.reproduce_model(study, FLAGS.model_num, output_directory, FLAGS.model_dir,
                                      FLAGS.gin_bindings, FLAGS.overwrite,
                                      common.runtime_from_flags(), FLAGS.metrics)
  logging.info("Done: %s (%d metrics skipped).", output_directory, len(skipped))


def run():
  common.run_main(main)


if __name__ == "__main__":
  run()
