"""A kenbaar partner client in Python, written from docs/kit/README.md alone (stdlib + cryptography).

Usage: python3 kenbaar_client.py <scenario.json>
The scenario names the hub (url, id), the covenant key, two partners with their private JWKs, and a
BSN. The client checks the published test vectors, registers the BSN as the first partner, looks it
up as the second, and prints the lookup answer as JSON.
"""
import base64
import hashlib
import hmac
import json
import sys
import time
import urllib.error
import urllib.request
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def normalise_bsn(bsn: str) -> str:
    digits = "".join(ch for ch in bsn if ch not in " \t\n.-")
    if not digits.isdigit() or len(digits) not in (8, 9):
        raise ValueError("not a BSN")
    digits = digits.zfill(9)
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1))) - int(digits[8])
    if digits == "000000000" or total % 11 != 0:
        raise ValueError("BSN fails the elfproef")
    return digits


def partner_pseudonym(covenant_key: bytes, bsn: str) -> str:
    mac = hmac.new(covenant_key, ("kenbaar:v1:bsn:" + normalise_bsn(bsn)).encode("utf-8"), hashlib.sha256)
    return b64url(mac.digest())


def hub_pseudonym(hub_key: bytes, partner_pseudonym_text: str) -> str:
    mac = hmac.new(hub_key, b"kenbaar:v1:hub:" + b64url_decode(partner_pseudonym_text), hashlib.sha256)
    return b64url(mac.digest())


def check_vectors(vectors: dict) -> None:
    covenant_key = b64url_decode(vectors["covenantKey"])
    hub_key = b64url_decode(vectors["hubKeyring"].split(":", 1)[1])
    for v in vectors["vectors"]:
        assert partner_pseudonym(covenant_key, v["bsn"]) == v["partnerPseudonym"], v
        assert hub_pseudonym(hub_key, v["partnerPseudonym"]) == v["hubPseudonym"], v
    for v in vectors["refused"]:
        try:
            partner_pseudonym(covenant_key, v["bsn"])
        except ValueError:
            continue
        raise AssertionError(f"accepted {v['bsn']}")


def es256_jws(jwk: dict, header: dict, payload: dict) -> str:
    key = ec.derive_private_key(int.from_bytes(b64url_decode(jwk["d"]), "big"), ec.SECP256R1())
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(payload).encode())
    r, s = decode_dss_signature(key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256())))
    return signing_input + "." + b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def token(hub_id: str, partner: str, jwk: dict, sub: str, role: str) -> str:
    now = int(time.time())
    claims = {"iss": partner, "sub": sub, "aud": hub_id, "role": role, "iat": now, "exp": now + 60, "jti": str(uuid.uuid4())}
    return es256_jws(jwk, {"alg": "ES256", "kid": jwk["kid"], "typ": "JWT"}, claims)


def call(hub: dict, partner: dict, role: str, method: str, path: str, body: dict):
    request = urllib.request.Request(
        hub["url"] + path,
        method=method,
        data=json.dumps(body).encode("utf-8"),
        headers={
            "authorization": "Bearer " + token(hub["id"], partner["id"], partner["jwk"], partner["sub"], role),
            "content-type": "application/json",
            "idempotency-key": str(uuid.uuid4()),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def main() -> None:
    scenario = json.load(open(sys.argv[1]))
    check_vectors(scenario["vectors"])
    hub, holder, asker = scenario["hub"], scenario["holder"], scenario["asker"]
    subject = partner_pseudonym(b64url_decode(scenario["covenantKey"]), scenario["bsn"])
    status, registered = call(hub, holder, holder["role"], "POST", "/v1/registrations",
                              {"subject": subject, "category": holder["category"], "contact": {"function": "Intake", "phone": "+31 38 123 4567"}})
    assert status == 201, (status, registered)
    status, answer = call(hub, asker, asker["role"], "POST", "/v1/lookups",
                          {"subject": subject, "purpose": asker["purpose"], "caseRef": "PY-2026-1"})
    assert status == 200, (status, answer)
    print(json.dumps({"registered": registered, "lookup": answer}))


if __name__ == "__main__":
    main()
