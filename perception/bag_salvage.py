"""Salvage of a damaged ROS 2 MCAP file: the messages of its readable prefix, and what was lost.

A recording killed mid-write leaves an MCAP file without its summary and footer, often
cut inside a chunk, and rosbags' reader refuses such a file whole. :class:`SalvageReader`
reads the data section from its start instead: whole records, whole chunks (checked
against their CRC as rosbags checks them), and, of a chunk the file ends in, the whole
records in the part of it that decompresses (zstd and lz4 decompress as a stream, an
uncompressed chunk is its own prefix). Reading stops at the first record that is cut or
damaged; everything from there is lost, and :class:`SalvageReport` says how much.

The reader offers the part of :class:`rosbags.highlevel.AnyReader` that perception uses
(``connections``, ``messages``, ``deserialize``, ``close``), with connections built as
rosbags builds them and messages in time order as rosbags yields them. Types come from
the schemas in the bag, never from Python modules the bag names.
"""

from __future__ import annotations

import heapq
import mmap
import struct
from collections import defaultdict
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, BinaryIO

import lz4.frame  # type: ignore[import-untyped]
from backports import zstd
from rosbags.interfaces import (
    Connection,
    ConnectionExtRosbag2,
    MessageDefinitionFormat,
)
from rosbags.rosbag2.errors import ReaderError
from rosbags.rosbag2.storage_mcap import (
    Schema,
    decompress,
    get_msgdef,
    get_qos,
    read_bytes,
    read_exact,
    read_string,
)
from rosbags.typesys import (
    Stores,
    TypesysError,
    get_types_from_idl,
    get_types_from_msg,
    get_typestore,
)
from rosbags.typesys.store import Typestore

from perception.bag import BagError

if TYPE_CHECKING:
    from rosbags.interfaces.typing import Typesdict

__all__ = ["MAGIC", "CutChunk", "SalvageReader", "SalvageReport", "is_mcap"]

MAGIC = b"\x89MCAP0\r\n"
"""The 8 bytes an MCAP file starts (and, when complete, ends) with."""

# Record opcodes (https://mcap.dev/spec): each record is opcode u8, length u64, body.
_HEADER, _FOOTER, _SCHEMA, _CHANNEL, _MESSAGE, _CHUNK, _DATA_END = 1, 2, 3, 4, 5, 6, 0x0F
_NAMES = {
    1: "Header",
    2: "Footer",
    3: "Schema",
    4: "Channel",
    5: "Message",
    6: "Chunk",
    7: "MessageIndex",
    8: "ChunkIndex",
    9: "Attachment",
    0x0A: "AttachmentIndex",
    0x0B: "Statistics",
    0x0C: "Metadata",
    0x0D: "MetadataIndex",
    0x0E: "SummaryOffset",
    0x0F: "DataEnd",
}
_RECORD = struct.Struct("<BQ")
_MESSAGE_HEAD = struct.Struct("<HIQQ")  # channel_id, sequence, log_time, publish_time
_CHUNK_HEAD = struct.Struct("<QQQI")  # start time, end time, uncompressed size, crc
_PIECE = 1 << 20  # compressed bytes fed to a stream decompressor at a time
# What rosbags and the decompressors raise on damaged bytes.
_DAMAGE = (ReaderError, ValueError, KeyError, struct.error, zstd.ZstdError, RuntimeError)


@dataclass(frozen=True, slots=True)
class CutChunk:
    """The chunk the readable part of the file ends in."""

    offset: int
    """Where the chunk record starts in the file."""
    compression: str
    recovered: int
    """Its uncompressed bytes that were read as whole records."""
    size: int
    """The uncompressed size its header announces."""
    end_ns: int
    """The log time its header gives for its last message: messages up to it are lost."""


