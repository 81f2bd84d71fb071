"""ddownload: fetches and verifies the real data sets (the original's dlib_download_data).

  ddownload dsprites_full smallnorb      # fetch what these data sets need
  ddownload                              # or --list: what it knows, what is present
  ddownload shapes3d --from_file=~/3dshapes.h5   # register a file you already have

Files go to --data_dir, else $DISENTANGLEMENT_LIB_DATA, else the current
folder, where the loaders look for them. See dlib_torch.data.download for the
checksums, mirrors, resuming and the manifest.
"""
import textwrap

from absl import flags
from absl import logging

from dlib_torch.cli import common
from dlib_torch.data import download
from dlib_torch.data.ground_truth import files
from dlib_torch.data.ground_truth import named_data
from dlib_torch.utils import errors

FLAGS = flags.FLAGS
flags.DEFINE_string("data_dir", None, "Data folder (default: $DISENTANGLEMENT_LIB_DATA, else the "
                    "current folder).")
flags.DEFINE_string("from_file", None, "A file you already have (or a folder of them) to install "
                    "for the one data set named, instead of downloading it.")
flags.DEFINE_boolean("list", False, "List the data sets ddownload knows and which are present.")
flags.DEFINE_boolean("force", False, "Fetch again even when the files are present and valid.")


def ddownload(names, data_dir, from_file=None, list_only=False, force=False):
  """What the command does, given its arguments; returns the text to print, if any."""
  if list_only or (not names and not from_file):
    return listing(data_dir)
  if from_file:
    if len(names) != 1:
      raise errors.UserError("--from_file needs exactly one data set name (got {}).".format(
          len(names)))
    installed = download.register_local_file(names[0], from_file, data_dir)
    logging.info("Installed %s in %s.", ", ".join(installed), data_dir)
    return None
  download.fetch(names, data_dir, force=force)
  return None


def listing(data_dir):
  """The data sets ddownload knows, what each needs and whether it is present in data_dir."""
  lines = ["Data folder: {}".format(data_dir), "", "Data sets that ddownload fetches:"]
  width = max(len(n) for n in download.known_names())
  for name in sorted(download.DATASETS):
    needed = download.DATASETS[name]
    states = ", ".join("{} ({})".format(n, download.status(n, data_dir)) for n in needed)
    lines.append("  {:<{}}  {}".format(name, width, states))
  lines += ["", "Their files (these names are accepted too):"]
  for name in sorted(download.RESOURCES):
    lines.append("  {:<{}}  {}".format(name, width, download.RESOURCES[name].description))
  offline = [n for n in named_data.known_names() if n not in download.DATASETS]
  lines += ["", "Data sets that need no download: {}.".format(", ".join(offline))]
  return "\n".join(lines)


def help_epilog():
  """The data sets ddownload knows, for its --help."""
  offline = [n for n in named_data.known_names() if n not in download.DATASETS]
  return "\n".join(textwrap.fill(text, width=80, subsequent_indent="  ") for text in (
      "Data sets it fetches: {}.".format(", ".join(sorted(download.DATASETS))),
      "Their files (these names are accepted too): {}.".format(
          ", ".join(sorted(download.RESOURCES))),
      "Data sets that need no download: {}.".format(", ".join(offline))))


def main(argv):
  text = ddownload(argv[1:], FLAGS.data_dir or files.data_root(), FLAGS.from_file, FLAGS.list,
                   FLAGS.force)
  if text:
    print(text)


def run():
  common.run_main(main)


if __name__ == "__main__":
  run()
