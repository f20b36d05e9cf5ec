#!/usr/bin/env python3
"""Writes OASIS UBL 2.1 Invoice documents (EN 16931 CIUS, the European e-invoicing norm) with the PyPI
library factur-x (Akretion's generator used by Odoo's French e-invoicing), into the folder argv[1]:

  ubl-invoice-1.xml        EUR, 3 InvoiceLine (line allowance and charge, item attributes, standard and
                           classification identifiers with schemeID/listID, line period, price base quantity),
                           2 document-level allowances/charges, a supporting document with an embedded
                           base64 attachment (cbc:EmbeddedDocumentBinaryObject), notes with & < > and non-ASCII
  ubl-invoice-2.xml        JPY (0 decimals), VAT accounted in EUR (BT-6), a seller tax representative, 1 line
  ubl-invoice-invalid.xml  ubl-invoice-1.xml with one byte changed: the IssueDate month 03 becomes 13
                           (invalid-value: not an xs:date)

factur-x validates each file against its bundled UBL-Invoice-2.1.xsd (lxml) before returning it.
Every input is fixed, so the files are reproducible; no network (schematron checks are off).
"""
import datetime
import os
import sys

from facturx import generate_ubl_xml

D = datetime.date
ATTACHMENT = b"%PDF-1.4\n% xml2bq test attachment\n\x00\x01\x02\xff\xfe\xfd binary bytes\n%%EOF\n"


def seller():
    return {"name": "Müller Werkzeugbau SARL", "biz_name": "Müller Tools",
            "identifiers": {"0009": "12345678900011"},
            "legal_identifier": "123456789", "legal_identifier_schemeid": "0002",
            "vat_identifier": "FR11123456789", "legal_info": "SARL au capital de 10 000 €",
            "addr_l1": "5 rue de l'Industrie", "addr_l2": "Bâtiment B", "city": "Lyon", "postcode": "69002",
            "country_code": "FR",
            "contacts": [{"name": "Anna Muster", "phone": "+33 4 00 00 00 00", "email": "anna@example.com"}]}


def buyer():
    return {"name": "Boulangerie Éclair & Fils", "identifiers": {"0009": "98765432100017"},
            "legal_identifier": "987654321", "legal_identifier_schemeid": "0002",
            "vat_identifier": "FR40987654321",
            "addr_l1": "12 rue des Fleurs", "city": "Paris", "postcode": "75011", "country_code": "FR"}


