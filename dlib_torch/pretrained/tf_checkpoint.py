"""Reads TensorFlow checkpoints (V2 tensor bundles) without TensorFlow.

A checkpoint PREFIX is `PREFIX.index`, an SSTable (LevelDB's table format)
whose keys are variable names and whose values are BundleEntryProto messages
(dtype, shape, shard, offset, size, masked CRC32C), the empty key holding the
BundleHeaderProto; and `PREFIX.data-SSSSS-of-NNNNN`, the tensors' raw
little-endian bytes at those offsets.

Why our own reader: PyPI has no maintained TensorFlow-free reader of this
format (the readers there import TensorFlow, or are unmaintained ports of
the TF2 object graph), and the part of the format a checkpoint uses is
small: uncompressed table blocks (TensorFlow writes the index without
compression), and a handful of protobuf fields read here by hand from the
wire format, so that no protobuf package or generated code is needed.
Everything read is checked (block and tensor CRC32Cs, sizes, offsets), and
any damage is one errors.UserError naming the file.
"""
import os
import struct

import numpy as np

from dlib_torch.utils import errors

_TABLE_MAGIC = 0xdb4775248b80fb57
_FOOTER_SIZE = 48
_BLOCK_TRAILER_SIZE = 5  # compression type byte + masked CRC32C
_MASK_DELTA = 0xa282ead8

# tensorflow/core/framework/types.proto DataType -> numpy little-endian dtype.
_DTYPES = {1: "<f4", 2: "<f8", 3: "<i4", 4: "u1", 5: "<i2", 6: "i1", 9: "<i8", 10: "?",
           17: "<u2", 19: "<f2", 22: "<u4", 23: "<u8"}


# --- CRC32C (Castagnoli), as TensorFlow's checksums use it -------------------------------

def _crc_table():
  table = np.zeros(256, dtype=np.uint32)
  for i in range(256):
    c = i
    for _ in range(8):
      c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    table[i] = c
  return table


_TABLE = _crc_table()
_TABLE_LIST = [int(v) for v in _TABLE]


def _update_bytes(crc, data):
  for byte in data:
    crc = _TABLE_LIST[(crc ^ byte) & 0xff] ^ (crc >> 8)
  return crc


def _zero_shift_tables(length):
  """Four 256-entry tables of the linear map "run the register through `length` zero bytes"."""
  columns = np.array([1 << k for k in range(32)], dtype=np.uint32)
  for _ in range(length):
    columns = _TABLE[columns & 0xff] ^ (columns >> 8)
  tables = []
  for part in range(4):
    table = [0] * 256
    for value in range(1, 256):
      low = (value & -value).bit_length() - 1
      table[value] = table[value & (value - 1)] ^ int(columns[8 * part + low])
    tables.append(table)
  return tables


