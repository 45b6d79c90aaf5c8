"""Which operations of the installed AWS models the daemon emulates, asked of the daemon itself,
against the coverage table in docs/aws.md (so the table cannot drift from the code).

Every operation of botocore's ecs, servicediscovery and route53 models (Debian's python3-botocore)
is sent raw with an empty input. An operation is "not emulated" when the daemon answers its
not-emulated error (ECS UnsupportedFeatureException, Cloud Map UnsupportedOperation, Route 53 501
NotImplemented); any other answer (a result or a validation error) means a handler took it. The
table between the `aws-coverage` markers of docs/aws.md must list exactly that.
`--write` rewrites the table from what the daemon answers.
"""
import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.request

import botocore.session

import emu

DOCS = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "aws.md")
BEGIN, END = "<!-- aws-coverage:begin -->", "<!-- aws-coverage:end -->"
SERVICES = [("ecs", "ECS"), ("servicediscovery", "Cloud Map"), ("route53", "Route 53")]
NOT_EMULATED = {"UnsupportedFeatureException", "UnsupportedOperation", "NotImplemented"}
AUTH = ("AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/%s/aws4_request, SignedHeaders=host, "
        "Signature=00")


def send(url, method, body, headers):
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def error_code(model, text):
    if model.metadata["protocol"] == "json":
        try:
            return json.loads(text or "{}").get("__type", "").split("#")[-1]
        except ValueError:
            return ""
    m = re.search(r"<Code>([^<]*)</Code>", text)
    return m.group(1) if m else ""


def emulated(d, model, op):
    """True when the daemon answers `op` with something other than its not-emulated error."""
    service = model.metadata.get("signingName", model.metadata["endpointPrefix"])
    headers = {"Authorization": AUTH % service}
    if model.metadata["protocol"] == "json":
        headers["X-Amz-Target"] = model.metadata["targetPrefix"] + "." + op.name
        headers["Content-Type"] = "application/x-amz-json-1.1"
        _, text = send(d.api_url + "/", "POST", b"{}", headers)
    else:
        http = op.http
        path = re.sub(r"\{[^}]+\}", "x", http["requestUri"].split("?")[0])
        body = b""
        shape = op.input_shape
        if http["method"] in ("POST", "PUT") and shape is not None and shape.serialization.get("name"):
            body = ('<%s xmlns="%s"/>' % (shape.serialization["name"],
                                          shape.serialization.get("xmlNamespace", {}).get("uri", ""))).encode()
        _, text = send(d.api_url + path, http["method"], body or None, headers)
    return error_code(model, text) not in NOT_EMULATED


def table(d):
    session = botocore.session.get_session()
    lines = ["| service | model | emulated | not emulated yet |", "|---|---|---|---|"]
    for name, title in SERVICES:
        model = session.get_service_model(name)
        done, left = [], []
        for op_name in model.operation_names:
            (done if emulated(d, model, model.operation_model(op_name)) else left).append(op_name)
        lines.append("| %s | %s %s | %d: %s | %d: %s |" % (
            title, name, model.api_version, len(done), ", ".join(done) or "-", len(left),
            ", ".join(left) or "-"))
    return "\n".join(lines)


def documented():
    text = open(DOCS).read()
    return text[text.index(BEGIN) + len(BEGIN):text.index(END)].strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    emu.BINARY = args.binary
    with emu.Daemon() as d:
        got = table(d)
    if args.write:
        text = open(DOCS).read()
        start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
        open(DOCS, "w").write(text[:start] + "\n" + got + "\n" + text[end:])
        print("docs/aws.md: coverage table written")
        return 0
    if got != documented():
        print("docs/aws.md's coverage table differs from what the daemon answers; "
              "run this script with --write. The daemon answers:\n" + got)
        return 1
    print(got)
    return 0


if __name__ == "__main__":
    sys.exit(main())
