import bextoolkit


def test_every_public_name_imports():
    for name in bextoolkit.__all__:
        assert getattr(bextoolkit, name) is not None, name


def test_all_is_sorted_and_unique():
    assert len(set(bextoolkit.__all__)) == len(bextoolkit.__all__)
