#!/usr/bin/python3
"""Writes marathon_raml.json, the compact description of Marathon's v2 RAML types that
marathon_shapes.py checks responses against, from a checkout of mesosphere/marathon:

    marathon_raml_gen.py <marathon git dir or work tree> [commit] > test/e2e/marathon_raml.json

Source: docs/docs/rest-api/public/api/v2/types/*.raml (RAML 1.0 libraries). Only structure is
kept — property names, which are required (RAML 1.0: a name ending in "?" or `required: false`
is optional), types, array items, unions, enums, patterns and inheritance (`type: Base`);
descriptions, defaults and annotations are dropped. Type names are qualified by the library file
they come from ("task.Task"), references through a library's `uses:` alias resolved.

Node forms in the output:
  {"t": "string"|"integer"|"number"|"boolean"|"datetime"|"any"|"nil", "enum"?: [...], "pattern"?: re}
  {"t": "array", "items": node}
  {"t": "object", "base"?: [name...], "props": {name: [node, required]}, "patterns"?: [[re, node]]}
  {"union": [node...]}
  {"ref": "lib.Name"}
"""
import json
import os
import subprocess
import sys

import yaml

TYPES_DIR = "docs/docs/rest-api/public/api/v2/types"
SCALARS = {"string", "integer", "number", "boolean", "datetime", "any", "nil", "date-only", "datetime-only",
           "time-only", "file"}


def load_files(repo, commit):
    names = subprocess.run(["git", "-C", repo, "ls-tree", "--name-only", f"{commit}:{TYPES_DIR}"],
                           check=True, capture_output=True, text=True).stdout.split()
    out = {}
    for n in names:
        if n.endswith(".raml"):
            text = subprocess.run(["git", "-C", repo, "show", f"{commit}:{TYPES_DIR}/{n}"], check=True,
                                  capture_output=True, text=True).stdout
            out[n[:-5]] = yaml.safe_load(text) or {}
    return out


class Lib:
    def __init__(self, name, doc):
        self.name = name
        self.uses = {alias: f[:-5] for alias, f in (doc.get("uses") or {}).items()}

    def qualify(self, ref):
        ref = ref.strip()
        if ref in SCALARS or ref in ("object", "array"):
            return None
        if "." in ref:
            alias, t = ref.split(".", 1)
            return f"{self.uses[alias]}.{t}"
        return f"{self.name}.{ref}"


def split_union(expr):
    expr = expr.strip()
    if expr.startswith("(") and expr.endswith(")"):
        expr = expr[1:-1]
    return [p.strip() for p in expr.split("|")]


def type_expr(lib, expr):
    """A RAML type expression (string) -> node."""
    expr = expr.strip()
    if "|" in expr:
        return {"union": [type_expr(lib, p) for p in split_union(expr)]}
    if expr.startswith("(") and expr.endswith(")"):
        return type_expr(lib, expr[1:-1])
    if expr.endswith("[]"):
        return {"t": "array", "items": type_expr(lib, expr[:-2])}
    if expr in SCALARS:
        return {"t": {"date-only": "string", "datetime-only": "string", "time-only": "string",
                      "file": "string"}.get(expr, expr)}
    if expr == "object":
        return {"t": "object", "props": {}}
    if expr == "array":
        return {"t": "array", "items": {"t": "any"}}
    return {"ref": lib.qualify(expr)}


def decl(lib, d):
    """A RAML type declaration (string or mapping) -> node."""
    if d is None:
        return {"t": "string"}
    if isinstance(d, str):
        return type_expr(lib, d)
    if isinstance(d, list):  # multiple inheritance as a list
        return {"union": [type_expr(lib, x) for x in d]}
    t = d.get("type")
    if "properties" in d or t == "object" or (t is None and "properties" in d):
        node = {"t": "object", "props": {}}
        if isinstance(t, str) and t != "object":
            node["base"] = [lib.qualify(t)]
        for name, p in (d.get("properties") or {}).items():
            required = True
            if isinstance(p, dict) and p.get("required") is False:
                required = False
            if name.startswith("/") and name.endswith("/") and len(name) > 1:
                node.setdefault("patterns", []).append([name[1:-1], decl(lib, p)])
                continue
            if name.endswith("?"):
                name, required = name[:-1], False
            node["props"][name] = [decl(lib, p), required]
        return node
    if t == "array" or "items" in d:
        items = d.get("items", "any")
        return {"t": "array", "items": decl(lib, items) if not isinstance(items, str) else type_expr(lib, items)}
    if t is None and "enum" in d:
        t = "string"
    if t is None:
        t = "string"
    if isinstance(t, dict):
        return decl(lib, t)
    node = type_expr(lib, t)
    if "enum" in d:
        node = {"t": node.get("t", "string"), "enum": d["enum"]} if "t" in node else dict(node, enum=d["enum"])
    if d.get("pattern") and "t" in node:
        node["pattern"] = d["pattern"]
    return node


def main():
    repo = sys.argv[1]
    commit = sys.argv[2] if len(sys.argv) > 2 else "HEAD"
    sha = subprocess.run(["git", "-C", repo, "rev-parse", commit], check=True, capture_output=True,
                         text=True).stdout.strip()
    types = {}
    for name, doc in sorted(load_files(repo, commit).items()):
        lib = Lib(name, doc)
        for tname, d in (doc.get("types") or {}).items():
            types[f"{name}.{tname}"] = decl(lib, d)
    json.dump({"source": f"github.com/mesosphere/marathon@{sha} {TYPES_DIR}/*.raml",
               "generator": "test/e2e/" + os.path.basename(__file__), "types": types},
              sys.stdout, indent=None, sort_keys=True, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