def crc32c(data):
  """CRC32C of bytes; large inputs run as 4096 interleaved lanes in numpy, then combined."""
  data = np.frombuffer(data, dtype=np.uint8)
  crc = 0xffffffff
  lanes = min(4096, data.size // 64)
  if lanes >= 16:
    length = data.size // lanes
    block = data[:lanes * length].reshape(lanes, length).T.copy()
    registers = np.zeros(lanes, dtype=np.uint32)
    for row in block:  # each lane's register from zero, all lanes at once
      registers = _TABLE[(registers ^ row) & 0xff] ^ (registers >> 8)
    t0, t1, t2, t3 = _zero_shift_tables(length)
    for register in registers.tolist():  # crc(A || B) = shift(crc(A), |B|) ^ lane(B)
      crc = (t0[crc & 0xff] ^ t1[(crc >> 8) & 0xff] ^ t2[(crc >> 16) & 0xff] ^
             t3[crc >> 24] ^ register)
    data = data[lanes * length:]
  return _update_bytes(crc, data.tobytes()) ^ 0xffffffff


def unmask_crc(masked):
  rotated = (masked - _MASK_DELTA) & 0xffffffff
  return ((rotated >> 17) | (rotated << 15)) & 0xffffffff


# --- protobuf wire format and SSTable blocks ----------------------------------------------

def _varint(buffer, pos):
  result = shift = 0
  while True:
    if pos >= len(buffer) or shift > 63:
      raise ValueError("truncated varint")
    byte = buffer[pos]
    pos += 1
    result |= (byte & 0x7f) << shift
    if not byte & 0x80:
      return result, pos
    shift += 7


def _fields(message):
  """{field number: [values]} of a protobuf message (ints, bytes for length-delimited)."""
  fields = {}
  pos = 0
  while pos < len(message):
    key, pos = _varint(message, pos)
    number, wire = key >> 3, key & 7
    if wire == 0:
      value, pos = _varint(message, pos)
    elif wire == 1:
      value, pos = struct.unpack_from("<Q", message, pos)[0], pos + 8
    elif wire == 2:
      size, pos = _varint(message, pos)
      value, pos = bytes(message[pos:pos + size]), pos + size
    elif wire == 5:
      value, pos = struct.unpack_from("<I", message, pos)[0], pos + 4
    else:
      raise ValueError("unsupported wire type {}".format(wire))
    if pos > len(message):
      raise ValueError("truncated message")
    fields.setdefault(number, []).append(value)
  return fields


def _block(table, handle, path):
  offset, pos = _varint(handle, 0)
  size, _ = _varint(handle, pos)
  end = offset + size + _BLOCK_TRAILER_SIZE
  if end > len(table):
    raise ValueError("block past the end of the file")
  contents = table[offset:offset + size + 1]
  if contents[-1] != 0:
    raise errors.UserError("{} has compressed blocks; TensorFlow writes checkpoint indexes "
                           "uncompressed, so this is not a checkpoint index.".format(path))
  stored = struct.unpack_from("<I", table, offset + size + 1)[0]
  if crc32c(contents) != unmask_crc(stored):
    raise ValueError("block checksum mismatch")
  return table[offset:offset + size]


def _block_entries(block):
  """(key, value) pairs of a table block (prefix-compressed keys, restart array at the end)."""
  num_restarts = struct.unpack_from("<I", block, len(block) - 4)[0]
  end = len(block) - 4 - 4 * num_restarts
  if end < 0:
    raise ValueError("bad restart array")
  pos, key = 0, b""
  while pos < end:
    shared, pos = _varint(block, pos)
    unshared, pos = _varint(block, pos)
    value_size, pos = _varint(block, pos)
    if shared > len(key) or pos + unshared + value_size > end:
      raise ValueError("bad block entry")
    key = key[:shared] + bytes(block[pos:pos + unshared])
    pos += unshared
    yield key, bytes(block[pos:pos + value_size])
    pos += value_size


def _read_table(path):
  with open(path, "rb") as f:
    table = f.read()
  if len(table) < _FOOTER_SIZE or struct.unpack_from("<Q", table, len(table) - 8)[0] != \
      _TABLE_MAGIC:
    raise ValueError("no table footer")
  footer = table[-_FOOTER_SIZE:]
  _, pos = _varint(footer, 0)  # metaindex handle: offset, size
  _, pos = _varint(footer, pos)
  index = _block(table, footer[pos:], path)
  entries = {}
  for _, handle in _block_entries(index):
    for key, value in _block_entries(_block(table, handle, path)):
      entries[key.decode("utf-8")] = value
  return entries


class TensorEntry:
  """Where one tensor lives: dtype, shape, shard, offset, size, crc32c (BundleEntryProto)."""

  def __init__(self, name, message):
    fields = _fields(message)
    self.name = name
    dtype = fields.get(1, [0])[0]
    if 7 in fields:
      raise errors.UserError("Variable {} is partitioned (saved in slices); only whole "
                             "tensors are read.".format(name))
    self.dtype = _DTYPES.get(dtype)
    shape = _fields(fields[2][0]) if 2 in fields else {}
    self.shape = tuple(_fields(dim).get(1, [0])[0] for dim in shape.get(2, []))
    self.shard = fields.get(3, [0])[0]
    self.offset = fields.get(4, [0])[0]
    self.size = fields.get(5, [0])[0]
    self.crc32c = fields.get(6, [None])[0]
    self.tf_dtype = dtype


class CheckpointReader:
  """The variables of the checkpoint PREFIX (PREFIX.index and its PREFIX.data-* shards)."""

  def __init__(self, prefix):
    self.prefix = prefix
    index_path = prefix + ".index"
    if not os.path.isfile(index_path):
      raise errors.UserError("Missing checkpoint index {}.".format(index_path))
    try:
      table = _read_table(index_path)
      header = _fields(table.pop("", b""))
      self.num_shards = header.get(1, [1])[0]
      if header.get(2, [0])[0] != 0:
        raise errors.UserError("{} is a big-endian checkpoint; only little-endian ones are "
                               "read.".format(index_path))
      self.entries = {name: TensorEntry(name, value) for name, value in table.items()}
    except (ValueError, IndexError, struct.error, UnicodeDecodeError) as e:
      raise errors.UserError("{} is not a readable TensorFlow checkpoint index ({}).".format(
          index_path, e)) from e

  def variable_shapes(self):
    """{name: shape} of every variable, as tf.train.list_variables gives them."""
    return {name: entry.shape for name, entry in self.entries.items()}

  def _shard_path(self, shard):
    return "{}.data-{:05d}-of-{:05d}".format(self.prefix, shard, self.num_shards)

  def tensor(self, name):
    """The variable's value as a numpy array; damage or absence is a UserError."""
    entry = self.entries.get(name)
    if entry is None:
      raise errors.UserError("Checkpoint {} has no variable {}.".format(self.prefix, name))
    if entry.dtype is None:
      raise errors.UserError("Variable {} of {} has TensorFlow dtype {}, which is not "
                             "read.".format(name, self.prefix, entry.tf_dtype))
    dtype = np.dtype(entry.dtype)
    if entry.size != dtype.itemsize * int(np.prod(entry.shape)):
      raise errors.UserError("Variable {} of {}: {} bytes do not hold shape {}.".format(
          name, self.prefix, entry.size, entry.shape))
    path = self._shard_path(entry.shard)
    if not os.path.isfile(path):
      raise errors.UserError("Missing checkpoint data file {}.".format(path))
    with open(path, "rb") as f:
      f.seek(entry.offset)
      data = f.read(entry.size)
    if len(data) != entry.size:
      raise errors.UserError("Checkpoint data file {} is truncated: variable {} ends at byte "
                             "{}, the file at {}.".format(path, name, entry.offset + entry.size,
                                                          os.path.getsize(path)))
    if entry.crc32c is not None and crc32c(data) != unmask_crc(entry.crc32c):
      raise errors.UserError("Checkpoint data file {} is corrupt: variable {} fails its "
                             "checksum.".format(path, name))
    return np.frombuffer(data, dtype=dtype).reshape(entry.shape).astype(dtype.newbyteorder("="))
