#!/usr/bin/env python3
"""Verify an AI-BOS evidence pack offline, with the Python standard library only.

    python3 verify.py PACK.zip [--allowed-signers FILE] [--json]

Checks, and reports every failure (not just the first):
1. manifest.json.sig is an Ed25519 SSH signature (namespace aibos-evidence) of manifest.json by
   the key in allowed_signers (the pack's own copy unless --allowed-signers names the one you
   trust; compare its fingerprint with the one your organisation published);
2. every file the manifest lists has its SHA-256, size and row count, and no file is unlisted;
3. the audit hash chain: each line of data/audit_events.jsonl, hashed after the previous link,
   gives the hash data/audit_seals.csv holds for it, with no sequence number missing;
4. each signed checkpoint in checkpoints/ verifies with the same key and, where its size falls
   inside the exported range, names the head the chain has at that size;
5. the ledger: every POSTED journal entry's lines balance (debit = credit).

Exit status 0 when everything verifies, 1 otherwise. Nothing here imports the product.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import sys
import zipfile
from decimal import Decimal

TAG = b"aibos.audit.v1\n"
NAMESPACE = "aibos-evidence"
KEY_NAME = "aibos-audit"

# --- Ed25519 verification (RFC 8032, section 6 reference arithmetic) ---------------------------
_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _recover_x(y: int, sign: int) -> int | None:
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P)
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x


def _add(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, int, int, int]:
    x = (a[1] - a[0]) * (b[1] - b[0]) % _P
    y = (a[1] + a[0]) * (b[1] + b[0]) % _P
    t = 2 * a[3] * b[3] * _D % _P
    z = 2 * a[2] * b[2] % _P
    e, f, g, h = y - x, z - t, z + t, y + x
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _mul(s: int, point: tuple[int, ...]) -> tuple[int, ...]:
    result: tuple[int, ...] = (0, 1, 1, 0)
    while s:
        if s & 1:
            result = _add(result, point)
        point = _add(point, point)
        s >>= 1
    return result


def _decompress(raw: bytes) -> tuple[int, int, int, int] | None:
    y = int.from_bytes(raw, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % _P)


_GY = 4 * pow(5, _P - 2, _P) % _P
_G = (_recover_x(_GY, 0) or 0, _GY, 1, (_recover_x(_GY, 0) or 0) * _GY % _P)


def ed25519_verify(public: bytes, message: bytes, signature: bytes) -> bool:
    if len(public) != 32 or len(signature) != 64:
        return False
    a, r = _decompress(public), _decompress(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= _L:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % _L
    left, right = _mul(s, _G), _add(r, _mul(h, a))
    return (left[0] * right[2] - right[0] * left[2]) % _P == 0 and (
        left[1] * right[2] - right[1] * left[2]
    ) % _P == 0


# --- SSH signatures and signed notes ------------------------------------------------------------
def _strings(blob: bytes) -> list[bytes]:
    out, i = [], 0
    while i < len(blob):
        n = int.from_bytes(blob[i : i + 4], "big")
        out.append(blob[i + 4 : i + 4 + n])
        i += 4 + n
    return out


def _s(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def openssh_ed25519(blob_base64: str) -> bytes:
    """The raw key of an OpenSSH ``ssh-ed25519`` key blob (base64); ValueError otherwise."""
    fields = _strings(base64.b64decode(blob_base64, validate=True))
    if len(fields) != 2 or fields[0] != b"ssh-ed25519" or len(fields[1]) != 32:
        raise ValueError("not an ssh-ed25519 public key")
    return fields[1]


def trusted_keys(allowed_signers: str) -> dict[str, bytes]:
    keys = {}
    for line in allowed_signers.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] == "ssh-ed25519":
            keys[parts[0]] = openssh_ed25519(parts[2])
    return keys


def ssh_signature_verifies(armored: str, data: bytes, public: bytes) -> bool:
    body = "".join(line for line in armored.splitlines() if line and "SSH SIGNATURE" not in line)
    blob = base64.b64decode(body)
    if not blob.startswith(b"SSHSIG"):
        return False
    fields = _strings(blob[10:])  # after the magic and the uint32 version
    if len(fields) != 5:
        return False
    public_blob, namespace, reserved, hash_alg, signature_blob = fields
    if namespace.decode() != NAMESPACE or hash_alg not in (b"sha256", b"sha512"):
        return False
    kind, key = _strings(public_blob)
    _sig_kind, signature = _strings(signature_blob)
    if kind != b"ssh-ed25519" or key != public:
        return False
    digest = hashlib.new(hash_alg.decode(), data).digest()
    signed = b"SSHSIG" + _s(namespace) + _s(reserved) + _s(hash_alg) + _s(digest)
    return ed25519_verify(public, signed, signature)


def note_verifies(note: str, public: bytes, name: str = KEY_NAME) -> bool:
    body, sep, signatures = note.partition("\n\n")
    if not sep:
        return False
    key_id = hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4]
    for line in signatures.splitlines():
        parts = line.split(" ")
        if len(parts) == 3 and parts[0] == "\u2014" and parts[1] == name:
            blob = base64.b64decode(parts[2])
            if blob[:4] == key_id and ed25519_verify(public, (body + "\n").encode(), blob[4:]):
                return True
    return False


# --- The pack -----------------------------------------------------------------------------------
class Report:
    def __init__(self) -> None:
        self.failures: list[str] = []
        self.passed: list[str] = []

    def check(self, ok: bool, what: str, failure: str = "") -> bool:
        if ok:
            self.passed.append(what)
        else:
            self.failures.append(failure or what)
        return ok


def _lines(pack: zipfile.ZipFile, name: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(pack.open(name), encoding="utf-8", newline="")


def verify_chain(
    pack: zipfile.ZipFile, chain: dict, report: Report, wanted: set[int]
) -> dict[int, bytes]:
    """Hash every exported audit line after the previous link; return the stored hash at each
    ``wanted`` sequence number (the checkpoints' sizes)."""
    previous: bytes | None = None
    if chain["previous_hash"] is None:
        report.failures.append(
            f"chain: the link before the exported range (seq {chain['first_seq'] - 1}) is missing"
        )
    else:
        previous = bytes.fromhex(chain["previous_hash"])
    expected = chain["first_seq"]
    heads: dict[int, bytes] = {}
    links = breaks = 0
    sha256 = hashlib.sha256
    with (
        io.BufferedReader(pack.open("data/audit_events.jsonl"), 1 << 20) as events,  # type: ignore[type-var]
        io.BufferedReader(pack.open("data/audit_seals.csv"), 1 << 20) as seals,  # type: ignore[type-var]
    ):
        seals.readline()  # header
        # The seals file is digits and hex only (seq, event id, hash): split, no CSV parser.
        for line, seal in zip(events, seals, strict=False):
            seq_text, _event_id, stored_hex = seal.rstrip(b"\r\n").split(b",")
            seq, stored = int(seq_text), bytes.fromhex(stored_hex.decode())
            if seq != expected:
                report.failures.append(f"chain: sequence numbers {expected}..{seq - 1} missing")
                breaks += 1
            elif previous is not None and sha256(TAG + previous + line[:-1]).digest() != stored:
                report.failures.append(f"chain: link {seq} does not follow (event modified)")
                breaks += 1
            if seq in wanted:
                heads[seq] = stored
            links += 1
            previous, expected = stored, seq + 1
    last = chain["last_seq"]
    if chain["events"] and expected != last + 1:
        report.failures.append(f"chain: ends at {expected - 1}, the manifest says {last}")
        breaks += 1
    if links and previous is not None and previous.hex() != chain["head_hash"]:
        report.failures.append("chain: head differs from the manifest")
        breaks += 1
    report.check(breaks == 0, f"audit chain: {links} links verify ({chain['first_seq']}..{last})")
    return heads


def verify_ledger(pack: zipfile.ZipFile, report: Report) -> None:
    posted: set[str] = set()
    with pack.open("data/journal_entries.jsonl") as entries:
        for line in entries:
            entry = json.loads(line)
            if entry["status"] == "POSTED":
                posted.add(entry["id"])
    totals: dict[str, list[Decimal]] = {}
    with pack.open("data/journal_lines.jsonl") as lines:
        for line in lines:
            row = json.loads(line)
            pair = totals.setdefault(row["entry_id"], [Decimal(0), Decimal(0)])
            pair[0] += Decimal(row["debit"])
            pair[1] += Decimal(row["credit"])
    unbalanced = sorted(e for e in posted if e in totals and totals[e][0] != totals[e][1])
    without_lines = sorted(e for e in posted if e not in totals)
    report.check(
        not unbalanced and not without_lines,
        f"ledger: {len(posted)} posted entries balance",
        f"ledger: unbalanced {unbalanced[:10]}, without lines {without_lines[:10]}",
    )


def verify(path: str, allowed_signers: str | None = None) -> Report:
    report = Report()
    with zipfile.ZipFile(path) as pack:
        manifest_bytes = pack.read("manifest.json")
        manifest = json.loads(manifest_bytes)
        signers = allowed_signers or pack.read("allowed_signers").decode()
        keys = trusted_keys(signers)
        public = keys.get(KEY_NAME)
        report.check(
            public is not None, "signer key found", f"no {KEY_NAME} key in allowed_signers"
        )
        if public is None:
            return report
        report.check(
            ssh_signature_verifies(pack.read("manifest.json.sig").decode(), manifest_bytes, public),
            "manifest.json.sig verifies",
            "manifest.json.sig does NOT verify (manifest altered or signed by another key)",
        )
        names = pack.namelist()
        duplicated = sorted({n for n in names if names.count(n) > 1})
        report.check(
            not duplicated,
            "no duplicated entry",
            f"entries stored twice (a reader may see either copy): {duplicated}",
        )
        unsafe = sorted(n for n in names if n.startswith("/") or ".." in n.split("/") or "\\" in n)
        report.check(not unsafe, "entry names are plain", f"unsafe entry names: {unsafe}")
        listed = {f["path"] for f in manifest["files"]}
        unsigned = {"manifest.json", "manifest.json.sig"}
        extra = sorted(set(pack.namelist()) - listed - unsigned)
        report.check(not extra, "no unlisted file", f"files not in the manifest: {extra}")
        for entry in manifest["files"]:
            name = entry["path"]
            if name not in pack.namelist():
                report.failures.append(f"{name}: listed but absent")
                continue
            digest, size, rows = hashlib.sha256(), 0, 0
            with pack.open(name) as fh:
                while chunk := fh.read(1 << 20):
                    digest.update(chunk)
                    size += len(chunk)
                    rows += chunk.count(b"\n")
            ok = digest.hexdigest() == entry["sha256"] and size == entry["bytes"]
            report.check(ok, f"{name}: sha256 and size", f"{name}: sha256/size differ (altered)")
            if entry.get("rows") is not None and name.endswith(".jsonl"):
                report.check(
                    rows == entry["rows"],
                    f"{name}: {rows} rows",
                    f"{name}: {rows} rows, manifest {entry['rows']}",
                )
        sizes = {cp["size"] for cp in manifest["checkpoints"]}
        heads = verify_chain(pack, manifest["chain"], report, sizes)
        for cp in manifest["checkpoints"]:
            note = pack.read(cp["path"]).decode()
            if not report.check(
                note_verifies(note, public),
                f"{cp['path']}: signature",
                f"{cp['path']}: signature does NOT verify",
            ):
                continue
            lines = note.split("\n")
            size, head = cp["size"], base64.b64decode(lines[2])
            origin = f"/{manifest['database']['system_identifier']}/{manifest['database']['name']}/"
            report.check(
                lines[1] == str(size) and origin + manifest["tenant"]["id"] in lines[0],
                f"{cp['path']}: names this database, tenant and size",
                f"{cp['path']}: issued for another chain or size ({lines[0]}, {lines[1]})",
            )
            if size > manifest["chain"]["size"]:
                report.failures.append(
                    f"{cp['path']}: signed for {size} links, the chain has "
                    f"{manifest['chain']['size']} (links removed from its end)"
                )
            elif manifest["chain"]["first_seq"] <= size <= manifest["chain"]["last_seq"]:
                report.check(
                    heads.get(size) == head,
                    f"{cp['path']}: head matches the chain",
                    f"{cp['path']}: chain head at {size} differs (chain rewritten)",
                )
        verify_ledger(pack, report)
    return report


def fingerprint(public: bytes) -> str:
    """As ``ssh-keygen -l`` prints it: SHA256 of the key blob, unpadded base64."""
    blob = _s(b"ssh-ed25519") + _s(public)
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("pack")
    parser.add_argument("--allowed-signers", help="allowed_signers file of the key you trust")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    signers = None
    if args.allowed_signers:
        with open(args.allowed_signers, encoding="utf-8") as fh:
            signers = fh.read()
    report = verify(args.pack, signers)
    if args.json:
        print(
            json.dumps(
                {"ok": not report.failures, "passed": report.passed, "failures": report.failures},
                indent=2,
            )
        )
    else:
        if not args.allowed_signers:
            print(
                "note: trusting the key shipped in the pack (pass --allowed-signers to pin yours)"
            )
        for line in report.passed:
            print(f"  ok    {line}")
        for line in report.failures:
            print(f"  FAIL  {line}")
        print(
            "VERIFIED" if not report.failures else f"NOT VERIFIED: {len(report.failures)} failures"
        )
    return 0 if not report.failures else 1


if __name__ == "__main__":
    sys.exit(main())
