"""The metrics; importing the package registers every metric module with gin."""
from dlib_torch.utils import submodules

submodules.import_submodules(__name__, __path__)
