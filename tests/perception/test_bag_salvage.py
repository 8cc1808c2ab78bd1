"""A truncated MCAP bag is not wholly unusable (issue 17, item 10): a recording cut short
(no summary, no footer, cut inside a chunk) gives the messages of its readable prefix,
exactly those of the intact bag, and says what was lost; a cut before any message is a
clear BagError; an intact bag is still read by rosbags' AnyReader."""

from __future__ import annotations

import functools
import logging
import shutil
import struct
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import lz4.frame  # type: ignore[import-untyped]
import numpy as np
import pytest
from backports import zstd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rosbags.highlevel import AnyReader

from perception.bag import BagError, open_bag, salvage_report
from perception.bag_salvage import MAGIC, SalvageReader, SalvageReport
from perception.replay import replay_bag
from planners.observe import new_memory
from tests.conftest import DATA

BAGS = DATA / "ros_bags"
NAV2 = BAGS / "evo_testdata/nav2_turtlebot.mcap"  # one zstd chunk of 2.9 MB holds all
TALKER = BAGS / "rosbag2_fixtures/rosbag2_py__mcap_talker/talker.mcap"  # zstd, with CRC
CDR = BAGS / "rosbag2_fixtures/rosbag2_tests__mcap_cdr_test/cdr_test_0.mcap"  # uncompressed

Message = tuple[str, int, Any]


def _plain(value: Any) -> Any:
    """A deserialized message as comparable values (arrays by bytes, NaN equal to NaN)."""
    if isinstance(value, np.ndarray):
        return (value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | tuple):
        return tuple(_plain(v) for v in value)
    if hasattr(value, "__dataclass_fields__"):
        return (
            type(value).__name__,
            *(_plain(getattr(value, f)) for f in value.__dataclass_fields__),
        )
    return value


def _read(path: Path) -> tuple[list[Message], SalvageReport | None, dict[str, int]]:
    """Every message of the bag (topic, log time, contents), what salvage reported and the
    message count per topic its reader announced."""
    reader = open_bag(path)
    try:
        messages = [
            (c.topic, t, _plain(reader.deserialize(raw, c.msgtype)))
            for c, t, raw in reader.messages()
        ]
        counts = {c.topic: c.msgcount for c in reader.connections if c.msgcount}
        return messages, salvage_report(reader), counts
    finally:
        reader.close()


@functools.cache
def _intact(path: Path) -> list[Message]:
    messages, report, _counts = _read(path)
    assert report is None
    return messages


def _top_records(data: bytes) -> list[tuple[int, int, int]]:
    """(offset, opcode, end) of an intact MCAP file's top-level records."""
    out, pos = [], len(MAGIC)
    while pos < len(data) - len(MAGIC):
        op, length = struct.unpack_from("<BQ", data, pos)
        out.append((pos, op, pos + 9 + length))
        pos += 9 + length
    return out


def _cut(src: Path, n: int, dst: Path) -> Path:
    dst.write_bytes(src.read_bytes()[:n])
    return dst


def _assert_prefix(got: list[Message], intact: list[Message]) -> None:
    assert got == intact[: len(got)]


def test_an_intact_bag_is_read_by_anyreader_unchanged() -> None:
    reader = open_bag(NAV2)
    try:
        assert isinstance(reader, AnyReader) and salvage_report(reader) is None
    finally:
        reader.close()
    with AnyReader([NAV2]) as direct:
        raw = [(c.topic, t, bytes(r)) for c, t, r in direct.messages()]
    messages = _intact(NAV2)
    assert len(messages) == len(raw) == 8197
    assert [(topic, t) for topic, t, _ in messages] == [(topic, t) for topic, t, _ in raw]
    # The salvage reader, on the intact file, reads every message the same.
    with SalvageReader(NAV2) as salvaged:
        assert [(c.topic, t, bytes(r)) for c, t, r in salvaged.messages()] == raw
        assert salvaged.report.data_complete and salvaged.report.messages == 8197


