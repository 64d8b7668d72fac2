from reports.disclosure import secondary, suppress_group
from reports.pseudonyms import customer_key, pseudonym

PNR = "191212121212"


def test_pseudonyms_are_stable_per_customer_and_unlinkable_across() -> None:
    a, b = customer_key(b"master", "A"), customer_key(b"master", "B")
    assert pseudonym(a, PNR) == pseudonym(a, PNR)
    assert pseudonym(a, PNR) != pseudonym(b, PNR)
    assert PNR not in pseudonym(a, PNR) and pseudonym(a, "") == ""
    assert pseudonym(customer_key(b"other", "A"), PNR) != pseudonym(a, PNR)


def test_primary_and_secondary_suppression() -> None:
    assert suppress_group({"F": 30, "M": 5, "U": 0}, ["F", "M", "U"]) == ({"M", "F"}, True)
    assert suppress_group({"F": 30, "M": 5, "U": 12}, ["F", "M", "U"]) == ({"M", "U"}, True)
    assert suppress_group({"F": 3, "M": 5, "U": 12}, ["F", "M", "U"]) == ({"F", "M"}, False)
    assert suppress_group({"F": 0, "M": 5, "U": 0}, ["F", "M", "U"]) == ({"M"}, False)
    assert secondary({"F": 10, "M": 10}, {"X"}, ["F", "M"]) is None
