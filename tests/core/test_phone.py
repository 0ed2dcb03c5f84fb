"""Mainland mobile numbers: normalising what people type, validating, masking for lists."""

import pytest

from volunteer.core.phone import is_valid, mask, normalise


def test_mask_keeps_the_first_three_and_last_four_digits():
    assert mask("13812345678") == "138****5678"


@pytest.mark.parametrize(("phone", "masked"), [("", ""), (None, ""), ("12345", "*****"), ("1234567", "1234567")])
def test_mask_of_short_or_empty_values_reveals_nothing_extra(phone, masked):
    assert mask(phone) == masked


def test_mask_never_contains_the_middle_digits():
    masked = mask("13998765432")
    assert masked == "139****5432"
    assert "9876" not in masked


@pytest.mark.parametrize(
    "raw",
    ["+86 138-1234-5678", "+8613812345678", "0086 138 1234 5678", "138 1234 5678", "(138)1234-5678", " 13812345678 "],
)
def test_normalise_drops_spaces_dashes_and_country_code(raw):
    assert normalise(raw) == "13812345678"


def test_normalise_of_nothing_is_empty():
    assert normalise(None) == ""
    assert normalise("") == ""


@pytest.mark.parametrize("phone", ["13812345678", "19912345678", "15000000000"])
def test_valid_mainland_mobiles(phone):
    assert is_valid(phone)


@pytest.mark.parametrize(
    "phone",
    ["", "1381234567", "138123456789", "12812345678", "23812345678", "1381234567a", "+8613812345678", "010-12345678"],
)
def test_invalid_numbers(phone):
    assert not is_valid(phone)
