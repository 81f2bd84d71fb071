"""Every console command explains itself: `--help` lists its own flags with their help text.

The commands run as installed console scripts (the interpreter's scripts folder,
else PATH), in parallel threads: each one imports torch, so one at a time is slow.
"""
import concurrent.futures
import functools
import importlib.metadata
import json
import os
import subprocess
import sys

import pytest

from dlib_torch.tests import commands

# A few flags each command must have: so the comparison with what the modules
# define cannot pass on an empty list.
_EXPECTED = {
    "dtrain": ["model_dir", "gin_config", "gin_bindings", "overwrite", "device"],
    "dtrain_weak": ["model_dir", "gin_config", "gin_bindings", "device"],
    "dtrain_semi": ["model_dir", "gin_config", "gin_bindings", "device"],
    "dpostprocess": ["model_dir", "output_dir", "gin_config", "gin_bindings"],
    "devaluate": ["input_dir", "output_dir", "gin_evaluation_config_glob"],
    "dvisualize": ["model_dir", "output_dir", "overwrite"],
    "dvisualize_dataset": ["name", "path"],
    "daggregate": ["result_file_pattern", "output_path"],
    "dreproduce": ["study", "model_num", "model_nums", "launcher", "output_directory"],
    "dreproduce_weak": ["output_directory", "pipeline_seed", "labeller_fn", "device"],
    "dreproduce_semi": ["output_directory", "pipeline_seed", "labeller_fn", "device"],
    "ddownload": ["data_dir", "from_file", "list", "force"],
    "dudr": ["model_dirs", "output_dir", "gin_config"],
    "dreport": ["input", "output", "all_scores", "overwrite"],
    "dimport": ["input", "output_dir", "overwrite"],
    "dreason": ["input_dir", "output_dir", "gin_config", "gin_bindings", "overwrite"],
    "dreproduce_jmlr": ["output_directory", "model_dir", "gin_bindings", "gin_model_config_dir",
                        "gin_model_config_name", "gin_postprocess_config_glob",
                        "gin_evaluation_config_glob", "num_eval", "scores_list",
                        "evaluation_num_samples_train", "random_seed", "overwrite"],
}
_NOT_ABSL = {"dtests"}  # Hands its arguments to pytest; has a usage of its own.

# Run in a fresh interpreter: imports each command's module in turn and reports
# the flags it defines (there, or through dlib_torch.cli.common), then deletes
# them so that the next module can define its own.
_COLLECT = r"""
import importlib, json, sys
from absl import flags
FLAGS = flags.FLAGS
result = {}
for command, module_name in json.loads(sys.argv[1]).items():
  importlib.import_module(module_name)
  by_module = FLAGS.flags_by_module_dict()
  defined = {}
  for owner in (module_name, "dlib_torch.cli.common"):
    for flag in by_module.get(owner, []):
      defined[flag.name] = {"help": flag.help, "boolean": flag.boolean}
  result[command] = defined
  for name in defined:
    delattr(FLAGS, name)
print(json.dumps(result))
"""


def _commands():
  """The console scripts of the installed dlib_torch: name -> module."""
  points = importlib.metadata.distribution("dlib_torch").entry_points
  return {p.name: p.value.split(":")[0] for p in points if p.group == "console_scripts"}


def _run(args):
  return subprocess.run(args, capture_output=True, text=True, timeout=180, check=False)


def _squeeze(text):
  """Text without any whitespace: absl wraps help at 80 columns, at spaces and hyphens."""
  return "".join(text.split())


def _flag_blocks(output):
  """The `flags:` section of a help text: flag name -> its lines."""
  blocks, current = {}, None
  section = output.split("\nflags:\n", 1)[1]
  for line in section.splitlines():
    if line.startswith("  --"):
      name = line[4:].split(":", 1)[0]
      current = name[len("[no]"):] if name.startswith("[no]") else name
      blocks[current] = line
    elif line.startswith("    ") and current:
      blocks[current] += "\n" + line
    else:
      current = None
  return blocks