@dataclass(frozen=True, slots=True)
class SalvageReport:
    """What a salvage read of a damaged MCAP file recovered, and what it lost."""

    path: str
    file_bytes: int
    stop_offset: int
    """File offset of the first record not read whole: the cut or the damage. The bytes
    before it were read in full; of a cut chunk starting here, see :attr:`cut_chunk`."""
    reason: str
    messages: int
    start_ns: int
    end_ns: int
    """Log times (ns) of the first and last message recovered."""
    data_complete: bool
    """The data section ended properly (a DataEnd record): no message was lost, only
    the summary or footer after it."""
    cut_chunk: CutChunk | None = None

    @property
    def unread_bytes(self) -> int:
        """Bytes from :attr:`stop_offset` to the end of the file."""
        return self.file_bytes - self.stop_offset

    def describe(self) -> str:
        """One sentence for a log or a report."""
        span = f"log times {self.start_ns * 1e-9:.3f} to {self.end_ns * 1e-9:.3f} s"
        if self.data_complete:
            return (
                f"{self.path}: MCAP without a readable summary ({self.reason}); all "
                f"{self.messages} messages of its data read ({span})"
            )
        text = (
            f"{self.path}: damaged MCAP, {self.reason}: salvaged {self.messages} messages "
            f"({span}) from the first {self.stop_offset} of {self.file_bytes} bytes"
        )
        cut = self.cut_chunk
        if cut is None:
            return f"{text}; the {self.unread_bytes} bytes after them are lost"
        kind = f"uncompressed bytes of the {cut.compression}" if cut.compression else "bytes of the"
        return (
            f"{text} and {cut.recovered} of the {cut.size} {kind} chunk starting there; the "
            f"rest of the file is lost, with whatever messages it held (the cut chunk's last "
            f"at {cut.end_ns * 1e-9:.3f} s)"
        )


def is_mcap(path: str | Path) -> bool:
    """Whether ``path`` is a file that starts with the MCAP magic."""
    p = Path(path)
    if not p.is_file():
        return False
    with p.open("rb") as f:
        return f.read(len(MAGIC)) == MAGIC


@dataclass(frozen=True, slots=True)
class _Chunk:
    """A chunk whose first ``usable`` decompressed bytes hold whole, readable records."""

    offset: int
    usable: int
    start_ns: int


@dataclass(frozen=True, slots=True)
class _Loose:
    """Consecutive message records outside chunks, as (start, end) spans of the file."""

    spans: tuple[tuple[int, int], ...]
    start_ns: int


@dataclass(frozen=True, slots=True)
class _Channel:
    topic: str
    schema_id: int
    encoding: str
    metadata: bytes


@dataclass(frozen=True, slots=True)
class _ChunkData:
    data: bytes
    """The decompressed records, or the decompressible prefix of a cut chunk's."""
    complete: bool
    compression: str
    size: int
    end_ns: int


class _StopError(Exception):
    """Reading stops at ``offset`` (of the file, or of a chunk's records) for ``reason``."""

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(reason)
        self.offset, self.reason = offset, reason


def _records(buf: bytes | mmap.mmap, start: int, end: int) -> Iterator[tuple[int, int, bytes]]:
    """(offset, opcode, body) of the whole records in ``buf[start:end]``; stops with
    :class:`_StopError` at one that is cut short."""
    pos = start
    while pos < end:
        if pos + _RECORD.size > end:
            raise _StopError(pos, f"the data ends inside a record header at byte {pos}")
        op, length = _RECORD.unpack_from(buf, pos)
        body = pos + _RECORD.size
        if length > end - body:
            name = _NAMES.get(op, f"opcode {op:#x}")
            raise _StopError(pos, f"the data ends inside a {name} record at byte {pos}")
        yield pos, op, bytes(buf[body : body + length])
        pos = body + length


def _chunk_head(bio: BinaryIO) -> tuple[int, int, int, int, str, int]:
    start_ns, end_ns, size, crc = _CHUNK_HEAD.unpack(read_exact(bio, _CHUNK_HEAD.size))
    compression = read_string(bio)
    (compressed,) = struct.unpack("<Q", read_exact(bio, 8))
    return start_ns, end_ns, size, crc, compression, compressed


