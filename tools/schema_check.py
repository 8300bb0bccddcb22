#!/usr/bin/python3
"""Validates virtlab's JSON output against the schemas in docs/schema/.

    schema_check.py [--dir DIR] {SCHEMA FILE | --report OUT}...
        each FILE ('-' for stdin) against DIR/SCHEMA (a name like eli-run or
        eli-run.json); prints one line per error: where in the document
        (a JSON path such as $.rows[3]), what is wrong, and the schema rule.
        --report OUT: a report's directory: OUT/summary.json against report-summary,
        each OUT/raw/<stage>.json against report-raw, and the JSON output of
        every command in it against that command's schema (e.g. the output
        of "virtlab eli run --workload apache ..." against eli-run.json);
    schema_check.py [--dir DIR] --check-schemas
        every DIR/*.json against the JSON Schema 2020-12 metaschema, plus
        every "$ref" in it resolved, so a typo in a schema fails here rather
        than passing every document.

DIR defaults to docs/schema beside this script. Exit status: 0 all valid,
1 a document or schema is invalid, 2 usage or an unreadable file.

Uses python3-jsonschema (Debian; `make test` installs it). Run it with
/usr/bin/python3, the interpreter that package installs into.
"""
import json
import os
import sys
import urllib.parse
import urllib.request

try:
    import jsonschema
except ImportError:
    sys.exit("schema_check.py: the jsonschema module is missing "
             "(Debian python3-jsonschema: make test installs it)")

HERE = os.path.dirname(os.path.abspath(__file__))
VALIDATOR = jsonschema.Draft202012Validator


def die(msg):
    print("schema_check.py: " + msg, file=sys.stderr)
    sys.exit(2)


def load(path):
    try:
        if path == "-":
            return json.load(sys.stdin)
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        die("%s: %s" % (path, e.strerror))


def file_uri(path):
    return urllib.parse.urljoin("file:", urllib.request.pathname2url(path))


def schemas_in(d):
    """{file URI: schema} for every schema file of directory d."""
    store = {}
    for name in sorted(os.listdir(d)):
        if name.endswith(".json"):
            path = os.path.join(d, name)
            uri = file_uri(path)
            try:
                schema = load(path)
            except ValueError as e:
                die("%s: not JSON: %s" % (path, e))
            # its own address as "$id", so relative "$ref"s resolve from it
            store[uri] = dict(schema, **{"$id": uri}) if isinstance(schema, dict) else schema
    if not store:
        die("%s: no *.json schemas" % d)
    return store


def validator_for(store, uri):
    """(validator, resolve) for the schema at uri: its relative "$ref"s find
    their files in store; resolve(ref) raises if ref leads nowhere.
    jsonschema 4.18+ takes a referencing.Registry; Debian 12's 4.10 a
    RefResolver."""
    schema = store[uri]
    try:
        import referencing
        import referencing.jsonschema
    except ImportError:
        resolver = jsonschema.RefResolver(base_uri=uri, referrer=schema, store=store)
        return VALIDATOR(schema, resolver=resolver), resolver.resolve
    reg = referencing.Registry().with_resources(
        (u, referencing.jsonschema.DRAFT202012.create_resource(s)) for u, s in store.items())
    return VALIDATOR(schema, registry=reg), reg.resolver(base_uri=uri).lookup


def where(path):
    s = "$"
    for p in path:
        s += "[%d]" % p if isinstance(p, int) else "." + str(p)
    return s


def check_document(store, d, schema, path, doc=None):
    """Validates the document at path (or doc, found at path) against
    d/schema; prints one line per error and returns whether it is valid."""
    name = schema if schema.endswith(".json") else schema + ".json"
    uri = file_uri(os.path.join(d, name))
    if uri not in store:
        die("no schema %s in %s" % (name, d))
    if doc is None:
        try:
            doc = load(path)
        except ValueError as e:
            print("%s: not JSON: %s" % (path, e))
            return False
    errors = sorted(validator_for(store, uri)[0].iter_errors(doc),
                    key=lambda e: list(map(str, e.absolute_path)))
    for e in errors:
        print("%s: does not match %s at %s: %s (rule %s)" %
              (path, name, where(e.absolute_path), e.message,
               "/".join(map(str, e.absolute_schema_path))))
    return not errors


def command_schema(command_line):
    """The schema name of a command line: "virtlab eli run --mode eli" -> eli-run."""
    words = []
    for w in command_line.split()[1:]:
        if w.startswith("-"):
            break
        words.append(w)
    return "-".join(words)


def check_report(store, d, out):
    """summary.json, raw/*.json and every command output they hold."""
    ok = check_document(store, d, "report-summary", os.path.join(out, "summary.json"))
    raw = os.path.join(out, "raw")
    names = sorted(n for n in os.listdir(raw) if n.endswith(".json")) if os.path.isdir(raw) else []
    if not names:
        print("%s: no raw/<stage>.json files" % out)
        return False
    for name in names:
        path = os.path.join(raw, name)
        ok = check_document(store, d, "report-raw", path) and ok
        try:
            cmds = load(path).get("commands") or []
        except (ValueError, AttributeError):
            continue  # reported by the check above
        for i, c in enumerate(cmds):
            doc = c.get("output") if isinstance(c, dict) else None
            if not isinstance(doc, (dict, list)):
                continue  # no JSON printed: the stage says why it failed
            schema = command_schema(c.get("command", ""))
            where_ = "%s: commands[%d] (%s)" % (path, i, c.get("command"))
            if not os.path.exists(os.path.join(d, schema + ".json")):
                print("%s: no schema %s.json for its output" % (where_, schema))
                ok = False
                continue
            ok = check_document(store, d, schema, where_, doc) and ok
    return ok


def refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield v
            else:
                yield from refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from refs(v)


def check_schemas(store):
    ok = True
    for uri, schema in store.items():
        name = uri.rsplit("/", 1)[-1]
        if schema.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
            print("%s: \"$schema\" is not the 2020-12 metaschema" % name)
            ok = False
        for e in VALIDATOR(VALIDATOR.META_SCHEMA).iter_errors(schema):
            print("%s: not a valid schema at %s: %s" % (name, where(e.absolute_path), e.message))
            ok = False
        resolve = validator_for(store, uri)[1]
        for r in refs(schema):
            try:
                resolve(r)
            except Exception as e:  # the library's unresolvable-ref error
                print("%s: \"$ref\": \"%s\" does not resolve (%s)" % (name, r, e))
                ok = False
    return ok


def main(argv):
    d = os.path.join(HERE, "..", "docs", "schema")
    if len(argv) >= 2 and argv[0] == "--dir":
        d, argv = argv[1], argv[2:]
    d = os.path.abspath(d)
    if not os.path.isdir(d):
        die("%s: not a directory" % d)
    store = schemas_in(d)
    if argv == ["--check-schemas"]:
        return 0 if check_schemas(store) else 1
    if not argv or len(argv) % 2:
        die("usage: schema_check.py [--dir DIR] {SCHEMA FILE | --report OUT}... | "
            "--check-schemas")
    ok = True
    for i in range(0, len(argv), 2):
        if argv[i] == "--report":
            ok = check_report(store, d, argv[i + 1]) and ok
        else:
            ok = check_document(store, d, argv[i], argv[i + 1]) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