def test_a_cut_bag_gives_the_prefix_and_says_what_was_lost(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = NAV2.read_bytes()
    records = _top_records(data)
    chunk_at, _op, chunk_end = next(r for r in records if r[1] == 0x06)
    intact = _intact(NAV2)
    cuts = {
        "early in the chunk": chunk_at + 60_000,
        "mid-chunk": (chunk_at + chunk_end) // 2,
        "1 byte before the chunk's end": chunk_end - 1,
        "right after the chunk": chunk_end,
        "in the message indexes after it": chunk_end + 100,
        "1 byte short of the end": len(data) - 1,
    }
    previous = 0
    for where, n in cuts.items():
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="perception.bag"):
            got, report, counts = _read(_cut(NAV2, n, tmp_path / f"cut{n}.mcap"))
        assert report is not None, where
        _assert_prefix(got, intact)
        assert previous <= len(got) == report.messages == sum(counts.values()), where
        previous = len(got)
        assert report.file_bytes == n and report.start_ns == intact[0][1], where
        assert report.end_ns == got[-1][1], where
        if n < chunk_end:  # the chunk is cut: its decompressible part is read
            cut = report.cut_chunk
            assert cut is not None and report.stop_offset == chunk_at, where
            assert (cut.compression, cut.size) == ("zstd", 2956827) and cut.recovered > 0
            assert not report.data_complete
        elif n < len(data) - 37:  # (footer 29 + magic 8) the indexes are cut: more data?
            assert report.cut_chunk is None and not report.data_complete, where
            assert chunk_end <= report.stop_offset <= n and len(got) == len(intact), where
        else:  # the data section ended: only the summary/footer were lost
            assert report.data_complete and len(got) == len(intact), where
        said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(said) == 1 and f"{len(got)} messages" in said[0], where
        print(f"\n{where} (byte {n}): {len(got)} of {len(intact)} messages; {said[0]}")
    assert 0 < len(_read(tmp_path / f"cut{chunk_at + 60_000}.mcap")[0]) < len(intact) // 4


def test_a_cut_before_any_message_is_a_clear_bag_error(tmp_path: Path) -> None:
    data = NAV2.read_bytes()
    header_end = _top_records(data)[0][2]
    for n in (0, 5, len(MAGIC), header_end - 3, header_end, header_end + 2000):
        with pytest.raises(BagError, match="cannot read bag") as err:
            open_bag(_cut(NAV2, n, tmp_path / f"cut{n}.mcap"))
        if n >= header_end:
            assert "no message to salvage" in str(err.value)
    # A damaged file that is not an MCAP is not salvaged.
    ros1 = BAGS / "evo_testdata/tf_example.bag"
    with pytest.raises(BagError, match="cannot read bag"):
        open_bag(_cut(ros1, 20_000, tmp_path / "cut.bag"))


def _recompress(data: bytes, compression: str) -> bytes:
    """The MCAP file with its zstd chunks compressed as ``compression`` instead (the
    summary's offsets are left stale: the file is only read cut short)."""
    out = bytearray(data[: len(MAGIC)])
    for pos, op, end in _top_records(data):
        if op != 0x06:
            out += data[pos:end]
            continue
        head = struct.Struct("<QQQI")
        start_ns, end_ns, size, crc = head.unpack_from(data, pos + 9)
        (n,) = struct.unpack_from("<I", data, pos + 9 + head.size)
        at = pos + 9 + head.size + 4 + n
        (length,) = struct.unpack_from("<Q", data, at)
        assert data[at - n : at] == b"zstd"
        raw = zstd.decompress(data[at + 8 : at + 8 + length])
        packed = lz4.frame.compress(raw) if compression == "lz4" else raw
        name = compression.encode()
        body = head.pack(start_ns, end_ns, size, crc) + struct.pack("<I", len(name)) + name
        body += struct.pack("<Q", len(packed)) + packed
        out += struct.pack("<BQ", 0x06, len(body)) + body
    return bytes(out + data[-len(MAGIC) :])