def _stream_prefix(data: bytes, compression: str, size: int) -> bytes:
    """What a stream decompressor makes of the start of a compressed chunk: the whole
    blocks, up to ``size`` bytes, stopping quietly at damage."""
    if compression == "":
        return data[:size]
    if compression == "zstd":
        decoder: zstd.ZstdDecompressor | lz4.frame.LZ4FrameDecompressor = zstd.ZstdDecompressor()
    elif compression == "lz4":
        decoder = lz4.frame.LZ4FrameDecompressor()
    else:
        raise ValueError(f"a cut chunk compressed with {compression!r} cannot be read")
    out = bytearray()
    for i in range(0, len(data), _PIECE):
        if len(out) >= size or decoder.eof:
            break
        try:
            out += decoder.decompress(data[i : i + _PIECE], max_length=size - len(out))
        except _DAMAGE:
            break
    return bytes(out[:size])


def _read_chunk(mm: mmap.mmap, offset: int) -> _ChunkData:
    """The records of the chunk at ``offset``: all of them for a whole chunk (checked as
    rosbags checks it), the decompressible prefix of one the file ends in."""
    body = offset + _RECORD.size
    (length,) = struct.unpack_from("<Q", mm, offset + 1)
    available = min(length, len(mm) - body)
    bio = BytesIO(mm[body : body + min(available, 1 << 16)])
    try:
        _start, end_ns, size, crc, compression, compressed = _chunk_head(bio)
        data_start = body + bio.tell()
        if compressed > length - bio.tell():
            raise ValueError("its data is longer than its record")
        if available == length:  # a whole chunk
            data = mm[data_start : data_start + compressed]
            records = decompress(data, compression, size, crc)
            return _ChunkData(records, True, compression, size, end_ns)
        data = mm[data_start : min(data_start + compressed, len(mm))]
        return _ChunkData(_stream_prefix(data, compression, size), False, compression, size, end_ns)
    except _DAMAGE as exc:
        raise _StopError(offset, f"damaged chunk at byte {offset}: {exc}") from exc


def _message_head(body: bytes) -> tuple[int, int]:
    """(channel id, log time) of a message record's body."""
    channel, _seq, log_time, _pub = _MESSAGE_HEAD.unpack_from(body)
    return channel, log_time


