#!/usr/bin/env python3
"""Vendor the parts of Spotnana's published OpenAPI documents that spotcheck needs.

Usage: tools/vendor-schemas.py TRIP_OPENAPI.json USERS_OPENAPI.json

Reads Spotnana's two OpenAPI 3.1 documents (Trip API v2 and User Management API, as
published on developer.spotnana.com) and writes, for each, the closure of the component
schemas reachable from the roots below into `schemas/spotnana/`, unmodified: each
schema is copied byte-for-byte as JSON, only unreachable schemas are left out. The
output keeps the OpenAPI layout (`components.schemas.NAME`) so `$ref`s such as
`#/components/schemas/Money` resolve with the pruned document as the root resource,
exactly as they do in the original. Run it again when Spotnana publishes new documents
and update `schemas/spotnana/SOURCE.md`.
"""
import json
import re
import sys
from pathlib import Path

# The roots: the webhook payload schemas, and the component schemas spotcheck builds
# the undocumented webhook payloads (approval, service charge) from.
ROOTS = {
    "trip": ["PnrData", "TripV3DetailsResponse", "ApprovalInfo", "ServiceFee", "Money", "UserOrgId"],
    "users": ["UserProfile"],
}
REF = re.compile(r'"\$ref":\s*"#/components/schemas/([^"]+)"')


def closure(schemas, roots):
    seen, stack = set(), list(roots)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        if name not in schemas:
            sys.exit(f"schema {name} is not in the document")
        seen.add(name)
        text = json.dumps(schemas[name])
        for ref in REF.findall(text):
            stack.append(ref)
        if "$ref" in text and not REF.search(text):
            sys.exit(f"schema {name} has a $ref this script does not follow")
    return seen


def vendor(path, key, out_dir):
    doc = json.loads(Path(path).read_text())
    schemas = doc["components"]["schemas"]
    keep = closure(schemas, ROOTS[key])
    pruned = {
        "openapi": doc["openapi"],
        "info": doc["info"],
        "x-spotcheck-roots": ROOTS[key],
        "components": {"schemas": {name: schemas[name] for name in sorted(keep)}},
    }
    out = out_dir / f"{key}.json"
    out.write_text(json.dumps(pruned, indent=1, ensure_ascii=False) + "\n")
    print(f"{out}: {len(keep)} of {len(schemas)} schemas")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    out_dir = Path(__file__).resolve().parent.parent / "schemas" / "spotnana"
    out_dir.mkdir(parents=True, exist_ok=True)
    vendor(sys.argv[1], "trip", out_dir)
    vendor(sys.argv[2], "users", out_dir)


if __name__ == "__main__":
    main()
