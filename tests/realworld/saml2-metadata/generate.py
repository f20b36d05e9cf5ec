#!/usr/bin/env python3
"""Writes OASIS SAML 2.0 metadata documents with pysaml2 (the Python SAML implementation behind many
identity federations; its make_metadata tool writes federation metadata this way), into argv[1]:

  federation.xml     md:EntitiesDescriptor (Name, ID, validUntil) holding 3 md:EntityDescriptor: two
                     service providers (SPSSODescriptor with KeyDescriptor + X.509 certificate,
                     AssertionConsumerService x2/x1, SingleLogoutService, AttributeConsumingService with
                     RequestedAttribute, Extensions holding mdui:UIInfo and idpdisc:DiscoveryResponse
                     = xs:any content) and one identity provider (IDPSSODescriptor, NameIDFormat,
                     SingleSignOnService x2, saml:Attribute), Organization, ContactPerson, and
                     mdattr:EntityAttributes (entity categories) in EntityDescriptor/Extensions
  sp.xml             a bare md:EntityDescriptor root (what make_metadata writes for one config)
  federation-invalid.xml  federation.xml with one byte changed: the first AssertionConsumerService's
                     index="1" becomes index="x" (xs:unsignedShort: invalid-value)

Pinned for reproducibility: the certificate is made here from a fixed Ed25519 seed with fixed dates and
serial (Ed25519 signatures are deterministic), validUntil is fixed (pysaml2 computes it from the clock),
and pysaml2's xmlsec1 probe is off (xmlsec_binary None: no alg:* algorithm-support extensions, no signing).
"""
import datetime
import os
import sys
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

import saml2.metadata
from saml2 import BINDING_HTTP_ARTIFACT, BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, BINDING_SOAP
from saml2.config import Config
from saml2.metadata import entities_descriptor, entity_descriptor, metadata_tostring_fix
from saml2.validate import valid_instance

saml2.metadata.in_a_while = lambda **kw: "2030-01-01T00:00:00Z"
NSPAIR = {"xs": "http://www.w3.org/2001/XMLSchema"}


def make_cert(path, seed, cn):
    key = Ed25519PrivateKey.from_private_bytes(seed)
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Exempel Förening"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(0x1234567890ABCDEF ^ seed[0])
            .not_valid_before(datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc))
            .not_valid_after(datetime.datetime(2034, 1, 1, tzinfo=datetime.timezone.utc))
            .sign(key, None))
    with open(path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))


ORG = {"name": [("Exempel Förening", "sv"), ("Example Association", "en")],
       "display_name": [("Exempel", "sv"), ("Example & Co", "en")],
       "url": [("https://example.org/sv", "sv"), ("https://example.org/en", "en")]}


def sp_config(cert, entityid, host, two_acs, categories):
    acs = [(f"https://{host}/saml2/acs/post", BINDING_HTTP_POST)]
    if two_acs:
        acs.append((f"https://{host}/saml2/acs/artifact", BINDING_HTTP_ARTIFACT))
    return {
        "entityid": entityid, "name": f"Service at {host}", "description": "A service <for> tests & more",
        "cert_file": cert, "entity_category": categories,
        "service": {"sp": {
            "name": f"Service at {host}",
            "endpoints": {"assertion_consumer_service": acs,
                          "single_logout_service": [(f"https://{host}/saml2/slo", BINDING_HTTP_REDIRECT)],
                          "discovery_response": [(f"https://{host}/saml2/disco",
                                                  "urn:oasis:names:tc:SAML:profiles:SSO:idp-discovery-protocol")]},
            "required_attributes": ["surname", "givenname", "edupersonaffiliation"],
            "optional_attributes": ["title"],
            "want_assertions_signed": True, "authn_requests_signed": False,
            "ui_info": {"display_name": [{"text": "Tjänst", "lang": "sv"}, {"text": "Service", "lang": "en"}],
                        "description": [{"text": "En testtjänst", "lang": "sv"}],
                        "information_url": [{"text": f"https://{host}/info", "lang": "en"}],
                        "logo": {"text": f"https://{host}/logo.png", "width": "120", "height": "60"}},
        }},
        "organization": ORG,
        "contact_person": [
            {"given_name": "Ada", "sur_name": "Lovelace", "email_address": ["mailto:ada@example.org"],
             "contact_type": "technical"},
            {"given_name": "Björn", "sur_name": "Ström", "email_address": ["mailto:bjorn@example.org",
                                                                          "mailto:support@example.org"],
             "telephone_number": ["+46 8 123 456"], "contact_type": "administrative"}],
    }


def idp_config(cert):
    return {
        "entityid": "https://idp.example.org/idp/shibboleth", "cert_file": cert,
        "service": {"idp": {
            "name": "Example IdP",
            "endpoints": {"single_sign_on_service": [("https://idp.example.org/sso/redirect", BINDING_HTTP_REDIRECT),
                                                     ("https://idp.example.org/sso/post", BINDING_HTTP_POST)],
                          "single_logout_service": [("https://idp.example.org/slo/soap", BINDING_SOAP)]},
            "name_id_format": ["urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
                               "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"],
            "want_authn_requests_signed": False,
        }},
        "organization": ORG,
        "contact_person": [{"given_name": "Eve", "sur_name": "Operator", "email_address": ["mailto:eve@example.org"],
                            "contact_type": "support"}],
    }


def load(cfg):
    c = Config().load(cfg)
    c.xmlsec_binary = None
    return c


def main(out):
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        certs = []
        for i, cn in enumerate(["sp1.example.org", "sp2.example.org", "idp.example.org"]):
            p = os.path.join(tmp, f"{i}.pem")
            make_cert(p, bytes([i + 1]) * 32, cn)
            certs.append(p)
        sp1 = sp_config(certs[0], "https://sp1.example.org/saml2/metadata", "sp1.example.org", True,
                        ["http://refeds.org/category/research-and-scholarship",
                         "http://www.geant.net/uri/dataprotection-code-of-conduct/v1"])
        sp2 = sp_config(certs[1], "https://sp2.example.org/sp", "sp2.example.org", False, [])
        eds = [entity_descriptor(load(sp1)), entity_descriptor(load(sp2)), entity_descriptor(load(idp_config(certs[2])))]
        fed, _ = entities_descriptor(eds, 24 * 365, "urn:example:federation", "fed-2024-0001", False, None)
        valid_instance(fed)
        fed_xml = metadata_tostring_fix(fed, NSPAIR)
        fed_xml = fed_xml.encode("utf-8") if isinstance(fed_xml, str) else fed_xml
        sp_only = entity_descriptor(load(sp2))
        valid_instance(sp_only)
        sp_xml = metadata_tostring_fix(sp_only, NSPAIR)
        sp_xml = sp_xml.encode("utf-8") if isinstance(sp_xml, str) else sp_xml
    decl = b'<?xml version="1.0" encoding="UTF-8"?>\n'
    with open(os.path.join(out, "federation.xml"), "wb") as f:
        f.write(decl + fed_xml + b"\n")
    with open(os.path.join(out, "sp.xml"), "wb") as f:
        f.write(decl + sp_xml + b"\n")
    i = fed_xml.index(b'index="1"', fed_xml.index(b"AssertionConsumerService")) + len(b'index="')
    with open(os.path.join(out, "federation-invalid.xml"), "wb") as f:
        f.write(decl + fed_xml[:i] + b"x" + fed_xml[i + 1:] + b"\n")


if __name__ == "__main__":
    main(sys.argv[1])
