#!/usr/bin/env python3
"""Check the XSD construct corpus against a conforming validator (xmlschema, XSD 1.0 mode).

Usage:  python tests/constructs/verify.py [--xmllint] [-q] [CASE ...]

CASE is a folder name under tests/constructs/ (e.g. 07-choice) or refused/<name>; a prefix
("07") is enough. Without CASE every case is checked.

For every case folder NN-name/ :
  * schema.xsd is compiled with xmlschema.XMLSchema10 (allow="sandbox": only files under the case
    folder can be read, nothing is fetched from the network);
  * every document listed in expect.json "docs" is validated; a document whose verdict is "valid"
    must be valid, any other verdict (a rule name) means the validator must reject it, unless
    expect.json "validator" overrides the validator's outcome for that document (used for the
    `unrepresentable` cases: valid XSD, but xml2bq must reject them; and for the rare documents
    where xmlschema itself deviates from the XSD 1.0 text, explained in the case's notes);
  * consistency: every *.xml file is listed, valid-*/invalid-* prefixes match the verdicts, rule
    names are the verdict rules of conventions.md, mapping.toml (when tomllib is available, Python
    3.11+) names a table whose rows match 2..10 elements of each valid document.
For every refused/<name>/ folder: schema.xsd is compiled and the outcome ("valid", "invalid" =
the validator rejects the schema, "warning" = compiled with warnings such as a failed import) must
equal expect.json "validator_schema".

--xmllint additionally runs `xmllint --noout --nonet --schema` on every document (and refused
schema) and compares with xmlschema; known disagreements are recorded in expect.json "xmllint"
(doc -> xmllint outcome) / "xmllint_schema". An unrecorded or no longer reproduced disagreement
is a failure.

Exit status: 0 when everything matches, 1 otherwise.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
import xml.etree.ElementTree as ET

import xmlschema

try:
    import tomllib
except ImportError:  # Python < 3.11: mapping checks are skipped
    tomllib = None

HERE = os.path.dirname(os.path.abspath(__file__))

RULES = {
    "not-well-formed", "invalid-utf8", "truncated", "doctype-forbidden", "wrong-root",
    "wrong-namespace", "unknown-element", "out-of-order", "missing-element", "unknown-attribute",
    "missing-attribute", "unexpected-text", "invalid-value", "facet-enumeration", "facet-pattern",
    "facet-length", "facet-range", "facet-digits", "fixed-value", "nil", "xsi-type", "abstract",
    "key-duplicate", "key-missing", "keyref", "unrepresentable", "no-tables",
}
OUTCOMES = {"valid", "invalid"}
CASE_RE = re.compile(r"^\d\d-[a-z0-9-]+$")


class Report:
    def __init__(self, quiet):
        self.quiet = quiet
        self.failures = []
        self.counts = {"cases": 0, "refused": 0, "docs": 0, "valid": 0, "invalid": 0,
                       "valid-by-validator-only": 0, "validator-deviations": 0, "xmllint-checked": 0,
                       "xmllint-disagreements": 0}

    def info(self, msg):
        if not self.quiet:
            print(msg)

    def fail(self, where, msg):
        self.failures.append(f"{where}: {msg}")
        print(f"FAIL {where}: {msg}")


def short(msg, n=160):
    msg = " ".join(str(msg).split())
    return msg if len(msg) <= n else msg[: n - 3] + "..."


def build_schema(path):
    """Return (schema or None, outcome, message)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            schema = xmlschema.XMLSchema10(os.path.abspath(path), allow="sandbox")
        except Exception as e:  # XMLSchemaParseError, XMLSchemaModelError, resource errors ...
            return None, "invalid", f"{type(e).__name__}: {e}"
    msgs = [str(w.message) for w in caught
            if issubclass(w.category, (xmlschema.XMLSchemaImportWarning,
                                       xmlschema.XMLSchemaIncludeWarning))]
    if msgs:
        return schema, "warning", "; ".join(msgs)
    return schema, "valid", ""


def validate(schema, path):
    """Return (outcome, reason) for one document."""
    try:
        errors = list(schema.iter_errors(os.path.abspath(path)))
    except Exception as e:  # not well-formed, unbound prefix, ...
        return "invalid", f"{type(e).__name__}: {e}"
    if not errors:
        return "valid", ""
    e = errors[0]
    where = getattr(e, "path", None)
    reason = getattr(e, "reason", None) or str(e)
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return "invalid", f"{reason} [at {where}]{more}"


def run_xmllint(xsd, doc):
    p = subprocess.run(["xmllint", "--noout", "--nonet", "--schema", xsd, doc],
                       capture_output=True, text=True)
    out = {0: "valid", 1: "not-well-formed", 3: "invalid", 4: "invalid", 5: "schema-error"}
    return out.get(p.returncode, f"rc={p.returncode}"), short(p.stderr.strip().splitlines()[0]
                                                              if p.stderr.strip() else "")


