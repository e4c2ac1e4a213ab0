"""Edges of the Python binding: argument types."""

import pytest

from conftest import sample


def test_force_must_be_a_bool(store, prefix):
    # force="no" is truthy: it used to send "force": true, a last-writer-wins update.
    c = store.create(sample(prefix + "f"), "t")
    for not_a_bool in ("no", "false", 1, [False]):
        with pytest.raises(TypeError, match="force"):
            store.update(c["id"], {"name": prefix + "g"}, "t", force=not_a_bool)
    assert store.get(c["id"])["name"] == prefix + "f"
    assert store.update(c["id"], {"name": prefix + "g"}, "t", force=True)["name"] == prefix + "g"
