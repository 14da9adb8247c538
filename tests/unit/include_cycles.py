#!/usr/bin/python3
"""No circle of includes between the daemon's files or modules.

A module is foo.c with foo.h. Every `#include "bar.h"` in daemon/*.c and daemon/*.h is an
edge from the including file's module to bar's (foo.c including its own foo.h is not).
A cycle of modules (http -> export -> http) means two subsystems that call back into each
other; the check fails naming one. A cycle of files is also one of modules.

    include_cycles.py [DIR]     check DIR (default: daemon/ next to tests/)
"""

import os
import re
import sys
import tempfile

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def module(path):
    return os.path.splitext(os.path.basename(path))[0]


def graph(src_dir):
    """{module: {module it includes, ...}} for the .c and .h files of src_dir."""
    g = {}
    for name in sorted(os.listdir(src_dir)):
        if not name.endswith((".c", ".h")):
            continue
        with open(os.path.join(src_dir, name), encoding="utf-8") as f:
            text = f.read()
        m = module(name)
        g.setdefault(m, set())
        for inc in INCLUDE.findall(text):
            if not os.path.exists(os.path.join(src_dir, inc)):
                continue  # not one of ours
            t = module(inc)
            if t != m:
                g[m].add(t)
                g.setdefault(t, set())
    return g


def find_cycle(g):
    """One cycle as a list of modules [a, b, ..., a], or None."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = {m: WHITE for m in g}
    stack = []

    def visit(m):
        colour[m] = GREY
        stack.append(m)
        for t in sorted(g[m]):
            if colour[t] == GREY:
                return stack[stack.index(t):] + [t]
            if colour[t] == WHITE:
                c = visit(t)
                if c:
                    return c
        stack.pop()
        colour[m] = BLACK
        return None

    for m in sorted(g):
        if colour[m] == WHITE:
            c = visit(m)
            if c:
                return c
    return None


def self_test():
    """The check finds a cycle of modules and accepts a tree, or it is worth nothing."""
    cases = {
        # a.c -> b.h, b.c -> a.h: a cycle through the modules' .c files
        True: {"a.c": '#include "a.h"\n#include "b.h"\n', "a.h": "",
               "b.c": '#include "b.h"\n#include "a.h"\n', "b.h": "",
               "c.h": '#include <stdio.h>\n#include "missing.h"\n'},
        False: {"a.c": '#include "a.h"\n#include "b.h"\n', "a.h": '#include "c.h"\n',
                "b.c": '#include "b.h"\n#include "c.h"\n', "b.h": "", "c.h": ""},
    }
    for want, files in cases.items():
        with tempfile.TemporaryDirectory() as d:
            for name, text in files.items():
                with open(os.path.join(d, name), "w") as f:
                    f.write(text)
            got = find_cycle(graph(d)) is not None
            if got != want:
                sys.exit("include_cycles.py: self-test failed: cycle %s, want %s" %
                         (got, want))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "daemon")
    self_test()
    g = graph(src)
    cycle = find_cycle(g)
    if cycle:
        print("include cycle between daemon modules: " + " -> ".join(cycle),
              file=sys.stderr)
        return 1
    print("include graph of %s: %d modules, %d edges, no cycle" %
          (os.path.normpath(src), len(g), sum(len(v) for v in g.values())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
