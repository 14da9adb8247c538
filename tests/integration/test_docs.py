"""The interface reference stays true to the code, and the docs stay inside the repository.

docs/protocol.md documents every method of the daemon's method table (its roles, its params,
whether it changes something) and every error reason the daemon can give; these tests read
the sources and fail when the two part ways:

- a method in the table that the reference lacks, or one the reference documents that does
  not exist; a method whose documented roles, params or "Mutation." mark differ from the
  table's;
- an error reason raised by the SQL (migrations/**/*.sql: fl.rpc_error(), the refusals of
  api.call and api.authorize, the idempotency mismatch) or by the C (daemon/*.c: the
  JSON-RPC parser, the param checks, the HTTP layer) that the reference's "Errors" section
  does not name; a reason in its table of reasons that nothing raises;
- a link in README.md or docs/*.md that leaves the repository: a URL, or a relative path
  that escapes the checkout or names no file in it (anchors into Markdown files must name
  a heading there).

Standard library only, no fixtures and no daemon: it reads files.
"""
import glob
import os
import re

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REFERENCE = os.path.join(ROOT, "docs", "protocol.md")
ROLE_NAMES = ("admin", "approver", "auditor", "partner")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def rel(path):
    return os.path.relpath(path, ROOT)


# --- reading C and SQL ------------------------------------------------------------------

def strip_c_comments(text):
    """C source without its comments; string and character literals kept whole."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
            out.append(" ")
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def strip_sql_comments(text):
    """SQL without its -- comments; quoted strings kept whole."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == "'":
            j = i + 1
            while j < n:
                if text[j] == "'" and text.startswith("''", j):
                    j += 2
                elif text[j] == "'":
                    break
                else:
                    j += 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def call_args(text, start, quotes):
    """The arguments of the call whose '(' is at text[start], split at top-level commas.
    quotes: the string delimiters; with both (C), a backslash escapes; SQL doubles a quote,
    which reads here as two strings side by side."""
    args, depth, cur, i = [], 0, [], start
    escapes = '"' in quotes
    while i < len(text):
        c = text[i]
        if c in quotes:
            j = i + 1
            while j < len(text) and text[j] != c:
                j += 2 if (escapes and text[j] == "\\") else 1
            cur.append(text[i:j + 1])
            i = j + 1
            continue
        if c == "(":
            depth += 1
            if depth == 1:
                i += 1
                continue
        elif c == ")":
            depth -= 1
            if depth == 0:
                args.append("".join(cur).strip())
                return args
        elif c == "," and depth == 1:
            args.append("".join(cur).strip())
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    return args


REASON = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")


def literals(expr, quote):
    """The reason-shaped string literals in an expression (both arms of a ?: or a CASE)."""
    found = re.findall(r'"((?:[^"\\]|\\.)*)"' if quote == '"' else r"'([^']*)'", expr)
    return {s for s in found if REASON.match(s)}


def args_of(text, name, quotes):
    """Every call of the function name(...) in text, as its list of arguments."""
    for m in re.finditer(r"(?<![\w.])" + re.escape(name) + r"\s*\(", text):
        yield call_args(text, m.end() - 1, quotes)


def c_sources():
    paths = sorted(glob.glob(os.path.join(ROOT, "daemon", "**", "*.c"), recursive=True))
    assert paths, "no C sources under daemon/"
    return {p: strip_c_comments(read(p)) for p in paths}


def sql_sources():
    paths = sorted(glob.glob(os.path.join(ROOT, "migrations", "**", "*.sql"), recursive=True))
    assert paths, "no SQL under migrations/"
    return {p: strip_sql_comments(read(p)) for p in paths}


