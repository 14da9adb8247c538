"""No SQL text is built from input: every statement fundd or fundctl sends is a constant,
with values as parameters. A grep over the sources, so that a new exception is a
deliberate change to this file, reviewed like any other."""

import glob
import os
import re

from fl.env import ROOT

C_SOURCES = sorted(glob.glob(os.path.join(ROOT, "daemon", "*.c")) +
                   glob.glob(os.path.join(ROOT, "clients", "*.c")))

SQL_TEXT = re.compile(r"\bSELECT\b.*\bFROM\b|\bINSERT INTO\b|\bUPDATE \S+ SET\b|"
                      r"\bDELETE FROM\b|\bCOPY \(|\bWHERE \w+\s*[<>=]|\bEXECUTE\b", re.S)
# printf-family calls whose format string holds SQL: a statement assembled at run time
PRINTF = re.compile(r"\b(x?v?asprintf|v?snprintf|v?sprintf|evbuffer_add_printf)\s*\(")
# libpq calls that send SQL text, and the position of the argument that holds it
EXEC = re.compile(r"\b(PQexec|PQsendQuery|PQexecParams|PQsendQueryParams|PQprepare|"
                  r"PQsendPrepare)\s*\(")
SQL_ARG = {"PQexec": 1, "PQsendQuery": 1, "PQexecParams": 1, "PQsendQueryParams": 1,
           "PQprepare": 2, "PQsendPrepare": 2}

# The SQL argument of each libpq call, when it is not a string literal: each is a constant.
ALLOWED_ARGS = {
    ("audit_cmd.c", "sql"),           # run(): each caller passes a literal
    ("db_conn.c", "st->sql"),         # queries.c: a constant table of statements
    ("export.c", "EXPORT_RANGE_SQL"),  # a macro of literals, with $1 and $2
    ("export.c", "x->sql"),           # one of five string literals (export_start)
    ("migrate.c", "sql"),             # the text of a migration file, or a literal
    ("person_seal.c", "sql"),         # exec_params(): each caller passes a literal
}


def _calls(text, start):
    """The text of the call whose '(' is at start, up to its matching ')'."""
    depth, i, in_str = 0, start, False
    while i < len(text):
        ch = text[i]
        if in_str:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return text[start:i + 1]
        i += 1
    return text[start:]


def _args(call):
    """The top-level arguments of a call's text "(a, f(b, c), "x,y")"."""
    args, depth, cur, in_str, i = [], 0, "", False, 0
    while i < len(call):
        ch = call[i]
        if in_str:
            cur += ch
            if ch == "\\":
                cur += call[i + 1]
                i += 1
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
            cur += ch
        elif ch in "({[":
            depth += 1
            if depth > 1:
                cur += ch
        elif ch in ")}]":
            depth -= 1
            if depth == 0:
                args.append(cur.strip())
                break
            cur += ch
        elif ch == "," and depth == 1:
            args.append(cur.strip())
            cur = ""
        else:
            cur += ch
        i += 1
    return args


def _strings(call):
    return re.findall(r'"((?:[^"\\]|\\.)*)"', call)


def test_no_sql_in_format_strings():
    hits = []
    for path in C_SOURCES:
        with open(path) as f:
            text = f.read()
        for m in PRINTF.finditer(text):
            call = _calls(text, text.index("(", m.start()))
            fmt = "".join(_strings(call))
            if SQL_TEXT.search(fmt) and "%" in fmt:
                hits.append("%s: %s" % (os.path.basename(path), call[:120]))
    assert not hits, "SQL built with printf:\n" + "\n".join(hits)


def test_libpq_calls_send_constants():
    bad = []
    seen = 0
    for path in C_SOURCES:
        name = os.path.basename(path)
        with open(path) as f:
            text = f.read()
        for m in EXEC.finditer(text):
            if text[:m.start()].rstrip().endswith("*"):
                continue  # in a comment
            seen += 1
            args = _args(_calls(text, text.index("(", m.start())))
            arg = args[SQL_ARG[m.group(1)]]
            if arg.startswith('"'):
                continue  # a literal
            if (name, arg) not in ALLOWED_ARGS:
                bad.append("%s: %s(... %s ...)" % (name, m.group(1), arg[:80]))
    assert seen >= 6, "the grep found too few libpq calls: is the pattern still right?"
    assert not bad, "libpq called with SQL that is not a constant:\n" + "\n".join(bad)


# Other EXECUTEs of migrations, each a constant but for a name quoted with %I
ALLOWED_EXECUTE = {
    ("0008_hot_path.sql",
     "EXECUTE format('ALTER DATABASE %I SET random_page_cost = 1.1', current_database());"),
}


def test_dynamic_sql_only_in_the_dispatch_generator():
    """EXECUTE of a built string appears in the migrations only where fl.rebuild_dispatch()
    generates api.call() from the catalog (names quoted with %I/%L, never request data),
    and in the statements of ALLOWED_EXECUTE."""
    hits = []
    for path in sorted(glob.glob(os.path.join(ROOT, "migrations", "*.sql")) +
                       glob.glob(os.path.join(ROOT, "migrations", "functions", "*.sql"))):
        with open(path) as f:
            text = f.read()
        for m in re.finditer(r"^\s*EXECUTE\b(?! FUNCTION).*$", text, re.M):
            if (os.path.basename(path), m.group(0).strip()) in ALLOWED_EXECUTE:
                continue
            before = text[:m.start()]
            fn = before.rfind("CREATE ")
            header = before[fn:fn + 120] if fn >= 0 else m.group(0)
            if "fl.rebuild_dispatch()" not in header:
                hits.append("%s: %s" % (os.path.basename(path), header.splitlines()[0]))
    assert not hits, "EXECUTE outside fl.rebuild_dispatch():\n" + "\n".join(hits)
