"""A partner that verifies Spotnana's signature over the JSON it parsed and wrote
back, as Flask code often does (`json.dumps(request.get_json())`), instead of the raw
body. Usage: reserializer.py CERT KEY MODE; the secret comes from
SPOTNANA_WEBHOOK_SECRET. Prints the port it listens on (127.0.0.1, HTTPS), then
answers 200 to a delivery that verifies and 401 to one that does not.

MODE: `dumps` (json.dumps defaults), `compact` (separators=(',', ':')), `sorted`
(sort_keys=True: a re-serializer outside spotcheck's table), `reencode` (no JSON at
all: the body read as Latin-1 text and encoded as UTF-8 again, a charset mix-up),
`strict-dumps` (json.dumps defaults, and a body whose envelope has a key Spotnana
does not document is refused with 400 before the signature is looked at).
"""

import base64
import hashlib
import hmac
import http.server
import json
import os
import ssl
import sys
import time

CERT, KEY, MODE = sys.argv[1:4]
SECRET = os.environ["SPOTNANA_WEBHOOK_SECRET"]
KEY_BYTES = base64.b64decode(SECRET.removeprefix("whsec_"))


ENVELOPE_KEYS = {"timestamp", "eventType", "event_type", "operation", "operationSummary", "audience", "payload"}


def unknown_envelope_key(raw):
    try:
        event = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(event, dict):
        return None
    return next((key for key in event if key not in ENVELOPE_KEYS), None)


def written_back(raw):
    if MODE == "reencode":
        return raw.decode("latin-1").encode("utf-8")
    event = json.loads(raw)
    if MODE in ("dumps", "strict-dumps"):
        return json.dumps(event).encode()
    if MODE == "compact":
        return json.dumps(event, separators=(",", ":")).encode()
    if MODE == "sorted":
        return json.dumps(event, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()
    raise SystemExit(f"unknown mode {MODE}")


def verifies(headers, raw):
    webhook_id = headers.get("x-spotnana-webhook-id", "")
    timestamp = headers.get("x-spotnana-webhook-timestamp", "")
    header = headers.get("x-spotnana-webhook-signature", "")
    try:
        if abs(time.time() - int(timestamp)) > 300:
            return False
        body = written_back(raw)
    except ValueError:
        return False
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(KEY_BYTES, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(t.removeprefix("v1,"), expected) for t in header.split())


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("content-length", "0")))
        if MODE.startswith("strict") and unknown_envelope_key(raw) is not None:
            status = 400
        else:
            status = 200 if verifies(self.headers, raw) else 401
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(CERT, KEY)
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
