#!/usr/bin/env python3
"""Writes the seed corpora of the `tlv` and `apdu_session` fuzz targets
(fuzz/corpus/{tlv,apdu_session}/). Rerun from the repository root:

    python3 emv/tests/vectors/gen_tap_fuzz_seeds.py

apdu_session input: byte 0 picks the test backend's behaviour (0 approve,
1 frozen, 2 locked, 3 keys exhausted, 4 wrong-profile key), then each APDU
is preceded by its length; a length byte FF deactivates the field.
"""
import os

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fuzz", "corpus")

PPSE = bytes.fromhex("00A404000E") + b"2PAY.SYS.DDF01" + b"\x00"
VISA = bytes.fromhex("00A4040007A000000003101000")
MC = bytes.fromhex("00A4040007A000000004101000")
# TTQ, amount 12.34, other 0, country 250, currency 978, 2025-03-14, purchase, UN
PDOL_DATA = bytes.fromhex("36004000" "000000001234" "000000000000" "0250" "0978" "250314" "00" "CAFEBABE")
GPO = bytes.fromhex("80A80000") + bytes([len(PDOL_DATA) + 2, 0x83, len(PDOL_DATA)]) + PDOL_DATA + b"\x00"
READ = bytes.fromhex("00B2010C00")
NAME = b"CAFE DE FLORE PARIS".ljust(40, b"\x00")
CDOL1_DATA = bytes.fromhex("000000001234" "000000000000" "0250" "0000000000" "0978" "250314" "00" "CAFEBABE" "5812") + NAME


def gen_ac(p1, data=CDOL1_DATA):
    return bytes([0x80, 0xAE, p1, 0x00, len(data)]) + data + b"\x00"


def session(mode, *apdus):
    out = bytearray([mode])
    for a in apdus:
        if a is None:
            out.append(0xFF)
        else:
            out.append(len(a))
            out += a
    return bytes(out)


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


full = (PPSE, VISA, GPO, READ, gen_ac(0x80))
for mode, what in enumerate(["approve", "frozen", "locked", "exhausted", "wrong_profile"]):
    write("apdu_session", f"visa_{what}", session(mode, *full))
write("apdu_session", "mastercard_aes", session(0, PPSE, MC, GPO, READ, gen_ac(0x80)))
write("apdu_session", "terminal_aac", session(0, PPSE, VISA, GPO, READ, gen_ac(0x00)))
write("apdu_session", "two_taps", session(0, *full, *full))
write("apdu_session", "deactivated_mid_tap", session(0, PPSE, VISA, GPO, None, READ, gen_ac(0x80)))
write("apdu_session", "out_of_order", session(0, gen_ac(0x80), READ, GPO, VISA, gen_ac(0x80), GPO, GPO))
write("apdu_session", "bad_lengths", session(0, VISA, GPO[:-3] + b"\x00", gen_ac(0x80, CDOL1_DATA[:-1]),
                                             bytes.fromhex("00A40400000007A0000000031010"), b"\x00\xA4"))
write("apdu_session", "bad_classes_and_ins", session(0, bytes.fromhex("00CA9F3600"), bytes.fromhex("9000000000"),
                                                     bytes.fromhex("80A404000E") + b"2PAY.SYS.DDF01"))
write("apdu_session", "bad_amount", session(0, VISA, GPO, gen_ac(0x80, b"\xAB" + CDOL1_DATA[1:])))
write("apdu_session", "empty", b"")

fci = bytes.fromhex("6F1E8407A0000000031010A513500456495341BF0C0A61084F06A00000000310")
write("tlv", "fci", fci)
write("tlv", "ppse_fci", bytes.fromhex(
    "6F2C840E325041592E5359532E4444463031A51ABF0C1761154F07A0000000031010500D42494C4C464F4C44205649534187 01 01".replace(" ", "")))
write("tlv", "gpo_format2", bytes.fromhex("770A820200809404080101009000"))
write("tlv", "record", bytes.fromhex("7011570C4761739001010010D30122015A0847617390010100105F24033012315F3401018C1B9F02069F03069F1A0295055F2A029A039C019F37049F15029F4E28"))
write("tlv", "gen_ac_format1", bytes.fromhex("8012800001AABBCCDDEEFF0011060A0A03A00000"))
write("tlv", "long_lengths", bytes.fromhex("9F4E81050102030405") + bytes.fromhex("5A8200030102FF"))
write("tlv", "padding", bytes.fromhex("00005A0142FFFF"))
write("tlv", "deep", b"".join([b"\x70\x7E"] * 63) + b"\x5A\x00")
write("tlv", "pdol", bytes.fromhex("9F66049F02069F03069F1A025F2A029A039C019F3704"))
write("tlv", "truncated_tag", bytes.fromhex("9F"))
write("tlv", "long_tag", bytes.fromhex("9F81818101"))
write("tlv", "overrun", bytes.fromhex("5A0501"))
write("tlv", "apdu_case4", PPSE)
write("tlv", "apdu_extended", bytes.fromhex("00A40400000007A0000000031010"))
