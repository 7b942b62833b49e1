"""The scale benchmark (eval/bench/scale.py) run small: it builds a collection through the
store, full-text and manifest code and prints every figure it promises."""

from __future__ import annotations

from eval.bench import scale


def test_the_scale_benchmark_runs_small(tmp_path, capsys):
    scale.main(["--chunks", "3000", "--pictures", "300", "--real", "100", "--queries", "10",
                "--slice", "1000", "--clients", "4", "--clip", "tiny", "--work", str(tmp_path)])
    out = capsys.readouterr().out
    assert "3,000 text chunks, 300 pictures" in out
    for line in ("disk: Chroma", "retrieval, 1 client, both collections fused: p50",
                 "retrieval, 4 clients:", "retrieval on the small collection",
                 "retrieval filtered by a tag", "RSS of this process",
                 "re-ingesting one changed document", "start-up: ready in"):
        assert line in out, line
