"""A small language for hyper-parameter sweeps.

A sweep is a list of dicts, each mapping a gin parameter name to a value; one
dict is one configuration. The combinators build sweeps from smaller ones and
`to_bindings` turns a configuration into gin binding strings. The semantics
(order, merging, repetition) match disentanglement_lib exactly, so a study's
model numbers mean the same configuration in both libraries.
"""


def sweep(name, values):
  """One configuration per value of parameter `name`."""
  return [{name: value} for value in values]


def categorical(items):
  """Marks a list of unordered values (returned unchanged)."""
  return items


def discrete(items):
  """Marks a list of ordered values (returned unchanged)."""
  return items


def fixed(name, value, length=1):
  """`length` configurations that all set `name` to `value`."""
  return [{name: value} for _ in range(length)]


def zipit(list_of_items):
  """Merges the sweeps element-wise: the i-th configuration of each, combined.

  A sweep of length one is repeated to the length of the others. As in the
  original, the repetition extends that list object in place, so a length-one
  sweep passed here has the other length afterwards. On a key clash the later
  sweep wins; keys keep the order of the sweeps.
  """
  if len(list_of_items) == 1:
    return list_of_items[0]
  first = list_of_items[0]
  rest = zipit(list_of_items[1:])
  if len(first) != len(rest):
    if len(first) == 1:
      first *= len(rest)
    elif len(rest) == 1:
      rest *= len(first)
    else:
      raise ValueError("Cannot zip lists of different lengths.")
  return [_merge(left, right) for left, right in zip(first, rest)]


def chainit(list_of_items):
  """Concatenates the sweeps."""
  result = []
  for items in list_of_items:
    result.extend(items)
  return result


def product(list_of_items):
  """All combinations of the sweeps; the first sweep varies slowest."""
  if len(list_of_items) == 1:
    return list_of_items[0]
  rest = product(list_of_items[1:])
  return [_merge(left, right) for left in list_of_items[0] for right in rest]


def to_bindings(items):
  """Gin binding strings `"name = value"` for one configuration, in order."""
  return ["{} = {}".format(key, _escape_value(value))
          for key, value in items.items()]


def _merge(left, right):
  merged = dict(left)
  merged.update(right)
  return merged


def _escape_value(value):
  # Strings become gin string literals, except references such as "@vae()".
  if isinstance(value, str) and not value.startswith("@"):
    return "'{}'".format(value)
  return str(value)
