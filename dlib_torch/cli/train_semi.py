"""dtrain_semi: trains a semi-supervised model (the original's dlib_train_semi_supervised).

The same flags and loop as dtrain; the gin files bind the semi-supervised
protocol's `model.*` parameters (num_labelled_samples, seeds, …).
"""
from dlib_torch.cli import common
from dlib_torch.methods.semi_supervised import train_semi_supervised_lib

common.define_train_flags()
main = common.train_main(train_semi_supervised_lib.train_with_gin)


def run():
  common.run_main(main)


if __name__ == "__main__":
  run()