def c_reasons():
    """reason -> the files that give it, from every error site of the C."""
    # (function, index of the reason among its arguments)
    sites = [("rpc_set_error", 2), ("error_object", 1), ("reply_rpc_error", 3),
             ("refuse", 1)]
    found = {}
    for path, text in c_sources().items():
        got = set()
        for name, k in sites:
            for args in args_of(text, name, "\"'"):
                if len(args) > k:
                    got |= literals(args[k], '"')
        for args in args_of(text, "snprintf", "\"'"):
            if args and args[0] == "reason":
                got |= {s for s in literals(", ".join(args[2:]), '"')}
        for m in re.finditer(r"(?:\*\s*(?:reason|why)|\b(?:refusal|why))\s*=\s*([^;]*);", text):
            got |= literals(m.group(1), '"')
        for r in got:
            found.setdefault(r, set()).add(rel(path))
    return found


def sql_reasons():
    """reason -> the files that raise it, from every error the SQL builds."""
    found = {}
    for path, text in sql_sources().items():
        got = set(re.findall(r"fl\.rpc_error\(\s*-?\d+\s*,\s*'([a-z0-9_]+)'", text))
        got |= set(re.findall(r"'reason'\s*,\s*'([a-z0-9_]+)'", text))
        for m in re.finditer(r"'reason'\s*,\s*(CASE\b.*?\bEND)", text, re.S):
            got |= literals(m.group(1), "'")
        for args in args_of(text, "fl.refusal", "'"):
            if len(args) > 4:
                got |= literals(args[4], "'")
        # why credentials were refused, as api.call() and api.authorize() say it
        for m in re.finditer(r"FUNCTION fl\.refusal_reason\(.*?\$\$(.*?)\$\$", text, re.S):
            got |= literals(m.group(1), "'")
        for r in got:
            found.setdefault(r, set()).add(rel(path))
    return found


# --- the method table ---------------------------------------------------------------------

def c_macros(texts):
    """#define NAME body, for every macro of the daemon (bodies joined across lines)."""
    macros = {}
    for text in texts:
        for m in re.finditer(r"(?m)^#define\s+(\w+)[ \t]+((?:.*\\\n)*.*)$", text):
            macros[m.group(1)] = m.group(2).replace("\\\n", " ")
    return macros


def param_names(body, macros):
    """The param names of a struct param initializer, with P_* macros expanded."""
    names = re.findall(r'\{\s*"(\w+)"\s*,\s*PT_', body)
    for word in re.findall(r"\b(P_\w+)\b", body):
        names += re.findall(r'\{\s*"(\w+)"\s*,\s*PT_', macros.get(word, ""))
    return names


def method_table():
    """method -> (set of roles, or {"any"}; mutates; [param names]), from daemon/*.c."""
    sources = c_sources()
    headers = [strip_c_comments(read(p)) for p in
               glob.glob(os.path.join(ROOT, "daemon", "**", "*.h"), recursive=True)]
    macros = c_macros(list(sources.values()) + headers)
    params = {}
    for text in sources.values():
        for m in re.finditer(r"struct\s+param\s+(\w+)\s*\[\s*\]\s*=\s*\{(.*?)\};", text, re.S):
            params[m.group(1)] = param_names(m.group(2), macros)
    table = {}
    entry = re.compile(r'\{\s*"([a-z]+\.[a-z_]+)"\s*,\s*(\w+|"[^"]*")\s*,\s*([^,{}]+?)\s*,'
                       r"\s*(\w+)\s*\}")
    for path, text in sources.items():
        for m in entry.finditer(text):
            name, roles, flags, plist = m.groups()
            literal = macros.get(roles, roles) if not roles.startswith('"') else roles
            lit = re.fullmatch(r'\s*"\{([a-z,]*)\}"\s*', literal)
            assert lit, "%s: %s: roles %s are not a literal I can read" % (rel(path), name,
                                                                          roles)
            rs = set(filter(None, lit.group(1).split(","))) or {"any"}
            assert plist in params, "%s: %s: no param spec %s" % (rel(path), name, plist)
            table[name] = (rs, "M_MUTATES" in flags, params[plist])
    assert len(table) >= 10, "the method table was not found in daemon/*.c"
    return table


# --- reading the reference ----------------------------------------------------------------

