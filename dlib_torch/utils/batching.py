"""Which representation functions may be called with any number of observations.

The original calls a representation function with `batch_size` observations
at a time, and code written for it relies on that (its own UDR test reshapes
the input to `(batch_size, -1)`). The metrics therefore call a plain function
exactly as the original does; only a function that declares it takes any
batch size gets larger chunks, which a model evaluates much faster.
dlib_torch's TorchScript wrappers (utils.torchscript_io) declare it; a user's
function may too:

    from dlib_torch.utils import batching
    batching.declare_any_batch_size(my_function)
"""

# Set to True on a function that gives the same codes row by row whatever the
# number of rows it is called with.
ATTRIBUTE = "takes_any_batch_size"


def declare_any_batch_size(function):
  """Marks `function` as taking any number of observations at once; returns it."""
  setattr(function, ATTRIBUTE, True)
  return function


def takes_any_batch_size(function):
  """Whether `function` declared that it takes any number of observations at once."""
  return getattr(function, ATTRIBUTE, False) is True
