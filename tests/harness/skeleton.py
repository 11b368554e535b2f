"""Cut each stage's exercise skeleton from its reference C-API module.

In the reference `<stage>/<topic>_capi.c`, every body a participant writes
is a marked region (the marker lines stand alone, indentation free):

    /* [exercise part 1: extern_add] */
    ...the reference lines, left out of the skeleton...
    /* [stub]
    PyErr_SetString(PyExc_NotImplementedError,
                    "write extern_add(): exercise 1, part 1 (see hints)");
    return NULL;
    [/exercise part 1] */

The skeleton `<stage>/exercise/<topic>_capi.c` is the reference with a
standard header in front and each region replaced by its stub lines,
between two marker comments that name the part.  Regions do not nest; a
marker that is malformed or out of place is an error naming file and line.
Parts are numbered 1, 2, ... (several regions may belong to one part).

    python3 tests/harness/skeleton.py write [N ...]  # make skeletons
    python3 tests/harness/skeleton.py check [N ...]  # exit 1 on a drift
    python3 tests/harness/skeleton.py parts N        # stage N's parts, JSON
"""

import argparse
import json
import re
import sys
from pathlib import Path

# support.py is in tests/; importing it puts tests/harness/ on sys.path too
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import support  # noqa: E402

START = re.compile(r"^[ \t]*/\*[ \t]*\[exercise part (\d+): ([A-Za-z_]\w*)\]"
                   r"[ \t]*\*/[ \t]*$")
STUB = re.compile(r"^[ \t]*/\*[ \t]*\[stub\][ \t]*$")
END = re.compile(r"^[ \t]*\[/exercise part (\d+)\][ \t]*\*/[ \t]*$")
# Anything that looks like a marker must be one of the three forms above.
LOOKS_LIKE = re.compile(r"\[/?exercise part\b|\[stub\]")

# Stage 05's module was tales_from_ffi.c before it became logger_capi.c.
LEGACY_REFERENCES = ["tales_from_ffi.c"]


class MarkerError(Exception):
    """A malformed or misplaced marker: the message names file and line."""


class Region:
    def __init__(self, part, name, start, stub, end, indent):
        self.part, self.name = part, name
        self.start, self.stub, self.end = start, stub, end  # 0-based lines
        self.indent = indent

    def as_dict(self, lines):
        return {"part": self.part, "name": self.name,
                "line": self.start + 1,
                "body": lines[self.start + 1:self.stub],
                "stub": lines[self.stub + 1:self.end]}


def reference_of(stage):
    """The reference C-API module of a stage folder, or None."""
    found = sorted(p for p in stage.glob("*_capi.c")
                   if not p.name.startswith("_"))
    if len(found) == 1:
        return found[0]
    if not found:
        for name in LEGACY_REFERENCES:
            if (stage / name).is_file():
                return stage / name
        return None
    raise MarkerError("%s: more than one reference module: %s" % (
        stage.name, ", ".join(p.name for p in found)))


def skeleton_of(stage):
    ref = reference_of(stage)
    return None if ref is None else stage / "exercise" / ref.name


def parse(text, where):
    """The regions of a reference text, checked; `where` names the file."""
    lines = text.splitlines()
    regions = []
    open_ = None            # [part, name, start, stub or None, indent]
    for number, line in enumerate(lines):
        at = "%s:%d" % (where, number + 1)
        start, stub, end = START.match(line), STUB.match(line), END.match(line)
        if start:
            if open_ is not None:
                raise MarkerError("%s: [exercise part %s] starts inside part "
                                  "%s (opened at line %d): regions do not "
                                  "nest" % (at, start.group(1), open_[0],
                                            open_[2] + 1))
            indent = line[:len(line) - len(line.lstrip())]
            open_ = [int(start.group(1)), start.group(2), number, None, indent]
        elif stub:
            if open_ is None:
                raise MarkerError("%s: [stub] outside an exercise region" % at)
            if open_[3] is not None:
                raise MarkerError("%s: a second [stub] in part %d" % (
                    at, open_[0]))
            open_[3] = number
        elif end:
            if open_ is None:
                raise MarkerError("%s: [/exercise part %s] without its start"
                                  % (at, end.group(1)))
            if open_[3] is None:
                raise MarkerError("%s: part %d ends without its "
                                  "'/* [stub]' comment" % (at, open_[0]))
            if int(end.group(1)) != open_[0]:
                raise MarkerError("%s: [/exercise part %s] closes part %d" % (
                    at, end.group(1), open_[0]))
            if open_[3] + 1 == number:
                raise MarkerError("%s: part %d has an empty stub" % (
                    at, open_[0]))
            regions.append(Region(open_[0], open_[1], open_[2], open_[3],
                                  number, open_[4]))
            open_ = None
        elif LOOKS_LIKE.search(line):
            raise MarkerError(
                "%s: malformed exercise marker: %r (the forms are "
                "'/* [exercise part N: name] */', '/* [stub]' and "
                "'[/exercise part N] */', each alone on its line)"
                % (at, line.strip()))
        elif open_ is not None and open_[3] is not None and "*/" in line:
            raise MarkerError("%s: '*/' inside the stub of part %d ends the "
                              "comment early" % (at, open_[0]))
    if open_ is not None:
        raise MarkerError("%s:%d: part %d is never closed" % (
            where, open_[2] + 1, open_[0]))
    parts = sorted({r.part for r in regions})
    if parts and parts != list(range(1, len(parts) + 1)):
        raise MarkerError("%s: parts are numbered %s; they must be 1, 2, ... "
                          "with none missing" % (where, parts))
    return lines, regions