class SalvageReader:
    """The readable prefix of a damaged ROS 2 MCAP file, read like rosbags' AnyReader.

    Opening scans the file, raising :class:`~perception.bag.BagError` when nothing can be
    salvaged (not an MCAP file, not the ros2 profile, no message before the damage,
    schemas rosbags cannot parse); :attr:`report` says what was recovered and lost.
    """

    is2 = True
    """A ROS 2 bag (AnyReader's flag): an MCAP file's messages are CDR."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._schemas: dict[int, Schema] = {}
        self._channels: dict[int, _Channel] = {}
        self._segments: list[_Chunk | _Loose] = []
        self._loose: list[tuple[int, int]] = []
        self._loose_start = 0
        self._counts: dict[int, int] = defaultdict(int)
        self._spans: dict[int, tuple[int, int]] = {}
        try:
            self._file = self.path.open("rb")
        except OSError as exc:
            raise BagError(f"cannot open {self.path}: {exc.strerror}") from exc
        try:
            if self._file.read(len(MAGIC)) != MAGIC:
                raise BagError(f"{self.path} is not an MCAP file")
            self._mm = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
            try:
                self.report = self._scan()
                self.connections = self._connections()
                self.typestore = self._build_typestore()
            except BaseException:
                self._mm.close()
                raise
        except BaseException:
            self._file.close()
            raise

    # -- scanning ---------------------------------------------------------------------

    def _scan(self) -> SalvageReport:
        mm, size = self._mm, len(self._mm)
        stop, complete, cut = size, False, None
        reason = "the file ends after a whole record, without its summary and footer"
        header = False
        try:
            for pos, op, body in _records(mm, len(MAGIC), size):
                if not header:
                    self._check_header(op, body, pos)
                    header = True
                elif op == _MESSAGE:
                    self._add_loose(pos, body)
                elif op in (_DATA_END, _FOOTER):
                    stop, complete = pos, True
                    reason = "the summary after its data is unreadable"
                    break
                else:
                    self._flush_loose()
                    if op == _CHUNK:
                        self._chunk(pos, _read_chunk(mm, pos))
                    else:
                        self._meta(op, body, pos)
        except _StopError as why:
            self._flush_loose()
            stop, reason = why.offset, why.reason
            if header and self._is_cut_chunk(stop):  # its decompressible prefix is read
                try:
                    data = _read_chunk(mm, stop)
                    recovered = self._chunk(stop, data)
                    cut = CutChunk(stop, data.compression, recovered, data.size, data.end_ns)
                    reason = f"the file ends inside a chunk at byte {stop}"
                except _StopError as inner:
                    reason = inner.reason
        self._flush_loose()
        if not header:
            raise BagError(f"{self.path}: damaged MCAP, {reason}, before its header")
        known = [c for c in self._counts if c in self._channels]
        messages = sum(self._counts[c] for c in known)
        if not messages:
            raise BagError(
                f"{self.path}: damaged MCAP with no message to salvage ({reason}, in a file "
                f"of {size} bytes)"
            )
        return SalvageReport(
            str(self.path),
            size,
            stop,
            reason,
            messages,
            min(self._spans[c][0] for c in known),
            max(self._spans[c][1] for c in known),
            complete,
            cut,
        )

    def _is_cut_chunk(self, pos: int) -> bool:
        mm = self._mm
        if pos + _RECORD.size > len(mm):
            return False
        op, length = _RECORD.unpack_from(mm, pos)
        return bool(op == _CHUNK and length > len(mm) - pos - _RECORD.size)

    def _check_header(self, op: int, body: bytes, pos: int) -> None:
        if op != _HEADER:
            raise BagError(f"{self.path}: damaged MCAP, no header record at byte {pos}")
        try:
            profile = read_string(BytesIO(body))
        except _DAMAGE as exc:
            raise BagError(f"{self.path}: damaged MCAP header: {exc}") from exc
        if profile != "ros2":
            raise BagError(f"{self.path}: MCAP profile {profile!r}, not ros2")

    def _meta(self, op: int, body: bytes, pos: int) -> None:
        """Schemas and channels; other records (indexes, attachments) are skipped."""
        if op not in (_SCHEMA, _CHANNEL):
            return
        bio = BytesIO(body)
        try:
            (key,) = struct.unpack("<H", read_exact(bio, 2))
            if op == _SCHEMA:
                name, encoding, text = read_string(bio), read_string(bio), read_string(bio)
                self._schemas[key] = Schema(key, name, encoding, text)
            else:
                (schema_id,) = struct.unpack("<H", read_exact(bio, 2))
                topic, encoding = read_string(bio), read_string(bio)
                self._channels[key] = _Channel(topic, schema_id, encoding, read_bytes(bio))
        except _DAMAGE as exc:
            raise _StopError(pos, f"bad {_NAMES[op]} record at byte {pos}: {exc}") from exc

    def _message(self, body: bytes, pos: int) -> int:
        """Counts a message record; returns its log time."""
        try:
            channel, t = _message_head(body)
        except struct.error as exc:
            raise _StopError(pos, f"bad Message record at byte {pos}: {exc}") from exc
        self._counts[channel] += 1
        lo, hi = self._spans.get(channel, (t, t))
        self._spans[channel] = (min(lo, t), max(hi, t))
        return t

    def _add_loose(self, pos: int, body: bytes) -> None:
        t = self._message(body, pos)
        self._loose_start = min(self._loose_start, t) if self._loose else t
        self._loose.append((pos, pos + _RECORD.size + len(body)))

    def _flush_loose(self) -> None:
        if self._loose:
            self._segments.append(_Loose(tuple(self._loose), self._loose_start))
            self._loose = []

    def _chunk(self, offset: int, chunk: _ChunkData) -> int:
        """Reads a chunk's records up to the first cut or bad one and keeps it as a
        segment; returns how many of its decompressed bytes were used. A whole chunk
        with a bad record stops the reading there."""
        usable, first, why = 0, None, None
        try:
            for pos, op, body in _records(chunk.data, 0, len(chunk.data)):
                if op == _MESSAGE:
                    t = self._message(body, pos)
                    first = t if first is None else min(first, t)
                else:
                    self._meta(op, body, pos)
                usable = pos + _RECORD.size + len(body)
        except _StopError as stop:
            why = stop
        if first is not None:
            self._segments.append(_Chunk(offset, usable, first))
        if chunk.complete and why is not None:
            raise _StopError(offset, f"damaged chunk at byte {offset}: {why.reason}") from why
        return usable

    def _connections(self) -> list[Connection]:
        out = []
        for key, ch in self._channels.items():
            schema = self._schemas.get(ch.schema_id)
            try:
                msgdef, qos = get_msgdef(schema), get_qos(ch.metadata)
            except _DAMAGE as exc:
                raise BagError(f"{self.path}: unreadable channel {ch.topic!r}: {exc}") from exc
            out.append(
                Connection(
                    key,
                    ch.topic,
                    schema.name if schema else "__schemaless__",
                    msgdef,
                    "",
                    self._counts.get(key, 0),
                    ConnectionExtRosbag2(ch.encoding, qos),
                    self,
                )
            )
        return out

    def _build_typestore(self) -> Typestore:
        """The message types of the bag's own schemas, registered as AnyReader does."""
        types: Typesdict = {}
        sep = "=" * 80 + "\n"
        try:
            for conn in self.connections:
                fmt, text = conn.msgdef.format, conn.msgdef.data
                if fmt == MessageDefinitionFormat.MSG:
                    types.update(get_types_from_msg(text, conn.msgtype))
                elif fmt == MessageDefinitionFormat.IDL and text.startswith(f"{sep}IDL: "):
                    for part in text.split(sep)[1:]:
                        types.update(get_types_from_idl(part.split("\n", 1)[1]))
                elif fmt == MessageDefinitionFormat.IDL:
                    types.update(get_types_from_idl(text))
            store = get_typestore(Stores.EMPTY)
            store.register(types)
        except (TypesysError, IndexError, *_DAMAGE) as exc:
            raise BagError(f"{self.path}: unreadable message definitions: {exc}") from exc
        return store

    # -- reading ----------------------------------------------------------------------

    def _segment(
        self, segment: _Chunk | _Loose, wanted: dict[int, Connection], start: int, stop: int
    ) -> Iterator[tuple[int, Connection | None, bytes]]:
        """A segment's messages in time order, after a first entry at its start time that
        keeps it unread until the merge reaches it (as rosbags merges its chunks)."""
        yield segment.start_ns, None, b""
        if isinstance(segment, _Chunk):
            data = _read_chunk(self._mm, segment.offset).data
            records = _records(data, 0, segment.usable)
        else:
            mm = self._mm
            records = ((a, _MESSAGE, bytes(mm[a + _RECORD.size : b])) for a, b in segment.spans)
        found = []
        for _pos, op, body in records:
            if op != _MESSAGE:
                continue
            channel, t = _message_head(body)
            if channel in wanted and start <= t < stop:
                found.append((t, wanted[channel], body[_MESSAGE_HEAD.size :]))
        found.sort(key=lambda m: m[0])
        yield from found

    def messages(
        self,
        connections: Collection[Connection] = (),
        start: int | None = None,
        stop: int | None = None,
    ) -> Iterator[tuple[Connection, int, bytes]]:
        """(connection, log time ns, raw CDR) of the salvaged messages in time order; of
        ``connections`` only when given, with ``start <= t < stop``."""
        wanted = {c.id: c for c in (connections or self.connections)}
        lo, hi = 0 if start is None else start, 2**64 if stop is None else stop
        sources = [self._segment(s, wanted, lo, hi) for s in self._segments]
        try:
            for t, conn, raw in heapq.merge(*sources, key=lambda m: m[0]):
                if conn is not None:
                    yield conn, t, raw
        except (_StopError, *_DAMAGE) as exc:  # the file changed since it was scanned
            raise BagError(f"{self.path}: damaged MCAP: {exc}") from exc

    def deserialize(self, rawdata: bytes, typ: str) -> object:
        """A message from its CDR bytes; :class:`BagError` if they do not decode."""
        try:
            return self.typestore.deserialize_cdr(rawdata, typ)
        except Exception as exc:  # rosbags raises many types for bytes that do not fit
            msg = f"{self.path}: cannot decode a {typ}: {type(exc).__name__}: {exc}"
            raise BagError(msg) from exc

    def close(self) -> None:
        self._mm.close()
        self._file.close()

    def __enter__(self) -> SalvageReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