# --- mapping.toml helpers -------------------------------------------------------------------
def qname(seg, ns, where, rep):
    if ":" in seg:
        prefix, local = seg.split(":", 1)
        if prefix not in ns:
            rep.fail(where, f"prefix '{prefix}' not declared in [namespaces]")
            return None
        return "{%s}%s" % (ns[prefix], local)
    return seg


def count_rows(root, path, ns, where, rep):
    segs = [s for s in path.split("/")]
    if not path.startswith("/") or "" in segs[1:]:
        rep.fail(where, f"row path '{path}' must be absolute with no empty segment")
        return 0
    names = [qname(s, ns, where, rep) for s in segs[1:]]
    if None in names:
        return 0
    if root.tag != names[0]:
        return 0
    current = [root]
    for n in names[1:]:
        current = [c for e in current for c in e if c.tag == n]
    return len(current)


def check_mapping(case_dir, name, docs, rep):
    mpath = os.path.join(case_dir, "mapping.toml")
    if not os.path.exists(mpath):
        rep.fail(name, "mapping.toml missing")
        return
    if tomllib is None:
        return
    with open(mpath, "rb") as fh:
        try:
            m = tomllib.load(fh)
        except Exception as e:
            rep.fail(name, f"mapping.toml does not parse: {e}")
            return
    xsds = m.get("xsd", "schema.xsd")
    for x in [xsds] if isinstance(xsds, str) else xsds:
        if not os.path.exists(os.path.join(case_dir, x)):
            rep.fail(name, f"mapping.toml xsd '{x}' not found")
    ns = m.get("namespaces", {})
    tables = m.get("table", [])
    if not tables:
        rep.fail(name, "mapping.toml declares no [[table]]")
        return
    for doc, verdict in docs.items():
        if verdict != "valid":
            continue
        try:
            root = ET.parse(os.path.join(case_dir, doc)).getroot()
        except ET.ParseError:
            continue
        counts = {}
        for t in tables:
            counts[t["name"]] = sum(count_rows(root, r, ns, f"{name}/{doc}", rep)
                                    for r in t.get("rows", []))
        if not any(2 <= c <= 10 for c in counts.values()) or any(c > 10 for c in counts.values()):
            rep.fail(f"{name}/{doc}", f"table rows per document should be 2..10, got {counts}")


# --- cases ----------------------------------------------------------------------------------
def load_expect(case_dir, name, rep):
    """The case's expect.json, or None (the failure reported)."""
    try:
        with open(os.path.join(case_dir, "expect.json"), encoding="utf-8") as fh:
            return json.load(fh)
    except Exception as e:
        rep.fail(name, f"expect.json: {e}")
        return None


def check_case(case_dir, name, args, rep):
    rep.counts["cases"] += 1
    exp = load_expect(case_dir, name, rep)
    if exp is None:
        return
    for key in ("construct", "xsd_spec", "docs"):
        if key not in exp:
            rep.fail(name, f"expect.json lacks '{key}'")
    docs = exp.get("docs", {})
    overrides = exp.get("validator", {})
    known_lint = exp.get("xmllint", {})
    on_disk = {f for f in os.listdir(case_dir) if f.endswith(".xml")}
    for f in sorted(on_disk - set(docs)):
        rep.fail(name, f"{f} is not listed in expect.json")
    for f in sorted(set(docs) - on_disk):
        rep.fail(name, f"{f} listed in expect.json but missing")
    for f in sorted(set(overrides) - set(docs)):
        rep.fail(name, f"validator override for unlisted document {f}")
    for f, v in docs.items():
        if v != "valid" and v not in RULES:
            rep.fail(f"{name}/{f}", f"unknown verdict '{v}'")
        if (v == "valid") != f.startswith("valid-") or not f.startswith(("valid-", "invalid-")):
            rep.fail(f"{name}/{f}", f"file name prefix does not match verdict '{v}'")
        if f in overrides and overrides[f] not in OUTCOMES:
            rep.fail(f"{name}/{f}", f"bad validator override '{overrides[f]}'")
    check_mapping(case_dir, name, docs, rep)

    xsd = os.path.join(case_dir, "schema.xsd")
    schema, outcome, msg = build_schema(xsd)
    if schema is None or outcome != "valid":
        rep.fail(name, f"schema does not compile cleanly ({outcome}): {short(msg, 400)}")
        return
    rep.info(f"== {name}  ({exp.get('construct', '')})")
    for doc in sorted(docs, key=lambda d: (not d.startswith("valid-"), d)):
        if doc not in on_disk:
            continue
        verdict = docs[doc]
        want = overrides.get(doc, "valid" if verdict == "valid" else "invalid")
        path = os.path.join(case_dir, doc)
        got, reason = validate(schema, path)
        rep.counts["docs"] += 1
        tag = f"{name}/{doc}"
        if got != want:
            rep.fail(tag, f"expected validator outcome '{want}', got '{got}' {short(reason)}")
        else:
            rep.counts[verdict if verdict == "valid" else "invalid"] += 1
            if verdict == "unrepresentable" and want == "valid":
                rep.counts["valid-by-validator-only"] += 1
                rep.info(f"  ok  {doc:42} {verdict} (validator: valid, xml2bq must reject)")
            elif verdict != "valid" and want == "valid":
                rep.counts["validator-deviations"] += 1
                rep.info(f"  ok  {doc:42} {verdict} (KNOWN xmlschema deviation: it accepts the document)")
            elif verdict == "valid" and want == "invalid":
                rep.counts["validator-deviations"] += 1
                rep.info(f"  ok  {doc:42} valid (KNOWN xmlschema deviation, it says: {short(reason, 90)})")
            elif verdict == "valid":
                rep.info(f"  ok  {doc:42} valid")
            else:
                rep.info(f"  ok  {doc:42} {verdict}: {short(reason)}")
        if args.xmllint:
            lint, lmsg = run_xmllint(os.path.abspath(xsd), os.path.abspath(path))
            rep.counts["xmllint-checked"] += 1
            norm = "invalid" if lint == "not-well-formed" else lint
            if norm != got:
                rep.counts["xmllint-disagreements"] += 1
                if known_lint.get(doc) == lint:
                    rep.info(f"      xmllint (known disagreement): {lint} {lmsg}")
                else:
                    rep.fail(tag, f"xmllint says {lint} ({lmsg}), xmlschema says {got}; "
                                  f"not recorded in expect.json 'xmllint'")
            elif doc in known_lint:
                rep.fail(tag, f"recorded xmllint disagreement '{known_lint[doc]}' not reproduced")


