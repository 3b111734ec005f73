"""The search spaces: every NB201 encoding round trip, the isomorphism key against the
benchmark's own unique strings, bad inputs, and NAS-Bench-Graph keys against its tables."""

from __future__ import annotations

import numpy as np
import pytest

from ednag.spaces import (
    NB201_OPS,
    NasBenchGraphSpace,
    SpaceError,
    make_encoding,
    make_space,
)


@pytest.fixture(scope="module")
def nb201():
    return make_space("nb201")


@pytest.fixture(scope="module")
def cells(nb201):
    return list(nb201.enumerate())


def test_nb201_enumerates_every_cell_once(nb201, cells):
    assert len(cells) == len(set(cells)) == 15625 == nb201.size
    assert cells == sorted(cells)
    assert nb201.num_choices == (5,) * 6


def test_nb201_native_round_trip(nb201, cells):
    natives = [nb201.to_native(c) for c in cells]
    assert len(set(natives)) == 15625
    assert [nb201.from_native(s) for s in natives] == cells
    assert [nb201.key(c) for c in cells] == natives  # one row per cell
    assert natives[0] == "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    assert nb201.from_native(
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
        "skip_connect~2|") == (3, 3, 4, 1, 3, 1)


def test_nb201_onehot_round_trip(nb201, cells):
    enc = make_encoding(nb201, "onehot")
    assert enc.shape == nb201.matrix_shape == (6, 5) and enc.dim == 30
    mats = np.stack([enc.encode(c) for c in cells])
    assert mats.dtype == np.float32 and (mats.sum(axis=2) == 1).all()
    assert all(enc.decode(m) == c for m, c in zip(mats[::97], cells[::97], strict=True))
    assert enc.decode_batch(mats.reshape(len(cells), -1)) == cells
    # a noisy matrix decodes by row-wise argmax
    rng = np.random.default_rng(0)
    noisy = mats.reshape(len(cells), -1) + rng.normal(0, 0.2, (len(cells), 30))
    expected = [tuple(row) for row in noisy.reshape(-1, 6, 5).argmax(axis=2).tolist()]
    assert enc.decode_batch(noisy) == expected


def test_nb201_paper_encoding_round_trip(nb201, cells):
    enc = make_encoding(nb201, "nb201_paper")
    assert enc.shape == (8, 7) and enc.dim == 56
    mats = np.stack([enc.encode(c) for c in cells])
    assert (mats[:, 0, 0] == 1).all() and (mats[:, 7, 1] == 1).all()
    assert (mats[:, 1:7, :2] == 0).all()
    assert enc.decode_batch(mats.reshape(len(cells), -1)) == cells
    assert enc.decode(mats[1234]) == cells[1234]
    # a row whose argmax is the 'input' or 'output' column makes the architecture invalid
    bad = mats[1234].copy()
    bad[3, 0] = 5.0
    assert enc.decode(bad) is None
    bad = mats[1234].copy()
    bad[6, 1] = 5.0
    assert enc.decode_batch(np.stack([bad.ravel(), mats[0].ravel()])) == [None, cells[0]]
    # rows 0 and 7 are never read
    other = mats[1234].copy()
    other[0] = other[7] = np.arange(7)
    assert enc.decode(other) == cells[1234]
    with pytest.raises(SpaceError, match="needs the nb201 space"):
        make_encoding(make_space("nasbench_graph"), "nb201_paper")


def test_nb201_isomorphism_classes(nb201, cells):
    keys = {nb201.isomorphism_key(c) for c in cells}
    assert len(keys) == 4930
    # dead nodes are pruned: node 1 is zero, so the edge 2<-1 does not matter
    a = nb201.from_native("|none~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|none~1|"
                          "nor_conv_3x3~2|")
    b = nb201.from_native("|none~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|"
                          "nor_conv_3x3~2|")
    assert nb201.isomorphism_key(a) == nb201.isomorphism_key(b)
    # sums are order-free: swapping the ops on the two edges into node 3 from 0 and 2, when
    # node 2 equals node 0 (skip), gives the same function
    c = nb201.from_native("|none~0|+|skip_connect~0|none~1|+|nor_conv_1x1~0|none~1|"
                          "nor_conv_3x3~2|")
    d = nb201.from_native("|none~0|+|skip_connect~0|none~1|+|nor_conv_3x3~0|none~1|"
                          "nor_conv_1x1~2|")
    assert nb201.isomorphism_key(c) == nb201.isomorphism_key(d)
    # but different functions stay apart
    e = nb201.from_native("|none~0|+|skip_connect~0|none~1|+|nor_conv_3x3~0|none~1|"
                          "nor_conv_3x3~2|")
    assert nb201.isomorphism_key(c) != nb201.isomorphism_key(e)
    assert nb201.isomorphism_key((0,) * 6) == "zero"


