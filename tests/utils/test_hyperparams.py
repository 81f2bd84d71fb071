"""Tests of the sweep language (dlib_torch.utils.hyperparams)."""
import pytest

from dlib_torch.utils import hyperparams as h


class TestBuildingBlocks:

  def test_sweep_one_dict_per_value(self):
    assert h.sweep("vae.beta", [1., 2.]) == [{"vae.beta": 1.}, {"vae.beta": 2.}]

  def test_categorical_and_discrete_return_their_argument(self):
    items = [1, 2, 3]
    assert h.categorical(items) is items
    assert h.discrete(items) is items

  def test_fixed_repeats_the_setting(self):
    assert h.fixed("a", "x") == [{"a": "x"}]
    assert h.fixed("a", 3, length=3) == [{"a": 3}] * 3

  def test_chainit_concatenates(self):
    assert h.chainit([h.sweep("a", [1, 2]), h.sweep("b", [3])]) == [
        {"a": 1}, {"a": 2}, {"b": 3}]


class TestZipit:

  def test_zips_element_wise(self):
    zipped = h.zipit([h.sweep("a", [1, 2]), h.sweep("b", [3, 4])])
    assert zipped == [{"a": 1, "b": 3}, {"a": 2, "b": 4}]

  def test_single_list_is_returned_as_is(self):
    items = h.sweep("a", [1, 2])
    assert h.zipit([items]) is items

  def test_length_one_is_repeated_on_either_side(self):
    assert h.zipit([h.fixed("a", 0), h.sweep("b", [1, 2])]) == [
        {"a": 0, "b": 1}, {"a": 0, "b": 2}]
    assert h.zipit([h.sweep("b", [1, 2]), h.fixed("a", 0)]) == [
        {"b": 1, "a": 0}, {"b": 2, "a": 0}]

  def test_repetition_extends_the_argument_in_place(self):
    # As in disentanglement_lib: a reused length-one sweep keeps the length.
    short = h.fixed("a", 0)
    h.zipit([short, h.sweep("b", [1, 2, 3])])
    assert short == [{"a": 0}] * 3
    with pytest.raises(ValueError, match="different lengths"):
      h.zipit([short, h.sweep("b", [1, 2])])

  def test_different_lengths_fail(self):
    with pytest.raises(ValueError,
                       match="Cannot zip lists of different lengths."):
      h.zipit([h.sweep("a", [1, 2]), h.sweep("b", [1, 2, 3])])

  def test_key_order_and_clash(self):
    zipped = h.zipit([h.fixed("x", 1), h.fixed("y", 2), h.fixed("x", 3)])
    assert zipped == [{"x": 3, "y": 2}]
    assert list(zipped[0]) == ["x", "y"]

  def test_three_way_key_order(self):
    zipped = h.zipit([h.fixed("c", 1), h.sweep("a", [2, 3]), h.fixed("b", 4)])
    assert [list(d) for d in zipped] == [["c", "a", "b"]] * 2


class TestProduct:

  def test_first_list_varies_slowest(self):
    result = h.product([h.sweep("a", [1, 2]), h.sweep("b", [3, 4, 5])])
    assert [(d["a"], d["b"]) for d in result] == [
        (1, 3), (1, 4), (1, 5), (2, 3), (2, 4), (2, 5)]

  def test_later_list_wins_on_clash_and_keys_keep_order(self):
    result = h.product([h.fixed("a", 1), h.sweep("b", [2]), h.fixed("a", 9)])
    assert result == [{"a": 9, "b": 2}]
    assert list(result[0]) == ["a", "b"]

  def test_merged_dicts_are_new(self):
    left = h.sweep("a", [1])
    result = h.product([left, h.sweep("b", [2])])
    assert left == [{"a": 1}]
    assert result == [{"a": 1, "b": 2}]


class TestToBindings:

  def test_quoting_rules(self):
    bindings = h.to_bindings({
        "dataset.name": "dsprites_full",
        "model.model": "@vae()",
        "vae.beta": 1.,
        "annealed_vae.gamma": 1000,
        "eps": 1e-8,
        "flag": False,
        "sizes": [100, 10],
    })
    assert bindings == [
        "dataset.name = 'dsprites_full'",
        "model.model = @vae()",
        "vae.beta = 1.0",
        "annealed_vae.gamma = 1000",
        "eps = 1e-08",
        "flag = False",
        "sizes = [100, 10]",
    ]

  def test_empty(self):
    assert h.to_bindings({}) == []