def invoice_1():
    return {
        "BT-1": "INV-2024-0042", "BT-2": D(2024, 3, 15), "BT-3": "380", "BT-5": "EUR", "BT-8": "invoice",
        "BT-9": D(2024, 4, 14), "BT-10": "BUYER-REF-7", "BT-11": "PRJ-ALPHA", "BT-12": "CONTRACT-2023-9",
        "BT-13": "PO-5531", "BT-19": "6061-OFFICE", "BT-20": "Net 30 days, 1.5% late interest",
        "BT-23": "S1", "BT-72": D(2024, 3, 14), "BT-73": D(2024, 3, 1), "BT-74": D(2024, 3, 31),
        "BG-4": seller(), "BG-7": buyer(),
        "BT-81": "30", "BT-83": "INV-2024-0042", "BT-84": "FR7630006000011234567890189",
        "BT-85": "Müller Werkzeugbau", "BT-86": "AGRIFRPP",
        "BG-1": [{"BT-21": "AAI", "BT-22": "Thank you for your order & see you soon <3"},
                 {"BT-22": "Livraison effectuée le 14/03 — merci !"}],
        "BG-3": [{"BT-25": "INV-2024-0017", "BT-26": D(2024, 2, 1)}],
        "BG-24": [{"BT-122": "DN-2024-311", "BT-123": "Delivery note", "BT-125": ATTACHMENT,
                   "BT-125-1": "application/pdf", "BT-125-2": "delivery-note.pdf"},
                  {"BT-122": "TS-2024-03", "BT-124": "https://example.com/timesheets/2024-03.pdf"}],
        "BG-20": [{"amount": "5.00", "base_amount": "50.00", "rate": "10.00", "reason": "Loyalty discount",
                   "reason_code": "95", "vat_category_code": "S", "vat_rate": "20.00"}],
        "BG-21": [{"amount": "15.00", "reason": "Freight", "reason_code": "FC", "vat_category_code": "S",
                   "vat_rate": "20.00"}],
        "BG-23": [{"BT-117": "56.00", "BT-116": "280.00", "BT-118": "S", "BT-119": "20.00"},
                  {"BT-117": "1.10", "BT-116": "20.00", "BT-118": "S", "BT-119": "5.50"},
                  {"BT-117": "0.00", "BT-116": "10.50", "BT-118": "E", "BT-119": "0.00",
                   "BT-120": "Exonération TVA, article 261 du CGI", "BT-121": "VATEX-EU-132"}],
        "BT-106": "300.50", "BT-107": "5.00", "BT-108": "15.00", "BT-109": "310.50", "BT-110": "57.10",
        "BT-112": "367.60", "BT-113": "100.00", "BT-115": "267.60",
        "BG-25": [
            {"BT-126": "1", "BT-127-00": [{"BT-127": "Delivered in two boxes"}],
             "BT-128": {"ABZ": "AWB-7781"},
             "BT-129": "10", "BT-130": "C62", "BT-131": "255.00", "BT-132": "PO-5531-1", "BT-133": "6061",
             "BT-134": D(2024, 3, 1), "BT-135": D(2024, 3, 10),
             "BT-146": "25.50", "BT-148": "27.00", "BT-149": "1", "BT-147-00": [{"BT-147": "1.50"}],
             "BT-151": "S", "BT-152": "20.00",
             "BT-153": "Drill bit 8mm", "BT-154": "HSS-G drill bit, DIN 338, Ø 8 mm",
             "BT-155": "DB-8", "BT-156": "B-778", "BT-157": "4006381333931", "BT-157-1": "0160",
             "BT-158": {"HS": {"2017": "82075010"}, "MP": {None: "DRILL-08"}}, "BT-159": "DE",
             "BG-27": [{"amount": "5.00", "base_amount": "50.00", "rate": "10.00", "reason": "Volume discount",
                        "reason_code": "95"}],
             "BG-28": [{"amount": "5.00", "reason": "Packaging", "reason_code": "ABL"}],
             "BG-32": [{"BT-160": "Diameter", "BT-161": "8 mm"}, {"BT-160": "Material", "BT-161": "HSS-G"}]},
            {"BT-126": "2", "BT-129": "40", "BT-130": "C62", "BT-131": "20.00", "BT-146": "0.5000",
             "BT-151": "S", "BT-152": "5.50", "BT-153": "Croissant au beurre"},
            {"BT-126": "3", "BT-129": "1.5", "BT-130": "HUR", "BT-131": "10.50", "BT-146": "7.00",
             "BT-151": "E", "BT-152": "0.00", "BT-153": "Training (exempt)"},
        ],
    }


def invoice_2():
    return {
        "BT-1": "INV-2024-0043", "BT-2": D(2024, 12, 31), "BT-3": "380", "BT-5": "JPY", "BT-6": "EUR",
        "BT-8": "invoice", "BT-9": D(2025, 1, 30), "BT-10": "山田-REF", "BT-23": "S1", "BT-72": D(2024, 12, 30),
        "BG-4": {"name": "株式会社サンプル", "identifiers": {"0009": "11122233300018"},
                 "vat_identifier": "FR22111222333", "addr_l1": "1-2-3 Marunouchi", "city": "Tōkyō",
                 "postcode": "100-0005", "country_code": "JP"},
        "BG-7": buyer(),
        "BG-11": {"name": "Représentant Fiscal SAS", "vat_identifier": "FR55444555666",
                  "addr_l1": "1 place de la Bourse", "city": "Paris", "postcode": "75002", "country_code": "FR"},
        "BT-81": "58", "BT-84": "FR7630006000011234567890189",
        "BG-23": [{"BT-117": "20000", "BT-116": "100000", "BT-118": "S", "BT-119": "20.00"}],
        "BT-106": "100000", "BT-109": "100000", "BT-110": "20000", "BT-111": "123.45",
        "BT-112": "120000", "BT-115": "120000",
        "BG-25": [{"BT-126": "A-1", "BT-129": "4", "BT-130": "H87", "BT-131": "100000", "BT-146": "25000",
                   "BT-151": "S", "BT-152": "20.00", "BT-153": "Kyūsu teapot"}],
    }


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def main(out):
    os.makedirs(out, exist_ok=True)
    one = generate_ubl_xml(invoice_1(), level="en16931", check_xsd=True, check_schematron=False)
    write(os.path.join(out, "ubl-invoice-1.xml"), one)
    write(os.path.join(out, "ubl-invoice-2.xml"),
          generate_ubl_xml(invoice_2(), level="en16931", check_xsd=True, check_schematron=False))
    i = one.index(b"<cbc:IssueDate>2024-03-15") + len(b"<cbc:IssueDate>2024-")
    assert one[i:i + 1] == b"0"
    write(os.path.join(out, "ubl-invoice-invalid.xml"), one[:i] + b"1" + one[i + 1:])


if __name__ == "__main__":
    main(sys.argv[1])
