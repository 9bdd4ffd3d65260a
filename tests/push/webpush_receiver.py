#!/usr/bin/env python3
"""A Web Push receiver on loopback, for the tests: it stands where a browser's push
service would, with the browser's keys. Every push is decrypted with `http_ece`
(Mozilla's RFC 8188/8291 implementation, not the server's) and its VAPID token
(RFC 8292) is checked with `cryptography`; one JSON line per push goes to stdout.

Usage: webpush_receiver.py --keys FILE [--port N] [--status CODE ...]
  --keys    where the subscription's private key and auth secret live: created when
            missing, reused when present (a restarted receiver is the same browser)
  --port    0 (default) picks a free port
  --status  the answers to give, in order (e.g. 429 503); 201 after them. A 429 or
            503 carries `Retry-After: 1`.
The first line printed is {"port", "p256dh", "auth"}.
"""

import argparse
import base64
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def load_or_create_keys(path):
    if os.path.exists(path):
        with open(path) as f:
            saved = json.load(f)
        private = serialization.load_der_private_key(b64url_decode(saved["private"]), None)
        return private, b64url_decode(saved["auth"])
    private = ec.generate_private_key(ec.SECP256R1())
    auth = os.urandom(16)
    der = private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with open(path, "w") as f:
        json.dump({"private": b64url(der), "auth": b64url(auth)}, f)
    return private, auth


def check_vapid(authorization, origin):
    """What the VAPID header says, and whether its signature holds."""
    report = {"vapid": False}
    if not authorization.startswith("vapid "):
        report["vapid_error"] = "no vapid scheme"
        return report
    params = dict(
        part.strip().split("=", 1) for part in authorization[len("vapid "):].split(",")
    )
    token, key = params.get("t", ""), params.get("k", "")
    report["k"] = key
    try:
        head, body, signature = token.split(".")
        header = json.loads(b64url_decode(head))
        claims = json.loads(b64url_decode(body))
        raw = b64url_decode(signature)
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        public.verify(der, f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
    except (ValueError, InvalidSignature) as err:
        report["vapid_error"] = f"{type(err).__name__}: {err}"
        return report
    now = time.time()
    report.update(
        alg=header.get("alg"),
        aud=claims.get("aud"),
        sub=claims.get("sub"),
        exp_in_seconds=int(claims.get("exp", 0) - now),
    )
    report["vapid"] = (
        header.get("alg") == "ES256"
        and claims.get("aud") == origin
        and 0 < claims.get("exp", 0) - now <= 24 * 3600
    )
    return report


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--status", type=int, nargs="*", default=[])
    args = parser.parse_args()
    private, auth = load_or_create_keys(args.keys)
    answers = list(args.status)
    lock = threading.Lock()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            with lock:
                status = answers.pop(0) if answers else 201
            origin = f"http://{self.headers.get('Host')}"
            report = {
                "path": self.path,
                "status": status,
                "content_encoding": self.headers.get("Content-Encoding"),
                "ttl": self.headers.get("TTL"),
                "urgency": self.headers.get("Urgency"),
            }
            # Answer first, as a push service queues before it delivers: a slow check
            # here must not look to the sender like a push service that timed out.
            self.send_response(status)
            if status in (429, 503):
                self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()
            self.wfile.flush()
            report.update(check_vapid(self.headers.get("Authorization", ""), origin))
            try:
                plain = http_ece.decrypt(
                    body, private_key=private, auth_secret=auth, version="aes128gcm"
                )
                report["payload"] = json.loads(plain)
            except Exception as err:  # what failed is the report
                report["payload"] = None
                report["decrypt_error"] = f"{type(err).__name__}: {err}"
            with lock:
                print(json.dumps(report), flush=True)

        def log_message(self, *_):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Receiver)
    public = private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    print(
        json.dumps({"port": server.server_address[1], "p256dh": b64url(public), "auth": b64url(auth)}),
        flush=True,
    )
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