def strip_code(markdown):
    """Markdown without fenced code blocks and inline code spans."""
    text = re.sub(r"(?ms)^(```|~~~).*?^\1[ \t]*$", "", markdown)
    return re.sub(r"`[^`\n]*`", "", text)


def reference_sections():
    """method -> the text of its section in the reference (up to the next heading)."""
    text = read(REFERENCE)
    heads = list(re.finditer(r"(?m)^#{2,4}[ \t]+`([a-z]+\.[a-z_]+)`[ \t]*$", text))
    sections = {}
    for i, m in enumerate(heads):
        end = re.compile(r"(?m)^#{1,4}[ \t]").search(text, m.end())
        sections.setdefault(m.group(1), []).append(text[m.end():end.start() if end else None])
    return sections


def errors_section():
    text = read(REFERENCE)
    m = re.search(r"(?ms)^## Errors[ \t]*$(.*?)(?=^## )", text)
    assert m, "docs/protocol.md has no '## Errors' section"
    return m.group(1)


# --- the tests ----------------------------------------------------------------------------

def test_every_method_is_documented_and_nothing_else():
    table = method_table()
    sections = reference_sections()
    missing = sorted(set(table) - set(sections))
    extra = sorted(set(sections) - set(table))
    twice = sorted(n for n, s in sections.items() if len(s) > 1)
    problems = ["methods in the daemon's table but not in docs/protocol.md: %s" % missing] \
        if missing else []
    if extra:
        problems.append("docs/protocol.md documents methods the daemon does not have: %s" % extra)
    if twice:
        problems.append("docs/protocol.md documents these methods twice: %s" % twice)
    assert not problems, "\n".join(problems)


def test_each_method_has_the_documented_roles_params_and_mutation_mark():
    table = method_table()
    sections = reference_sections()
    wrong = []
    for name, (roles, mutates, params) in sorted(table.items()):
        if name not in sections:
            continue    # reported by the test above
        body = sections[name][0]
        m = re.search(r"(?m)^Roles:\s*([^.\n]*)", body)
        if not m:
            wrong.append("%s: no 'Roles:' line" % name)
            continue
        said = set(re.findall(r"\b(any|%s)\b" % "|".join(ROLE_NAMES), m.group(1)))
        if said != roles:
            wrong.append("%s: documented roles %s, the table's %s" % (name, sorted(said),
                                                                      sorted(roles)))
        if ("Mutation." in body) != mutates:
            wrong.append("%s: %s 'Mutation.'" % (name, "lacks" if mutates else "has"))
        rows = re.findall(r"(?m)^\|([^|\n]*)\|", body)
        documented = set()
        for cell in rows:
            documented |= set(re.findall(r"`(\w+)\??`", cell))
        if set(params) != documented:
            wrong.append("%s: documented params %s, the table's %s" % (
                name, sorted(documented), sorted(params)))
    assert not wrong, "docs/protocol.md disagrees with the method table:\n" + "\n".join(wrong)


def test_every_error_reason_of_the_code_is_in_the_reference():
    documented = set(re.findall(r"`([a-z0-9_]+)`", errors_section()))
    code = {}
    for source in (sql_reasons(), c_reasons()):
        for reason, files in source.items():
            code.setdefault(reason, set()).update(files)
    assert len(code) >= 20, "too few error reasons found in the sources: %s" % sorted(code)
    missing = sorted("%s (%s)" % (r, ", ".join(sorted(f))) for r, f in code.items()
                     if r not in documented)
    assert not missing, ("error reasons the code gives that docs/protocol.md, 'Errors', "
                         "does not name:\n" + "\n".join(missing))


def test_every_reason_in_the_reference_table_is_raised():
    code = set(sql_reasons()) | set(c_reasons())
    table = re.findall(r"(?m)^\|\s*`([a-z0-9_]+)`\s*\|\s*-3\d{4}\s*\|", errors_section())
    assert len(table) >= 20, "docs/protocol.md, 'Errors', has no table of reasons"
    stale = sorted(set(table) - code)
    assert not stale, "docs/protocol.md lists reasons nothing raises: %s" % stale