def check_refused(case_dir, name, args, rep):
    rep.counts["refused"] += 1
    exp = load_expect(case_dir, name, rep)
    if exp is None:
        return
    if not exp.get("refused"):
        rep.fail(name, "expect.json lacks 'refused'")
    xsd = os.path.join(case_dir, "schema.xsd")
    _, outcome, msg = build_schema(xsd)
    want = exp.get("validator_schema")
    if outcome != want:
        rep.fail(name, f"validator_schema expected '{want}', got '{outcome}' {short(msg)}")
    else:
        rep.info(f"== {name}: xml2bq must refuse ({exp.get('refused')}); "
                 f"validator: {outcome}{' - ' + short(msg) if msg else ''}")
    if args.xmllint:
        with tempfile.TemporaryDirectory() as tmp:
            dummy = os.path.join(tmp, "dummy.xml")
            with open(dummy, "w") as fh:
                fh.write("<dummy/>\n")
            lint, lmsg = run_xmllint(os.path.abspath(xsd), dummy)
        lint = "invalid" if lint == "schema-error" else "valid"
        want_lint = exp.get("xmllint_schema", outcome)
        rep.counts["xmllint-checked"] += 1
        if lint != ("invalid" if outcome == "invalid" else "valid"):
            rep.counts["xmllint-disagreements"] += 1
        if lint != ("invalid" if want_lint == "invalid" else "valid"):
            rep.fail(name, f"xmllint schema outcome '{lint}' ({lmsg}) but expected '{want_lint}'")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cases", nargs="*", help="case folder names or prefixes")
    ap.add_argument("--xmllint", action="store_true", help="also cross-check with xmllint")
    ap.add_argument("-q", "--quiet", action="store_true", help="print failures and summary only")
    args = ap.parse_args()
    if args.xmllint and not shutil.which("xmllint"):
        sys.exit("--xmllint: xmllint not found")
    rep = Report(args.quiet)

    all_cases = sorted(d for d in os.listdir(HERE)
                       if CASE_RE.match(d) and os.path.isdir(os.path.join(HERE, d)))
    refused_dir = os.path.join(HERE, "refused")
    all_refused = sorted("refused/" + d for d in os.listdir(refused_dir)
                         if os.path.isdir(os.path.join(refused_dir, d))) \
        if os.path.isdir(refused_dir) else []
    selected = all_cases + all_refused
    if args.cases:
        wanted = [c.rstrip("/") for c in args.cases]
        selected = [c for c in selected
                    if any(c == w or c.startswith(w) or c.split("/")[-1].startswith(w)
                           for w in wanted)]
        if not selected:
            sys.exit(f"no case matches {args.cases}")

    print(f"xmlschema {xmlschema.__version__} (XSD 1.0 mode)")
    for c in selected:
        d = os.path.join(HERE, c)
        if c.startswith("refused/"):
            check_refused(d, c, args, rep)
        else:
            check_case(d, c, args, rep)

    n = rep.counts
    print(f"\nSummary: {n['cases']} cases, {n['docs']} documents: {n['valid']} valid ok, "
          f"{n['invalid']} invalid ok ({n['valid-by-validator-only']} of them valid XSD that "
          f"xml2bq must reject); {n['validator-deviations']} documents where xmlschema deviates from "
          f"the spec (recorded); {n['refused']} refused schemas; {len(rep.failures)} failures")
    if args.xmllint:
        print(f"xmllint: {n['xmllint-checked']} checked, {n['xmllint-disagreements']} "
              f"disagreements with xmlschema (all must be recorded in expect.json)")
    return 1 if rep.failures else 0


if __name__ == "__main__":
    sys.exit(main())
