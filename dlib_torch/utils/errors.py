"""The one exception type that means "the user asked for something wrong".

The command-line entry points turn it into one line on stderr and exit
status 2; everything else is a bug and keeps its traceback.
"""


class UserError(ValueError):
  """Bad input: unknown names, missing files, wrong shapes, existing output."""
