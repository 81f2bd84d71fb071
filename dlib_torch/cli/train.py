"""dtrain: trains a model from gin files and bindings (the original's dlib_train)."""
from dlib_torch.cli import common
from dlib_torch.methods.unsupervised import train

common.define_train_flags()
main = common.train_main(train.train_with_gin)


def run():
  common.run_main(main)


if __name__ == "__main__":
  run()