@functools.lru_cache(maxsize=None)
def _helps_and_flags():
  """(command -> completed `command --help`, command -> flags its module defines)."""
  installed = _commands()
  absl_commands = {c: m for c, m in installed.items() if c not in _NOT_ABSL}
  with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
    collected = pool.submit(_run, [sys.executable, "-c", _COLLECT, json.dumps(absl_commands)])
    helps = {c: pool.submit(_run, [commands.command_path(c), "--help"]) for c in installed}
    helps = {c: f.result() for c, f in helps.items()}
    collected = collected.result()
  assert collected.returncode == 0, collected.stderr
  return helps, json.loads(collected.stdout)


@pytest.mark.slow
def test_every_command_help_lists_its_own_flags_with_their_help():
  helps, defined = _helps_and_flags()
  assert set(helps) == set(_EXPECTED) | _NOT_ABSL, "a command without an entry in _EXPECTED"
  problems = []
  for command, flags in sorted(defined.items()):
    completed = helps[command]
    out = completed.stdout
    if completed.returncode != 0 or "\nflags:\n" not in out:
      problems.append("{} --help: exit {}, stdout {!r}, stderr {!r}".format(
          command, completed.returncode, out[:300], completed.stderr[-500:]))
      continue
    if not out.splitlines()[0].startswith(command + ": "):
      problems.append("{}: help does not start with a one-line description: {!r}".format(
          command, out.splitlines()[0]))
    missing = set(_EXPECTED[command]) - set(flags)
    if missing:
      problems.append("{}: its module defines none of {}".format(command, sorted(missing)))
    blocks = _flag_blocks(out)
    if set(blocks) != set(flags):
      problems.append("{}: help lists {}, the command defines {}".format(
          command, sorted(blocks), sorted(flags)))
    for name, flag in flags.items():
      block = blocks.get(name, "")
      head = "--[no]{}:".format(name) if flag["boolean"] else "--{}:".format(name)
      if not block.strip().startswith(head) or _squeeze(flag["help"]) not in _squeeze(block):
        problems.append("{}: --{} is not listed with its help {!r}: {!r}".format(
            command, name, flag["help"], block))
    for absl_flag in ("--verbosity", "--logtostderr", "--only_check_flags"):
      if absl_flag in out:
        problems.append("{}: lists absl's own {}".format(command, absl_flag))
  assert not problems, "\n".join(problems)


def test_short_h_is_help_and_exits_0():
  completed = _run([commands.command_path("dvisualize_dataset"), "-h"])
  assert completed.returncode == 0, completed.stderr
  assert completed.stdout.startswith("dvisualize_dataset: ")
  assert "--name: Name of the data set to visualize." in completed.stdout
  assert "Error" not in completed.stderr


def test_ddownload_help_names_the_data_sets():
  completed = _run([commands.command_path("ddownload"), "--help"])
  assert completed.returncode == 0, completed.stderr
  text = " ".join(completed.stdout.split())
  for name in ("dsprites_full", "shapes3d", "smallnorb", "cars3d", "mpi3d_toy",
               "scream_dsprites", "dummy_data"):
    assert name in text, name
  assert "--[no]list:" in completed.stdout


def test_dtests_help_is_its_own_usage():
  completed = _run([commands.command_path("dtests"), "--help"])
  assert completed.returncode == 0, completed.stderr
  out = completed.stdout
  assert out.startswith("dtests: ")
  assert "pytest" in out and "passed to pytest" in out and "--help-pytest" in out
  assert len(out.splitlines()) < 30  # its own usage, not pytest's pages of options


def test_dtests_passes_other_arguments_to_pytest(monkeypatch):
  from dlib_torch.cli import tests as dtests  # pylint: disable=g-import-not-at-top
  calls = []
  monkeypatch.setattr(pytest, "main", lambda args: calls.append(args) or 5)
  monkeypatch.setattr(sys, "argv", ["dtests", "-x", "-k", "foo"])
  with pytest.raises(SystemExit) as exit_info:
    dtests.run()
  assert exit_info.value.code == 5
  (args,) = calls
  assert args[-3:] == ["-x", "-k", "foo"]
  assert os.path.isdir(args[0]) and "-p" in args
  monkeypatch.setattr(sys, "argv", ["dtests", "--help-pytest"])
  with pytest.raises(SystemExit):
    dtests.run()
  assert calls[-1][-1] == "--help"
