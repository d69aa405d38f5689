"""The names the head installs at the top level (the firmware's shared modules and packages, pyproject's
py-modules and packages.find) are taken by no other distribution in the environment: `schema` once was."""

from __future__ import annotations

import importlib.metadata as md
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def our_top_level_names() -> set[str]:
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    names = set(tool["py-modules"])
    for where in tool["packages"]["find"]["where"]:
        names |= {p.parent.name for p in (ROOT / where).glob("*/__init__.py")}
    return names


def test_no_other_distribution_installs_one_of_our_top_level_names() -> None:
    ours = our_top_level_names()
    assert {"chargepark", "chargeschema", "iomodule", "backplane"} <= ours  # the derivation finds them
    taken = {}
    for dist in md.distributions():
        if dist.metadata["Name"] == "chargepark":
            continue
        tops = set((dist.read_text("top_level.txt") or "").split())
        tops |= {
            f.parts[0].removesuffix(".py") for f in dist.files or () if not f.parts[0].endswith(".dist-info")
        }
        for name in tops & ours:
            taken[name] = dist.metadata["Name"]
    assert taken == {}, "top-level names also installed by: %s" % taken
