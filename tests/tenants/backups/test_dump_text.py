"""The dump is read as it streams: recording keys blanked, rows counted, the schema
renamed for a drill everywhere but inside the rows; anything unexpected is refused
rather than stored."""

from __future__ import annotations

import pytest

from audora.tenants.backups.dump_text import DumpFilter, DumpFormatError, ScratchRewriter

SCHEMA = "t_" + "ab" * 16
DUMP = (
    f"CREATE TABLE {SCHEMA}.recordings (id uuid, wrapped_key bytea, object_key text);\n"
    f"COPY {SCHEMA}.recordings (id, wrapped_key, object_key) FROM stdin;\n"
    "r1\t\\\\x0102ff\trecordings/r1\n"
    "r2\t\\N\trecordings/r2\n"
    "\\.\n"
    f"COPY {SCHEMA}.calls (id, title) FROM stdin;\n"
    f"c1\tnotes about {SCHEMA}\n"
    "\\.\n"
    f"SELECT pg_catalog.setval('{SCHEMA}.seq', 3, true);\n"
).encode()


def _through(stream: DumpFilter | ScratchRewriter, data: bytes, size: int) -> bytes:
    out = b"".join(stream.feed(data[i : i + size]) for i in range(0, len(data), size))
    return out + stream.finish()


@pytest.mark.parametrize("size", [1, 7, 4096])
def test_recording_keys_are_blanked_and_rows_counted_whatever_the_chunking(size: int) -> None:
    filtered = DumpFilter(SCHEMA)
    out = _through(filtered, DUMP, size)
    assert b"0102ff" not in out
    assert b"r1\t\\N\trecordings/r1\n" in out
    assert filtered.row_counts == {"recordings": 2, "calls": 1}
    assert out.replace(b"r1\t\\N\t", b"r1\t\\\\x0102ff\t") == DUMP


def test_a_dump_without_the_recordings_rows_is_refused() -> None:
    without = DUMP.split(b"COPY " + SCHEMA.encode() + b".calls")[0].replace(
        b".recordings (id, wrapped_key, object_key) FROM", b".other (id, k, o) FROM"
    )
    with pytest.raises(DumpFormatError, match="recordings"):
        _through(DumpFilter(SCHEMA), without, 4096)


def test_recordings_rows_without_the_key_column_are_refused() -> None:
    renamed = DUMP.replace(b"(id, wrapped_key, object_key) FROM", b"(id, wk, object_key) FROM")
    with pytest.raises(DumpFormatError, match="column to blank"):
        _through(DumpFilter(SCHEMA), renamed, 4096)


def test_a_dump_cut_inside_the_rows_is_refused() -> None:
    with pytest.raises(DumpFormatError, match="ended inside"):
        _through(DumpFilter(SCHEMA), DUMP[: DUMP.index(b"r2")], 4096)


def test_the_drill_renames_the_schema_but_never_inside_a_row() -> None:
    scratch = "restore_" + "cd" * 16
    out = _through(ScratchRewriter(SCHEMA, scratch), DUMP, 5)
    assert f"COPY {scratch}.calls (id, title) FROM stdin;".encode() in out
    assert f"setval('{scratch}.seq'".encode() in out
    assert f"c1\tnotes about {SCHEMA}\n".encode() in out  # a row, untouched
    assert out.count(SCHEMA.encode()) == 1
