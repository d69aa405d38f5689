"""The firmware image container (written by build/tools/mpy_images.py), read from a file in small pieces.

Little-endian: b"CPIM", u8 format version, u8 len + board name, u16 file count, then per file
u8 len + path, u32 size, data. Reading streams from the file so a board never holds the whole image.
"""

import os
import struct

MAGIC = b"CPIM"
FORMAT = 1
COPY_CHUNK = 512


class BadImage(ValueError):
    """The image is damaged or not for this board; the reason is sent to the head."""


def pack(board, files):
    """Container bytes of (path, data) pairs; used for tests and by the image tool's format."""
    blob = bytearray(MAGIC)
    blob += struct.pack("<BB", FORMAT, len(board)) + board.encode()
    blob += struct.pack("<H", len(files))
    for path, data in files:
        blob += struct.pack("<B", len(path)) + path.encode() + struct.pack("<I", len(data)) + data
    return bytes(blob)


def _read(f, n):
    data = f.read(n)
    if len(data) != n:
        raise BadImage("truncated image")
    return data


def read_board(f):
    """Check magic and format; return the board name the image was built for."""
    if _read(f, 4) != MAGIC:
        raise BadImage("not a firmware image")
    fmt, n = struct.unpack("<BB", _read(f, 2))
    if fmt != FORMAT:
        raise BadImage("image format %d unsupported" % fmt)
    return _read(f, n).decode()


def _safe(path):
    parts = path.split("/")
    if path.startswith("/") or ".." in parts or "" in parts:
        raise BadImage("bad path in image: %s" % path)
    return parts


def _makedirs(path):
    done = "/" if path.startswith("/") else ""
    for part in path.split("/"):
        if not part:
            continue
        done = done + part if done in ("", "/") else done + "/" + part
        try:
            os.mkdir(done)
        except OSError:
            pass  # exists


def unpack_file(image_path, dest, board):
    """Unpack the image file into directory `dest` (emptied first); BadImage if foreign or damaged."""
    with open(image_path, "rb") as f:
        found = read_board(f)
        if found != board:
            raise BadImage("image is for board %s, this is %s" % (found, board))
        (count,) = struct.unpack("<H", _read(f, 2))
        remove_tree(dest)
        _makedirs(dest)
        for _ in range(count):
            (n,) = struct.unpack("<B", _read(f, 1))
            rel = _read(f, n).decode()
            parts = _safe(rel)
            (size,) = struct.unpack("<I", _read(f, 4))
            if len(parts) > 1:
                _makedirs(dest + "/" + "/".join(parts[:-1]))
            with open(dest + "/" + rel, "wb") as out:
                while size:
                    piece = _read(f, min(size, COPY_CHUNK))
                    out.write(piece)
                    size -= len(piece)
        if f.read(1):
            raise BadImage("trailing bytes after the last file")


def remove_tree(path):
    try:
        entries = os.listdir(path)
    except OSError:
        return
    for name in entries:
        full = path + "/" + name
        try:
            os.remove(full)
        except OSError:
            remove_tree(full)
    os.rmdir(path)