@pytest.mark.shared
def test_nb201_isomorphism_coarsens_the_benchmark_unique_strings(nb201, nb201_dir):
    import pandas as pd

    frame = pd.read_csv(nb201_dir / "test200.csv", usecols=["ArchitectureString", "UniqueString"])
    ours_of_theirs: dict[str, set[str]] = {}
    theirs_of_ours: dict[str, set[str]] = {}
    for arch, unique in zip(frame["ArchitectureString"], frame["UniqueString"], strict=True):
        ours = nb201.isomorphism_key(nb201.from_native(arch))
        ours_of_theirs.setdefault(unique, set()).add(ours)
        theirs_of_ours.setdefault(ours, set()).add(unique)
    assert len(ours_of_theirs) == 6466 and len(theirs_of_ours) == 4930
    # each of their classes falls in exactly one of ours: ours is a coarsening
    assert all(len(v) == 1 for v in ours_of_theirs.values())
    merged = [v for v in theirs_of_ours.values() if len(v) > 1]
    assert sum(len(v) - 1 for v in merged) == 6466 - 4930
    # why: their strings keep dead (zero, '#') terms and do not sort the terms of a sum
    assert any(any("#" in u for u in v) for v in merged)
    assert any(len({tuple(sorted(u.split("+"))) for u in v}) < len(v) for v in merged)


@pytest.mark.parametrize(
    ("native", "message"),
    [
        ("|nor_conv_3x3~0|+|none~0|", "malformed arch string"),
        ("nor_conv_3x3~0+none~0+none~1", "malformed arch string"),
        ("|conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown operation 'conv_5x5'"),
        ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", r"edge 'none~1' of node 1 .* 'op~0'"),
        ("|none~0|+|none~0|+|none~0|none~1|none~2|", "malformed|node 2 .* has 1 inputs"),
    ],
)
def test_nb201_bad_native_strings(nb201, native, message):
    with pytest.raises(SpaceError, match=message):
        nb201.from_native(native)


def test_nb201_bad_choices(nb201):
    with pytest.raises(SpaceError, match=r"choice 5 for 'edge_3<-2' is out of range 0\.\.4"):
        nb201.to_native((0, 0, 0, 0, 0, 5))
    with pytest.raises(SpaceError, match=r"choice -1 for 'edge_1<-0'"):
        nb201.check((-1, 0, 0, 0, 0, 0))
    with pytest.raises(SpaceError, match="expected 6 choices"):
        nb201.key((0, 0))
    with pytest.raises(SpaceError, match="must be an int, got 1.5"):
        nb201.check((1.5, 0, 0, 0, 0, 0))
    with pytest.raises(SpaceError, match="must be a str"):
        nb201.from_native(None)
    with pytest.raises(SpaceError, match="unknown search space 'nb101'; allowed: nasbench_graph, nb201"):
        make_space("nb101")
    assert NB201_OPS[0] == "none"


# ---------------------------------------------------------------------------- NAS-Bench-Graph
@pytest.mark.parametrize(("dataset", "raw", "rows"), [("arxiv", 59040, 26206),
                                                      ("proteins", 5616, 2021)])
def test_nasbench_graph_keys_match_the_benchmark(dataset, raw, rows):
    from nas_bench_graph import light_read

    space = NasBenchGraphSpace(dataset)
    choices = list(space.enumerate())
    assert len(choices) == raw
    natives = [space.to_native(c) for c in choices]
    assert [space.from_native(n) for n in natives[::50]] == choices[::50]
    keys = {space.key(c) for c in choices}
    bench = {str(k) for k in light_read(dataset)}
    assert len(keys) == rows and keys == bench


def test_nasbench_graph_bad_inputs():
    space = NasBenchGraphSpace("proteins")
    with pytest.raises(SpaceError, match="unknown operation 'gat' for proteins"):
        space.from_native("0-0-1-2:gat,gcn,gcn,gcn")
    with pytest.raises(SpaceError, match="unknown link pattern '0-2-2-2'"):
        space.from_native("0-2-2-2:gcn,gcn,gcn,gcn")
    with pytest.raises(SpaceError, match="malformed architecture"):
        space.from_native("gcn,gcn")
    with pytest.raises(SpaceError, match="all layers are 'skip'"):
        space.from_native("0-0-0-0:skip,skip,skip,skip")
    with pytest.raises(SpaceError, match="is invalid"):
        space.key((0, 4, 4, 4, 4))
    with pytest.raises(SpaceError, match="unknown dataset 'mnist'"):
        NasBenchGraphSpace("mnist")
