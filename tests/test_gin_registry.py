"""gin_registry: gin's own errors in a configuration become UserError, by where they arise."""
import gin
import pytest

from dlib_torch import gin_registry
from dlib_torch.utils import errors


@gin.configurable("registry_test_fn")
def _configurable(value=gin.REQUIRED, divisor=1):
  return value / divisor


@pytest.mark.parametrize("bindings, message", [
    ([], "Required bindings"),  # raised by gin when the function is called
    (["registry_test_fn.value = @registry_test_missing"], "registry_test_missing"),
    (["registry_test_fn.valeu = 3"], "valeu"),
])
def test_gins_errors_are_user_errors(bindings, message):
  with pytest.raises(errors.UserError, match=message):
    gin_registry.run_with_config("evaluation", [], bindings, _configurable)


def test_errors_of_the_called_code_keep_their_type():
  # A ZeroDivisionError, a TypeError in our code, a UserError: none is gin's.
  with pytest.raises(ZeroDivisionError):
    gin_registry.run_with_config("evaluation", [], ["registry_test_fn.value = 1",
                                                    "registry_test_fn.divisor = 0"],
                                 _configurable)
  with pytest.raises(TypeError) as raised:
    gin_registry.run_with_config("evaluation", [], ["registry_test_fn.value = 'a'",
                                                    "registry_test_fn.divisor = 2"],
                                 _configurable)
  assert not isinstance(raised.value, errors.UserError)


def test_check_config_leaves_gin_clear():
  gin_registry.check_config("evaluation", [], ["registry_test_fn.value = 3"])
  with pytest.raises(ValueError):
    gin.query_parameter("registry_test_fn.value")
  with pytest.raises(errors.UserError, match="valeu"):
    gin_registry.check_config("evaluation", [], ["registry_test_fn.valeu = 3"])