def github_anchor(heading, seen):
    """The anchor GitHub gives a Markdown heading."""
    text = re.sub(r"[`*_]|<[^>]*>", "", heading).strip().lower()
    slug = re.sub(r"[^\w\- ]", "", text).replace(" ", "-")
    n = seen.get(slug, 0)
    seen[slug] = n + 1
    return slug if n == 0 else "%s-%d" % (slug, n)


def anchors(path):
    seen = {}
    text = re.sub(r"(?ms)^(```|~~~).*?^\1[ \t]*$", "", read(path))
    return {github_anchor(h, seen) for h in re.findall(r"(?m)^#{1,6}[ \t]+(.*?)[ \t#]*$", text)}


def links(markdown):
    text = strip_code(markdown)
    found = re.findall(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)", text)
    found += re.findall(r"(?m)^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", text)
    found += re.findall(r"<((?:https?|ftp|mailto):[^>\s]+)>", text)
    found += re.findall(r"(?i)\b(?:href|src)\s*=\s*[\"']([^\"']+)", text)
    return found


def test_readme_and_docs_link_only_inside_the_repository():
    pages = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs",
                                                                              "*.md")))
    bad = []
    for page in pages:
        for target in links(read(page)):
            where = "%s: %s" % (rel(page), target)
            if re.match(r"(?i)^[a-z][a-z0-9+.-]*:|^//", target):
                bad.append(where + " (leaves the repository)")
                continue
            path, _, anchor = target.partition("#")
            full = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path \
                else page
            if os.path.commonpath([ROOT, full]) != ROOT:
                bad.append(where + " (outside the repository)")
            elif not os.path.exists(full):
                bad.append(where + " (no such file)")
            elif anchor and full.endswith(".md") and anchor not in anchors(full):
                bad.append(where + " (no such heading)")
    assert not bad, "links that do not resolve inside the repository:\n" + "\n".join(bad)


def test_rpc_discover_agrees_with_the_reference(api):
    """rpc.discover is built from the daemon's method table: each method's roles, mutation
    mark, params, answer and own errors are the reference's."""
    doc = api.ok("rpc.discover")
    assert doc["openrpc"] == "1.2.6" and doc["info"]["title"] == "fundd", doc["info"]
    table = method_table()
    found = {m["name"]: m for m in doc["methods"]}
    assert set(found) == set(table), sorted(set(found) ^ set(table))
    sections = reference_sections()
    wrong = []
    for name, m in sorted(found.items()):
        body = sections[name][0]
        roles, mutates, params = table[name]
        if (set(m["x-roles"]) or {"any"}) != roles:
            wrong.append("%s: roles %s, the table's %s" % (name, m["x-roles"], roles))
        if m["x-mutation"] != mutates:
            wrong.append("%s: x-mutation %s" % (name, m["x-mutation"]))
        names = [p["name"] for p in m["params"]
                 if p["name"] not in ("idempotency_key", "consistent")]
        if names != list(params):
            wrong.append("%s: params %s, the table's %s" % (name, names, params))
        said = re.sub(r"\s+", " ", body)
        if not m["result"]["description"] or m["result"]["description"] not in said:
            wrong.append("%s: result %r is not the reference's" % (
                name, m["result"]["description"]))
        errs = re.search(r"(?s)(?:^|\n)Errors:(.*?)(?:\n\n|$)", body)
        documented = set(re.findall(r"(-3\d{4})\s+([a-z0-9_]+)", errs.group(1))) \
            if errs else set()
        own = {(str(e["code"]), e["data"]["reason"]) for e in m["errors"]}
        if not documented <= own:
            wrong.append("%s: errors %s not in rpc.discover" % (
                name, sorted(documented - own)))
        for p in m["params"]:
            s = p["schema"]
            if s.get("x-kind") in ("enum",) and not s.get("enum"):
                wrong.append("%s.%s: an enum without its values" % (name, p["name"]))
    assert not wrong, "rpc.discover disagrees with docs/protocol.md:\n" + "\n".join(wrong)
