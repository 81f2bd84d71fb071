"""The package's shape: no import cycle (function-level imports included), short functions."""
import ast
import os

import dlib_torch

_ROOT = os.path.dirname(os.path.abspath(dlib_torch.__file__))


def _module_name(path):
  relative = os.path.relpath(path, os.path.dirname(_ROOT))[:-len(".py")]
  parts = relative.split(os.sep)
  return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules():
  """{module name: path} of every .py file of the package."""
  found = {}
  for folder, _, names in os.walk(_ROOT):
    for name in names:
      if name.endswith(".py"):
        path = os.path.join(folder, name)
        found[_module_name(path)] = path
  return found


def _imported(tree, module, is_package, known):
  """The dlib_torch modules a module's code imports, at any depth of its code."""
  package = module if is_package else module.rpartition(".")[0]
  targets = set()
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      targets.update(alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
      base = node.module or ""
      if node.level:
        anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
        base = ".".join(anchor + ([base] if base else []))
      # `from a import b` imports a, and a.b when b is a module.
      targets.add(base)
      targets.update(base + "." + alias.name for alias in node.names)
  return {name for name in targets if name in known and name != module}


def import_graph():
  modules = _modules()
  graph = {}
  for module, path in modules.items():
    with open(path) as f:
      tree = ast.parse(f.read(), path)
    graph[module] = _imported(tree, module, path.endswith("__init__.py"), modules)
  return graph


def find_cycle(graph):
  """One import cycle as a list of modules (first == last), or None."""
  state = {}  # module -> "open" while on the path, "done" after
  path = []

  def visit(module):
    state[module] = "open"
    path.append(module)
    for target in sorted(graph[module]):
      if state.get(target) == "open":
        return path[path.index(target):] + [target]
      if target not in state:
        cycle = visit(target)
        if cycle:
          return cycle
    path.pop()
    state[module] = "done"
    return None

  for module in sorted(graph):
    if module not in state:
      cycle = visit(module)
      if cycle:
        return cycle
  return None


def test_finds_a_cycle_when_there_is_one():
  graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
  assert find_cycle(graph) == ["a", "b", "c", "a"]
  assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_reads_function_level_and_relative_imports():
  tree = ast.parse("def f():\n  from dlib_torch.utils import errors\n"
                   "from . import results\n")
  known = {"dlib_torch.utils", "dlib_torch.utils.errors", "dlib_torch.utils.results"}
  assert _imported(tree, "dlib_torch.utils.atomic_io", False, known) == known


def test_no_import_cycle_in_the_package():
  graph = import_graph()
  assert len(graph) > 100
  assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


# The numba kernels of the presorted boosting are compiled loops, kept whole for speed.
_LONG_FUNCTIONS_ALLOWED = {("dlib_torch.evaluation.metrics.presorted_boosting", "_build_tree")}


def test_no_function_over_80_lines():
  too_long = []
  for module, path in _modules().items():
    with open(path) as f:
      tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
      if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        length = node.end_lineno - node.lineno + 1
        if length > 80 and (module, node.name) not in _LONG_FUNCTIONS_ALLOWED:
          too_long.append("{}.{} ({} lines)".format(module, node.name, length))
  assert not too_long