def stage_number(stage):
    return int(stage.name[:2])


def parts_of(regions):
    """[(part, [names])] in part order."""
    parts = {}
    for region in regions:
        parts.setdefault(region.part, []).append(region.name)
    return sorted(parts.items())


def header(stage, ref, regions):
    n = stage_number(stage)
    count = len(parts_of(regions))
    lines = [
        "/* Exercise %d: %s of stage %s, with %s left for you"
        % (n, ref.name, stage.name,
           "one part" if count == 1 else "%d parts" % count),
        " * to write.  This file is yours to edit.",
        " *",
        " * Write the parts in this order; each is the lines between",
        " * \"[exercise part N: name]\" and \"[/exercise part N: name]\",",
        " * which now raise NotImplementedError saying what to write:",
    ]
    for part, names in parts_of(regions):
        lines.append(" *   part %d: %s" % (part, ", ".join(
            "%s()" % name for name in names)))
    lines += [
        " *",
        " * Check your work from the top folder:  make check-%d" % n,
        " * It runs the checks in part order; for the first failing one it",
        " * prints a nudge, then the API to reach for (all of them, in order:",
        " * %s/exercise/hints.txt).  Read only as much as you need."
        % stage.name,
        " * The solution is the reference module ../%s." % ref.name,
        " *",
        " * Generated from ../%s by tests/harness/skeleton.py" % ref.name,
        " * (make skeletons): outside the parts, the reference unchanged.",
        " */",
    ]
    return lines


def generate(stage):
    """(skeleton path, generated text) of a stage; MarkerError when its
    reference has no regions or a malformed one."""
    ref = reference_of(stage)
    if ref is None:
        raise MarkerError("%s: no reference module (*_capi.c)" % stage.name)
    rel = "%s/%s" % (stage.name, ref.name)
    return skeleton_of(stage), generate_text(stage, ref, ref.read_text(), rel)


def generate_text(stage, ref, text, rel):
    lines, regions = parse(text, rel)
    if not regions:
        raise MarkerError("%s: no exercise region is marked" % rel)
    out = header(stage, ref, regions)
    at = 0
    for region in regions:
        out += lines[at:region.start]
        ind = region.indent
        out.append("%s/* [exercise part %d: %s] */" % (
            ind, region.part, region.name))
        out += lines[region.stub + 1:region.end]
        out.append("%s/* [/exercise part %d: %s] */" % (
            ind, region.part, region.name))
        at = region.end + 1
    out += lines[at:]
    return "\n".join(out) + "\n"


def regions_of(stage):
    """[{part, name, line, body, stub}] of a stage's reference."""
    ref = reference_of(stage)
    if ref is None:
        return []
    lines, regions = parse(ref.read_text(), "%s/%s" % (stage.name, ref.name))
    return [r.as_dict(lines) for r in regions]


def select(names):
    if not names:
        return [s for s in support.stages() if reference_of(s) is not None]
    return [support.stage_dir(n) for n in names]


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="exercise skeletons from the reference modules")
    parser.add_argument("command", choices=["write", "check", "parts"])
    parser.add_argument("stages", nargs="*",
                        help="stage numbers (default: all)")
    args = parser.parse_args(argv)
    status = 0
    try:
        stages = select(args.stages)
    except LookupError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.command == "parts":
        print(json.dumps({s.name: regions_of(s) for s in stages}, indent=1))
        return 0
    for stage in stages:
        try:
            path, text = generate(stage)
        except MarkerError as exc:
            print("error: %s" % exc, file=sys.stderr)
            status = 1
            continue
        rel = path.relative_to(support.ROOT)
        old = path.read_text() if path.is_file() else None
        if args.command == "write":
            if old == text:
                print("  unchanged %s" % rel)
            else:
                path.parent.mkdir(exist_ok=True)
                path.write_text(text)
                print("  wrote     %s" % rel)
        elif old != text:
            print("  drifted   %s (make skeletons rewrites it from %s)" % (
                rel, reference_of(stage).name))
            status = 1
        else:
            print("  ok        %s" % rel)
    return status


if __name__ == "__main__":
    sys.exit(main())
