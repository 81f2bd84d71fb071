"""dtrain_weak: trains a weakly-supervised model (the original's dlib_train_weakly_supervised).

The same flags and loop as dtrain; the weak models (`@group_vae_argmax()`,
`@mlvae_labels()`, …) read pairs of observations themselves.
"""
from dlib_torch.cli import common
from dlib_torch.methods.weak import train_weak_lib

common.define_train_flags()
main = common.train_main(train_weak_lib.train_with_gin)


def run():
  common.run_main(main)


if __name__ == "__main__":
  run()
