"""Realistic EMV merchant-presented QR payloads for the decode-rate evaluation.

The scanner never looks inside a payload, but payload length sets the QR
version and so the module size at a given distance: a test set of short
URLs would flatter every decoder. These imitate the national schemes the
wallet reads (Pix, PromptPay, PayNow, DuitNow, QRIS, VietQR, KHQR, UPI,
UnionPay): 90 to 300 characters, CRC-16/CCITT-FALSE included.
"""

import random
import string


def crc16_ccitt_false(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def tlv(tag: str, value: str) -> str:
    assert len(value) <= 99, (tag, value)
    return f"{tag}{len(value):02d}{value}"


def with_crc(body: str) -> str:
    body += "6304"
    return body + f"{crc16_ccitt_false(body.encode('utf-8')):04X}"


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _alnum(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(n))


MERCHANTS = [
    ("PADARIA SAO JOSE", "SAO PAULO", "BR", "986", "5462"),
    ("LOJA DO BAIRRO LTDA", "RIO DE JANEIRO", "BR", "986", "5411"),
    ("SOMCHAI NOODLES", "BANGKOK", "TH", "764", "5812"),
    ("KOPI CORNER PTE LTD", "SINGAPORE", "SG", "702", "5814"),
    ("KEDAI RUNCIT AMAN", "KUALA LUMPUR", "MY", "458", "5411"),
    ("WARUNG BU TINI", "JAKARTA SELATAN", "ID", "360", "5812"),
    ("CAFE HOA SEN", "HA NOI", "VN", "704", "5814"),
    ("PHSAR THMEY STALL 12", "PHNOM PENH", "KH", "116", "5499"),
    ("SHARMA GENERAL STORE", "MUMBAI", "IN", "356", "5411"),
    ("SHANGHAI DUMPLING HOUSE", "SHANGHAI", "CN", "156", "5812"),
]


def _amount(rng: random.Random, currency: str) -> str:
    if currency in ("360", "704", "116"):  # no minor unit in practice
        return str(rng.randint(5, 900) * 1000)
    return f"{rng.randint(1, 99999) / 100:.2f}"


def pix(rng, m):
    key = rng.choice([
        "%08x-%04x-4%03x-a%03x-%012x" % (rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12),
                                         rng.getrandbits(12), rng.getrandbits(48)),
        "+5511" + _digits(rng, 9),
        "financeiro@" + "".join(rng.choice(string.ascii_lowercase) for _ in range(8)) + ".com.br",
    ])
    return tlv("26", tlv("00", "br.gov.bcb.pix") + tlv("01", key)), tlv("62", tlv("05", _alnum(rng, 25)))


def promptpay(rng, m):
    return tlv("29", tlv("00", "A000000677010111") + tlv("01", "0066" + _digits(rng, 9))), ""


def paynow(rng, m):
    acct = (tlv("00", "SG.PAYNOW") + tlv("01", "2") + tlv("02", _digits(rng, 9) + "K")
            + tlv("03", "1") + tlv("04", "2030" + _digits(rng, 4)))
    return tlv("26", acct), tlv("62", tlv("01", "INV" + _digits(rng, 8)))


def duitnow(rng, m):
    acct = tlv("00", "A0000006150001") + tlv("01", "890053") + tlv("02", _digits(rng, 12))
    return tlv("26", acct), tlv("62", tlv("07", "T" + _digits(rng, 7)))


def qris(rng, m):
    a = tlv("00", "ID.CO.QRIS.WWW") + tlv("01", "93600914" + _digits(rng, 11)) + tlv("02", "ID" + _digits(rng, 13)) + tlv("03", "UMI")
    b = tlv("00", "ID.CO.QRIS.WWW") + tlv("02", "ID" + _digits(rng, 13)) + tlv("03", "UMI")
    return tlv("26", a) + tlv("51", b), tlv("62", tlv("07", _alnum(rng, 8)))


def vietqr(rng, m):
    inner = tlv("00", "970436") + tlv("01", _digits(rng, 13))
    return tlv("38", tlv("00", "A000000727") + tlv("01", inner) + tlv("02", "QRIBFTTA")), tlv("62", tlv("08", "THANH TOAN " + _digits(rng, 6)))


def khqr(rng, m):
    acct = tlv("00", "".join(rng.choice(string.ascii_lowercase) for _ in range(8)) + "@aclb") + tlv("01", _digits(rng, 9)) + tlv("02", "ACLEDA Bank")
    return tlv("29", acct), tlv("62", tlv("03", _alnum(rng, 10)))


def upi(rng, m):
    return tlv("02", "4" + _digits(rng, 15)) + tlv("26", tlv("00", "A000000524") + tlv("01", "merchant" + _digits(rng, 4) + "@ybl")), ""


def unionpay(rng, m):
    return tlv("15", "62" + _digits(rng, 15) + "0" + _digits(rng, 6)), tlv("62", tlv("01", _digits(rng, 12)))


SCHEMES = {"BR": pix, "TH": promptpay, "SG": paynow, "MY": duitnow, "ID": qris,
           "VN": vietqr, "KH": khqr, "IN": upi, "CN": unionpay}


def merchant_payload(rng: random.Random) -> str:
    m = rng.choice(MERCHANTS)
    name, city, country, currency, mcc = m
    accounts, extra = SCHEMES[country](rng, m)
    dynamic = rng.random() < 0.5
    body = tlv("00", "01") + tlv("01", "12" if dynamic else "11") + accounts
    body += tlv("52", mcc) + tlv("53", currency)
    if dynamic:
        body += tlv("54", _amount(rng, currency))
    body += tlv("58", country) + tlv("59", name) + tlv("60", city) + extra
    return with_crc(body)


if __name__ == "__main__":
    r = random.Random(1)
    for _ in range(12):
        p = merchant_payload(r)
        print(len(p), p)
