"""The training methods; importing the package registers every method module with gin."""
from dlib_torch.utils import submodules

submodules.import_submodules(__name__, __path__)
