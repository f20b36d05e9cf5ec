#!/usr/bin/env python3
"""Writes ISO 20022 pain.001.001.03 (SEPA credit transfer initiation) documents with sepaxml, the
PyPI library that banks' customers use to write them, into the folder argv[1]:

  pain001-batch.xml    batch booking: payments grouped into one PmtInf per execution date (3 PmtInf,
                       7 CdtTrfTxInf), names kept in UTF-8 (clean=False), with & and < in texts
  pain001-single.xml   no batch booking: one PmtInf per payment (4 PmtInf, 4 CdtTrfTxInf), ASCII-cleaned
  pain001-invalid.xml  pain001-batch.xml with one byte changed: the first Ccy="EUR" becomes Ccy="EUr",
                       which the ActiveOrHistoricCurrencyCode pattern [A-Z]{3,3} rejects (facet-pattern)

sepaxml draws message/payment ids at random and stamps CreDtTm with the local clock; both are pinned
here (a counter and 2024-05-02T09:30:00) so that the files are byte-for-byte reproducible.
sepaxml validates each file against its own copy of the XSD before returning it (export(validate=True)).
"""
import datetime
import itertools
import os
import sys
import types

import sepaxml.debit
import sepaxml.shared
import sepaxml.transfer
import sepaxml.utils
from sepaxml import SepaTransfer


class _FixedDateTime(datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return cls(2024, 5, 2, 9, 30, 0)


_clock = types.SimpleNamespace(date=datetime.date, datetime=_FixedDateTime, timedelta=datetime.timedelta)
for _m in (sepaxml.utils, sepaxml.transfer, sepaxml.debit, sepaxml.shared):
    if hasattr(_m, "datetime"):
        _m.datetime = _clock
_counter = itertools.count(1)
sepaxml.utils.get_rand_string = lambda length=12, *a, **k: format(next(_counter), "x").rjust(length, "0")

DEBTOR = {
    "name": "Bäckerei Müller & Söhne GmbH",
    "IBAN": "DE89370400440532013000",
    "BIC": "COBADEFFXXX",
    "batch": True,
    "currency": "EUR",
    "address": {"address_type": "ADDR", "street_name": "Hauptstraße", "building_number": "12",
                "postcode": "50667", "town": "Köln", "country": "DE"},
}

D = datetime.date
PAYMENTS = [
    dict(name="Zoë Lefèvre", IBAN="FR1420041010050500013M02606", BIC="PSSTFRPPLIL", amount=123456,
         execution_date=D(2024, 5, 6), description="Invoice 2024-0042 <flour & yeast>",
         endtoend_id="E2E-0001"),
    dict(name="Ørsted Logistik A/S", IBAN="DK5000400440116243", amount=99, execution_date=D(2024, 5, 6),
         description="Freight May", endtoend_id="E2E-0002",
         address={"address_type": "BIZZ", "street_name": "Kalvebod Brygge", "building_number": "39",
                  "postcode": "1560", "town": "København V", "country": "DK", "lines": ["c/o Accounts"]}),
    dict(name="Studio Ħal Far", IBAN="MT84MALT011000012345MTLCAST001S", BIC="MALTMTMT", amount=5000000,
         execution_date=D(2024, 5, 6), description="Rent Q2"),
    dict(name="Jan Novák", IBAN="CZ6508000000192000145399", BIC="GIBACZPX", amount=1, execution_date=D(2024, 5, 7),
         description="Refund 1 cent", endtoend_id="E2E-0004"),
    dict(name="Αθηνά Παπαδοπούλου", IBAN="GR1601101250000000012300695", amount=250075,
         execution_date=D(2024, 5, 7), description="Consulting April"),
    dict(name="Sørensen & Co", IBAN="NO9386011117947", BIC="DNBANOKK", amount=1000, execution_date=D(2024, 5, 31),
         description="Membership", endtoend_id="E2E-0006"),
    dict(name="Łukasz Żółć", IBAN="PL61109010140000071219812874", amount=31415, execution_date=D(2024, 5, 31),
         description="Travel expenses: Kraków–Köln"),
]


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def main(out):
    os.makedirs(out, exist_ok=True)
    batch = SepaTransfer(dict(DEBTOR), schema="pain.001.001.03", clean=False)
    for p in PAYMENTS:
        batch.add_payment(dict(p))
    doc = batch.export(validate=True)
    write(os.path.join(out, "pain001-batch.xml"), doc)

    single = SepaTransfer(dict(DEBTOR, batch=False), schema="pain.001.001.03", clean=True)
    for p in PAYMENTS[:4]:
        single.add_payment(dict(p))
    write(os.path.join(out, "pain001-single.xml"), single.export(validate=True))

    i = doc.index(b'Ccy="EUR"') + len(b'Ccy="EU')
    write(os.path.join(out, "pain001-invalid.xml"), doc[:i] + b"r" + doc[i + 1:])


if __name__ == "__main__":
    main(sys.argv[1])
