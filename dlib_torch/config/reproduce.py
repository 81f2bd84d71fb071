"""The studies `dreproduce --study=<name>` knows (the original's config/reproduce.py).

Adding a study is one line below: its name, the module under dlib_torch.config
that defines it and the Study class there. What runs a model of a study is
dlib_torch.pipeline.study_model; the command is dlib_torch.cli.reproduce.
"""
import importlib

from dlib_torch.utils import errors


def _study(module, class_name):
  return getattr(importlib.import_module("dlib_torch.config." + module),
                 class_name)()


STUDIES = {
    "unsupervised_study_v1": _study("unsupervised_study_v1.sweep",
                                    "UnsupervisedStudyV1"),
    "fairness_study_v1": _study("fairness_study_v1.sweep", "FairnessStudyV1"),
    "test": _study("tests.sweep", "TestStudy"),
    "quickstart": _study("quickstart.sweep", "QuickstartStudy"),
    "weakly_supervised_study": _study("weakly_supervised_study.sweep",
                                      "WeaklySupervisedStudy"),
    "semi_supervised_study": _study("semi_supervised_study.sweep", "SemiSupervisedStudy"),
    "field_metrics_study": _study("field_metrics_study.sweep", "FieldMetricsStudy"),
    "abstract_reasoning_study_v1": _study("abstract_reasoning_study_v1.sweep",
                                          "AbstractReasoningStudyV1"),
}


def get_study(name):
  """The study called `name`; a UserError naming the known ones otherwise."""
  if name not in STUDIES:
    raise errors.UserError("Unknown study {!r}; known studies: {}.".format(
        name, ", ".join(sorted(STUDIES))))
  return STUDIES[name]
