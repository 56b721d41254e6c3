"""Checks JSON documents against Marathon's v2 RAML types (marathon_raml.json, written by
marathon_raml_gen.py from mesosphere/marathon's docs/docs/rest-api/public/api/v2/types/*.raml).

Stricter than RAML in one way, on purpose: an object's properties are closed. RAML 1.0 allows
additional properties by default, but Marathon's serializers write exactly the declared ones,
and clients with typed models (a task class that takes only Marathon's fields) break on any
other; a property is extra unless the type declares it or a pattern property (`/.*/`) covers it.

    problems("task.TaskList", doc) -> ["/tasks/0/message: extra field", ...]
"""
import datetime
import json
import os
import re

SCHEMA_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "marathon_raml.json")

with open(SCHEMA_PATH) as _f:
    _SCHEMA = json.load(_f)
TYPES = _SCHEMA["types"]


def _is_datetime(v):
    if not isinstance(v, str):
        return False
    try:
        datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


_SCALAR = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "datetime": _is_datetime,
    "nil": lambda v: v is None,
    "any": lambda v: True,
}
# String patterns are not checked: they are facets for validating input, and Marathon's own
# answers break some (a readiness result's taskId is a task id, "a.instance-<uuid>._app", not the
# InstanceId its RAML type names).


def _props(node, seen=()):
    """The declared properties and pattern properties of an object node, bases included."""
    props, patterns = {}, []
    for base in node.get("base", []):
        if base in seen:
            continue
        b = _resolve(TYPES[base])
        if b.get("t") == "object":
            bp, bpat = _props(b, seen + (base,))
            props.update(bp)
            patterns += bpat
    props.update(node.get("props", {}))
    patterns += node.get("patterns", [])
    return props, patterns


def _resolve(node):
    while "ref" in node:
        node = TYPES[node["ref"]]
    return node


def _check(node, v, path, out):
    if "ref" in node:
        # A reference with facets of its own (an enum on a named type) checks both.
        _check(TYPES[node["ref"]], v, path, out)
        if "enum" in node and v not in node["enum"]:
            out.append(f"{path or '/'}: {v!r} not one of {node['enum']}")
        return
    if "union" in node:
        best = None
        for alt in node["union"]:
            errs = []
            _check(alt, v, path, errs)
            if not errs:
                return
            if best is None or len(errs) < len(best):
                best = errs
        out.extend(best or [f"{path or '/'}: matches no alternative"])
        return
    t = node["t"]
    if t == "object":
        if not isinstance(v, dict):
            out.append(f"{path or '/'}: expected object, got {type(v).__name__}")
            return
        props, patterns = _props(node)
        for name, (sub, required) in sorted(props.items()):
            if name in v:
                _check(sub, v[name], f"{path}/{name}", out)
            elif required:
                out.append(f"{path}/{name}: missing")
        for name in sorted(set(v) - set(props)):
            pat = next((p for p in patterns if re.search(p[0], name)), None)
            if pat is None:
                out.append(f"{path}/{name}: extra field")
            else:
                _check(pat[1], v[name], f"{path}/{name}", out)
        return
    if t == "array":
        if not isinstance(v, list):
            out.append(f"{path or '/'}: expected array, got {type(v).__name__}")
            return
        for i, el in enumerate(v):
            _check(node["items"], el, f"{path}/{i}", out)
        return
    if not _SCALAR[t](v):
        out.append(f"{path or '/'}: expected {t}, got {json.dumps(v)[:60]}")
        return
    if "enum" in node and v not in node["enum"]:
        out.append(f"{path or '/'}: {v!r} not one of {node['enum']}")


def problems(type_name, doc):
    """Every way doc differs from the RAML type (a name such as "task.TaskList", or a node),
    as "json-pointer: what" strings; [] when it conforms."""
    out = []
    _check({"ref": type_name} if isinstance(type_name, str) else type_name, doc, "", out)
    return out


def array_of(type_name):
    return {"t": "array", "items": {"ref": type_name}}


def object_with(**fields):
    """A response envelope RAML writes inline (`{"app": AppInfo}`): every field required."""
    return {"t": "object", "props": {k: [({"ref": t} if isinstance(t, str) else t), True] for k, t in fields.items()}}


# --- which RAML type a Marathon route answers with (docs/docs/rest-api/public/api/v2/*.raml) ----

_PREFIXES = ("/service/marathon", "/marathon")
_DEPLOYMENT_RESULT = "deploymentResult.DeploymentResult"


def raml_type_for(method, path, status):
    """The RAML type of a successful answer to method on path (prefixes allowed), or None for
    routes whose answer RAML does not type (or that are not Marathon's)."""
    for p in _PREFIXES:
        if path.startswith(p + "/"):
            path = path[len(p):]
    path = path.rstrip("/") or "/"
    seg = [s for s in path.split("/") if s]
    if status >= 300 or len(seg) < 2 or seg[0] != "v2":
        return None
    res, rest = seg[1], seg[2:]
    if method == "GET":
        if res == "info" and not rest:
            return "info.MarathonInfo"
        if res == "leader" and not rest:
            return "info.LeaderInfo"
        if res == "tasks" and not rest:
            return "task.TaskList"
        if res == "queue" and not rest:
            return "queue.Queue"
        if res == "deployments" and not rest:
            return array_of("deploymentEventsInfo.DeploymentStepInfo")
        if res == "apps":
            if not rest:
                return "app.AppList"
            if rest[-1] == "tasks":
                return "task.TaskList"
            if len(rest) >= 2 and rest[-2] == "tasks":
                return None  # no such GET in Marathon's RAML
            if rest[-1] == "versions":
                return "app.VersionList"
            if len(rest) >= 2 and rest[-2] == "versions":
                return "app.App"
            return object_with(app="app.AppInfo")
        if res == "groups":
            if rest and rest[-1] == "versions":
                return {"t": "array", "items": {"t": "datetime"}}
            if len(rest) >= 2 and rest[-2] == "versions":
                return "group.GroupInfo"
            if rest and rest[-1] == "apps":
                return "app.AppList"
            return "group.GroupInfo"
        return None
    if res == "apps":
        if method == "POST" and not rest and status == 201:
            return "app.AppInfo"
        if method == "DELETE" and rest and rest[-1] == "tasks":
            return {"union": [{"ref": "task.TaskList"}, {"ref": _DEPLOYMENT_RESULT}]}
        if method == "DELETE" and len(rest) >= 2 and rest[-2] == "tasks":
            return {"union": [{"ref": "task.TaskSingle"}, {"ref": _DEPLOYMENT_RESULT}]}
        if method in ("PUT", "PATCH", "DELETE") and status == 200:
            return _DEPLOYMENT_RESULT
        if method == "PUT" and status == 201:  # PUT that created the app
            return _DEPLOYMENT_RESULT
        if method == "POST" and rest and rest[-1] == "restart":
            return _DEPLOYMENT_RESULT
    if res == "groups" and method in ("POST", "PUT", "DELETE") and status in (200, 201):
        return {"union": [{"ref": _DEPLOYMENT_RESULT}, {"ref": "deploymentSteps.DeploymentSteps"}]}
    return None
