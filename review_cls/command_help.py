"""``--help`` of every command, read from ``conf/`` without composing a config.

Hydra's own ``--help`` composes the whole config and lists every group of the search path (about a second); this
prints the command's usage, its config groups with their options, and its top-level settings with their comments,
from the YAML text alone. ``--hydra-help``, ``--cfg job`` and the rest are still Hydra's.
"""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

CONF = Path(__file__).resolve().parent.parent / "conf"
# every command, in the order users meet them: its config conf/<command>.yaml, its shim review_cls/<command>.py, its
# console script review-cls-<command> (declared in pyproject.toml's [project.scripts])
COMMANDS = ("train", "evaluate", "predict", "export", "baseline", "pretrain", "audit", "select", "trends")
SCRIPT_PREFIX = "review-cls-"
HELP_FLAGS = ("--help", "-h")
# groups a command takes with `+group=option` (not in its defaults list)
APPENDED_GROUPS = {"train": ("experiment",)}
SETTING = re.compile(r"^([A-Za-z_]\w*):\s*(.*)$")
NESTED_SETTING = re.compile(r"^  ([A-Za-z_]\w*):\s*(.*)$")
GROUP_DEFAULT = re.compile(r"^\s*-\s*(?:override\s+)?([A-Za-z_]\w*):\s*(\S+)\s*$")


def answer_help(command: str, argv: list[str] | None = None) -> None:
    """Print the help of ``command`` and exit 0 when ``argv`` (default: ``sys.argv[1:]``) asks for it."""
    if any(flag in (sys.argv[1:] if argv is None else argv) for flag in HELP_FLAGS):
        print(help_text(command))
        raise SystemExit(0)


def help_text(command: str) -> str:
    lines = (CONF / f"{command}.yaml").read_text(encoding="utf-8").splitlines()
    usage = [line.lstrip("# ").rstrip() for line in _leading_comments(lines)]
    groups = [*_defaults_groups(lines), *APPENDED_GROUPS.get(command, ())]
    parts = [f"python -m review_cls.{command} [group=option ...] [key=value ...]", "", *usage, "",
             "Config groups (group=option):"]
    for group in groups:
        prefix = "+" if group in APPENDED_GROUPS.get(command, ()) else ""
        parts.append(f"  {prefix}{group}: {', '.join(options(group))}")
    if not groups:
        parts.append("  (none)")
    parts += ["", f"Settings (key=value; conf/{command}.yaml):"]
    for key, value, comment in settings(lines):
        parts.append(f"  {key}={value}" + (f"    # {comment}" if comment else ""))
    examples = [f"{group}.{key}=..." for group, key in _group_examples(lines)]
    nested = f"Nested keys of a group: {', '.join(examples)} " if examples else ""
    parts += ["", f"{nested}(the composed config: --cfg job; Hydra's own help: --hydra-help).",
              f"Commands: {', '.join(COMMANDS)} (python -m review_cls.<command>, or the console script "
              f"{SCRIPT_PREFIX}<command>)."]
    return "\n".join(parts)


def _group_examples(lines: list[str]) -> list[tuple[str, str]]:
    """A setting of the default option of the command's first three groups that have one (``data.path``)."""
    examples = []
    for group, option in _defaults_options(lines):
        path = CONF / group / f"{option}.yaml"
        keys = [key for key, _, _ in settings(path.read_text(encoding="utf-8").splitlines())
                if not key.startswith("_") and "." not in key] if path.is_file() else []
        examples += [(group, keys[0])] if keys else []
    return examples[:3]


def options(group: str) -> list[str]:
    """The group's options as ``+group=`` takes them: its own files first, then those of its subfolders
    (``ablation/rdrop``), each sorted."""
    names = [path.relative_to(CONF / group).with_suffix("").as_posix() for path in (CONF / group).rglob("*.yaml")]
    return sorted(names, key=lambda name: (name.count("/"), name))


def _leading_comments(lines: list[str]) -> list[str]:
    comments = []
    for line in lines:
        if not line.startswith("#"):
            break
        comments.append(line)
    return comments


def _defaults_groups(lines: list[str]) -> list[str]:
    """The config groups in the ``defaults:`` list that live in ``conf/`` (Hydra's own groups left out)."""
    return [group for group, _ in _defaults_options(lines)]


def _defaults_options(lines: list[str]) -> list[tuple[str, str]]:
    """Each such group with its default option."""
    start = lines.index("defaults:") + 1 if "defaults:" in lines else len(lines)
    found = []
    for line in lines[start:]:
        if not line.startswith((" ", "\t", "-")):
            break
        match = GROUP_DEFAULT.match(line)
        if match and (CONF / match.group(1)).is_dir() and match.group(1) != "hydra":
            found.append((match.group(1), match.group(2)))
    return found


def settings(lines: list[str]) -> list[tuple[str, str, str]]:
    """Top-level keys and the keys one level inside a block (``select.strategy``), each with its value and the
    comment just above; a block with its own value list is shown as ``{...}``."""
    found, comment, parent = [], [], None
    for line in lines:
        if line.lstrip().startswith("#"):
            comment.append(line.strip().lstrip("# "))
            continue
        top, nested = SETTING.match(line), NESTED_SETTING.match(line)
        if top and top.group(1) != "defaults":
            parent = None if top.group(2) else top.group(1)
            if top.group(2):
                found.append((top.group(1), top.group(2), _shorten(comment)))
        elif nested and parent and nested.group(2):
            found.append((f"{parent}.{nested.group(1)}", nested.group(2), _shorten(comment)))
        elif top is None and not line.startswith((" ", "\t")):
            parent = None
        comment = []
    return found


def _shorten(comment: list[str]) -> str:
    return textwrap.shorten(" ".join(comment), 100, placeholder=" ...")