@pytest.mark.parametrize("compression", ["lz4", ""])
def test_lz4_and_uncompressed_chunks_cut_short(tmp_path: Path, compression: str) -> None:
    data = _recompress(NAV2.read_bytes(), compression)
    chunk_at, _op, chunk_end = next(r for r in _top_records(data) if r[1] == 0x06)
    intact = _intact(NAV2)
    for n in (chunk_at + (chunk_end - chunk_at) // 3, chunk_end - 1):
        path = tmp_path / f"cut{n}.mcap"
        path.write_bytes(data[:n])
        got, report, _counts = _read(path)
        assert report is not None and report.cut_chunk is not None
        assert report.cut_chunk.compression == compression
        assert len(got) > 0 and got == intact[: len(got)]
    if compression == "lz4":  # a cut chunk of a compression this reader cannot stream
        odd = data.replace(b"\x03\x00\x00\x00lz4", b"\x03\x00\x00\x00xz4")
        (tmp_path / "odd.mcap").write_bytes(odd[: chunk_end - 1])
        with pytest.raises(BagError, match="cannot be read"):
            open_bag(tmp_path / "odd.mcap")


def test_a_cut_recording_between_and_inside_chunks(
    recorded_episode: tuple[Path, str], tmp_path: Path
) -> None:
    """`loci run --record`'s bag: a bag folder (metadata.yaml and one MCAP file of
    uncompressed chunks, 8 topics)."""
    folder = recorded_episode[0]
    (src,) = folder.glob("*.mcap")
    intact = _intact(folder)
    data = src.read_bytes()
    chunks = [r for r in _top_records(data) if r[1] == 0x06]
    assert len(chunks) > 10
    at, _op, end = chunks[3]
    cuts = {
        "between two chunks": at,
        "inside a chunk": (at + end) // 2,
        "inside a message index": end + 20,
    }
    read = {}
    for where, n in cuts.items():
        cut = tmp_path / where.replace(" ", "_")
        shutil.copytree(folder, cut)
        (cut / src.name).write_bytes(data[:n])
        got, report, counts = _read(cut)  # the folder, with its metadata.yaml
        assert report is not None, where
        _assert_prefix(got, intact)
        assert counts == dict(Counter(topic for topic, _t, _m in got)), where
        read[where] = len(got)
        if where == "inside a chunk":
            assert report.cut_chunk is not None and report.cut_chunk.offset == at
            assert report.cut_chunk.compression == "" and report.stop_offset == at
        else:
            assert report.cut_chunk is None
            assert report.stop_offset == (at if where == "between two chunks" else end)
    assert 0 < read["between two chunks"] < read["inside a chunk"]
    assert read["inside a chunk"] < read["inside a message index"] < len(intact)


def test_replaying_a_cut_recording_replays_its_prefix(
    recorded_episode: tuple[Path, str], tmp_path: Path
) -> None:
    """A recording killed half-way (a bag folder without metadata.yaml, its MCAP file cut
    inside a chunk) replays as an intact bag of exactly the salvaged messages does, and
    the summary says what was lost."""
    from rosbags.rosbag2 import StoragePlugin, Writer

    from loci.record import loci_typestore

    folder = recorded_episode[0]
    (src,) = folder.glob("*.mcap")
    data = src.read_bytes()
    cut = tmp_path / "killed"
    cut.mkdir()
    (cut / src.name).write_bytes(data[: len(data) // 2])

    memory = new_memory()
    summary = replay_bag(cut, memory)
    lost = summary.salvage
    assert lost is not None and lost.cut_chunk is not None and not lost.data_complete
    assert 0 < lost.messages < len(_intact(folder))

    # The same messages, written as an intact bag, replay to the same memory.
    reader = open_bag(cut)
    prefix = tmp_path / "prefix"
    ts = loci_typestore()
    try:
        with Writer(prefix, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
            conns = {
                c.id: writer.add_connection(c.topic, c.msgtype, typestore=ts)
                for c in reader.connections
            }
            for c, t, raw in reader.messages():
                writer.write(conns[c.id], t, raw)
    finally:
        reader.close()
    expected_memory = new_memory()
    expected = replay_bag(prefix, expected_memory)
    assert expected.salvage is None
    fields = ("topics", "pose_topic", "poses", "from_tf", "observation_messages", "observations")
    assert all(getattr(summary, f) == getattr(expected, f) for f in fields)
    assert summary.frames == expected.frames and summary.observations > 0

    def graph(m: Any) -> list[tuple[str, tuple[float, ...]]]:
        return sorted((n.label, tuple(np.round(n.position, 6))) for n in m.graph.nodes())

    assert graph(memory) == graph(expected_memory) and len(memory.graph) > 10
    assert len(memory.episodic) == len(expected_memory.episodic) == summary.poses
    full = replay_bag(folder, new_memory())
    assert full.salvage is None and full.observation_messages > summary.observation_messages
    print(f"\n{lost.describe()}\n{summary.observations} of {full.observations} observations")


# -- fuzz: cut and flipped bytes ----------------------------------------------------------

FUZZ = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def test_fuzz_a_cut_or_flipped_mcap_reads_as_a_prefix_or_a_bag_error() -> None:
    """Two small real MCAP files (zstd with CRCs, uncompressed without), cut anywhere
    and/or with up to 3 bytes flipped: opening and reading every message gives a prefix of
    the intact bag's messages or a BagError, never another exception. (Flipped bytes that
    no checksum covers read as other values, with AnyReader as with salvage: then only
    the error type is checked.)"""
    outcomes: Counter[str] = Counter()
    sources = {src: src.read_bytes() for src in (TALKER, CDR)}

    @FUZZ
    @given(
        st.sampled_from(sorted(sources)),
        st.one_of(st.just(1.0), st.floats(0.0, 1.0)),
        st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(1, 255)), max_size=3),
    )
    def one(src: Path, cut_at: float, flips: list[tuple[float, int]]) -> None:
        intact = sources[src]
        data = bytearray(intact)
        for where, xor in flips:
            data[min(int(where * len(data)), len(data) - 1)] ^= xor
        n = round(cut_at * len(data))
        damaged = bytes(data[:n])
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "fuzz.mcap"
            path.write_bytes(damaged)
            try:
                got, report, _counts = _read(path)
            except BagError:
                outcomes["BagError"] += 1
                return
        if damaged != intact[:n]:
            outcomes["read despite flipped bytes"] += 1
            return
        _assert_prefix(got, _intact(src))
        outcomes["intact" if report is None else "salvaged prefix"] += 1

    one()
    print(f"\nfuzz: {sum(outcomes.values())} inputs: {dict(outcomes)}")
    assert outcomes["BagError"] and outcomes["salvaged prefix"] and outcomes["intact"]
