#!/usr/bin/env python3
"""Generates pyemv_vectors.json: cryptogram vectors from an independent
implementation, which tests/tap_pyemv_vectors.rs checks the Rust code against.

3DES profile: pyemv (pip install pyemv; the committed file was made with
pyemv 1.5.0) computes the master key (option A), the common session key,
the ARQC (ISO 9797-1 MAC algorithm 3, padding method 2) and ARPC method 1.

AES profile: pyemv has no AES, so the EMV Book 2 formulas are written out
here over the `cryptography` package (AES-ECB, AES-CMAC), independently of
the Rust code:
  MK  = AES(IMK)[Y], Y = PAN || PSN as 32 BCD digits, left zero-padded (A1.4.3)
  SK  = AES(MK)[ATC || 00*14]                                         (A1.3.1)
  AC  = leftmost 8 bytes of AES-CMAC(SK)[data]                        (A1.2.2)
  ARPC= leftmost 8 bytes of AES(SK)[(ARQC xor (ARC || 00*6)) || 00*8] (8.2.1)

In both profiles the ARQC covers CDOL1 data || AIP || ATC || IAD, with the
IAD in CCD format 'A' as the card builds it. Inputs are derived from a fixed
seed, so rerunning the script reproduces the file:

    python3 emv/tests/vectors/gen_pyemv.py > emv/tests/vectors/pyemv_vectors.json
"""
import hashlib
import json
import warnings

import cryptography

import pyemv
from pyemv import ac, kd
from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def stream(label: str, n: int) -> bytes:
    """n deterministic pseudo-random bytes for `label`."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"billfold-emv-vectors/{label}/{i}".encode()).digest()
        i += 1
    return out[:n]


def digits(label: str, n: int) -> str:
    return "".join(str(b % 10) for b in stream(label, n))


def aes_ecb(key: bytes, block: bytes) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def aes_cmac(key: bytes, data: bytes) -> bytes:
    c = cmac.CMAC(algorithms.AES(key))
    c.update(data)
    return c.finalize()


def iad(cci: int, dki: int) -> bytes:
    """CCD format 'A' IAD for an ARQC: CVR byte 1 = A0."""
    b = bytearray(32)
    b[0], b[1], b[2], b[3], b[16] = 0x0F, cci, dki, 0xA0, 0x0F
    return bytes(b)


AIP = bytes.fromhex("0080")


def case(i: int, profile: str) -> dict:
    label = f"{profile}/{i}"
    imk = stream(label + "/imk", 16)
    pan = digits(label + "/pan", [16, 19, 13, 16, 18][i % 5])
    psn = stream(label + "/psn", 1)[0] % 100
    atc = int.from_bytes(stream(label + "/atc", 2), "big")
    dki = stream(label + "/dki", 1)[0]
    cdol1 = stream(label + "/cdol1", [71, 29, 8, 0, 100][i % 5])
    arc = [b"00", b"05", b"51", b"Y1", b"\x00\x00"][i % 5]
    atc_b = atc.to_bytes(2, "big")
    if profile == "tdes":
        mk = kd.derive_icc_mk_a(imk, pan, f"{psn:02d}")
        sk = kd.derive_common_sk(mk, atc_b + bytes(6))
        the_iad = iad(0xA5, dki)
        data = cdol1 + AIP + atc_b + the_iad
        arqc = ac.generate_ac(sk, data)
        arpc = ac.generate_arpc_1(sk, arqc, arc)
    else:
        y = bytes.fromhex((pan + f"{psn:02d}").zfill(32))
        mk = aes_ecb(imk, y)
        sk = aes_ecb(mk, atc_b + bytes(14))
        the_iad = iad(0xA6, dki)
        data = cdol1 + AIP + atc_b + the_iad
        arqc = aes_cmac(sk, data)[:8]
        y_arpc = bytes(a ^ b for a, b in zip(arqc, arc + bytes(6)))
        arpc = aes_ecb(sk, y_arpc + bytes(8))[:8]
    return {
        "profile": profile,
        "imk": imk.hex().upper(),
        "pan": pan,
        "psn": psn,
        "dki": dki,
        "atc": atc,
        "cdol1_data": cdol1.hex().upper(),
        "aip": AIP.hex().upper(),
        "iad": the_iad.hex().upper(),
        "card_master_key": mk.hex().upper(),
        "session_key": sk.hex().upper(),
        "arqc": arqc.hex().upper(),
        "arc": arc.hex().upper(),
        "arpc": arpc.hex().upper(),
    }


def main() -> None:
    # pyemv uses two-key 3DES, which `cryptography` marks deprecated.
    warnings.filterwarnings("ignore")
    vectors = [case(i, p) for p in ("tdes", "aes") for i in range(10)]
    print(json.dumps({
        "generator": "emv/tests/vectors/gen_pyemv.py",
        "pyemv_version": pyemv.__version__,
        "cryptography_version": cryptography.__version__,
        "vectors": vectors,
    }, indent=1))


if __name__ == "__main__":
    main()
