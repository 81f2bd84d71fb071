"""Installs dlib_torch, its gin configs (from configs/) and its tests (from tests/)."""
import setuptools

_COMMANDS = {
    "dtrain": "train",
    "dtrain_weak": "train_weak",
    "dtrain_semi": "train_semi",
    "dpostprocess": "postprocess",
    "devaluate": "evaluate",
    "dvisualize": "visualize",
    "dvisualize_dataset": "visualize_dataset",
    "daggregate": "aggregate",
    "dreproduce": "reproduce",
    "dreproduce_weak": "reproduce_weak",
    "dreproduce_semi": "reproduce_semi",
    "ddownload": "download",
    "dudr": "udr",
    "dtests": "tests",
    "dimport": "import_model",
    "dreason": "reason",
    "dreport": "report",
    "dreproduce_jmlr": "reproduce_jmlr",
}

# configs/ (the gin files) and tests/ live at the top of the checkout but install as
# dlib_torch.gin_configs and dlib_torch.tests, so a non-editable install finds them.
# (dlib_torch.config, singular, holds the Python study definitions, as in the original.)
_PACKAGES = setuptools.find_packages(include=["dlib_torch", "dlib_torch.*"])
_PACKAGES += ["dlib_torch.gin_configs"]
_PACKAGES += ["dlib_torch.tests" + p[len("tests"):]
              for p in ["tests"] + setuptools.find_packages(include=["tests.*"])]

setuptools.setup(
    name="dlib_torch",
    version="0.1.0",
    description="disentanglement_lib on PyTorch and gin-config, without TensorFlow.",
    python_requires=">=3.10",
    packages=_PACKAGES,
    package_dir={"dlib_torch.gin_configs": "configs", "dlib_torch.tests": "tests"},
    package_data={
        "dlib_torch.gin_configs": ["**/*.gin", "**/*.json"],
        "dlib_torch.tests": ["**/*.json", "**/*.gin", "fixtures/**/*.zip", "fixtures/**/*.npz"],
        "dlib_torch": ["**/*.png", "**/*.json"],
    },
    install_requires=[
        "torch>=2.1",
        "gin-config>=0.5",
        "numpy>=1.24",
        "scipy>=1.10",
        "scikit-learn>=1.3",
        # numba: the presorted gradient boosting (sklearn's trees, 10x+ faster),
        # which dominated the metric suite's time.
        "numba>=0.60",
        "absl-py>=1.0",
        "simplejson>=3.17",
        "pandas>=2.0",
        "imageio>=2.28",
        "h5py>=3.8",
        # Pillow: JPEG/PNG writing for visualisations and the scream image.
        "pillow>=9.0",
        # tqdm: the progress bar of training, downloads and the metrics' sampling,
        # encoding and fitting on a terminal (utils/progress.py); small, no dependencies.
        "tqdm>=4.60",
        # joblib (scikit-learn's own dependency): fit_per_factor reports each factor's
        # fit as it ends, with Parallel(return_as="generator") from 1.3 on.
        "joblib>=1.3",
    ],
    extras_require={
        # matplotlib draws the interventional-effects, score and concept plots;
        # without it those plots are skipped with a log line.
        "plots": ["matplotlib>=3.6"],
        # selenium: the page tests drive Debian's headless chromium through its chromedriver
        # (console errors, images that load, clicks): the maintained WebDriver client.
        "test": ["pytest>=7", "pytest-xdist>=3", "pytest-timeout>=2", "matplotlib>=3.6",
                 "submitit>=1.5.4", "tensorboard>=2.12", "selenium>=4.11"],
        # tensorboard: training writes the original's TensorBoard summaries with it.
        "tensorboard": ["tensorboard>=2.12"],
        # submitit: dreproduce --launcher=slurm submits job arrays with it (1.5.4 is the
        # first release that runs without setuptools' removed pkg_resources).
        "cluster": ["submitit>=1.5.4"],
    },
    entry_points={
        "console_scripts": [
            "{} = dlib_torch.cli.{}:run".format(cmd, mod) for cmd, mod in _COMMANDS.items()
        ],
    },
)
