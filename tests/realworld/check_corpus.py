#!/usr/bin/env python3
"""Checks the real-world corpus with the oracle alone (no xml2bq needed): for every case of
tests/realworld/<case>/ (PyPI-backed, documents written by generate.py) and tests/realworld/shared/<case>/
(the shared/realworld folders), obtains the documents, and for each one checks with tests/oracle/compare.py's
Oracle that validity (and the rule guessed for an invalid one) and the row count of every table match
case.json. Prints one line per document and "N passed, N failed".

Run with the oracle venv's python (scripts/oracle/up.sh):
  "$(scripts/oracle/up.sh)/python" tests/realworld/check_corpus.py [--out DIR] [--shared DIR] [CASE...]
--out keeps the generated documents (default: a temporary folder); --shared defaults to ../shared/realworld
beside the repository (as CI lays it) or $XML2BQ_SHARED_REALWORLD.

This is also the reference for a harness that runs xml2bq on the corpus: for each document listed here,
mapping = <case>/mapping.toml with --subst site=<site-packages> --subst shared=<shared/realworld>.
"""
import argparse
import json
import os
import subprocess
import sys
import sysconfig
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
import compare  # noqa: E402


def shared_dir(arg):
    if arg:
        return arg
    if os.environ.get("XML2BQ_SHARED_REALWORLD"):
        return os.environ["XML2BQ_SHARED_REALWORLD"]
    return compare.find_shared(os.path.join(HERE, ".."))


def strip_namespaces(src, dst):
    from lxml import etree
    tree = etree.parse(src)
    for el in tree.iter():
        if isinstance(el.tag, str) and el.tag.startswith("{"):
            el.tag = el.tag.split("}", 1)[1]
    etree.cleanup_namespaces(tree)
    tree.write(dst, xml_declaration=True, encoding="utf-8")


def documents(case_dir, case, out_dir, shared):
    """[(doc path, mapping path, expectations dict)]."""
    name = os.path.basename(case_dir)
    mapping = os.path.join(case_dir, "mapping.toml")
    out = []
    if case.get("generate"):
        gen_out = os.path.join(out_dir, name)
        subprocess.run([sys.executable, os.path.join(case_dir, case["generate"]), gen_out], check=True)
        base = gen_out
    else:
        base = os.path.join(shared, name)
    for d in case["docs"]:
        d = {"path": d} if isinstance(d, str) else dict(d)
        path = os.path.join(base, d["path"])
        m = mapping
        if d.get("schema"):  # a document of another schema of the case (shared sitemap index)
            stem = os.path.splitext(os.path.basename(d["schema"]))[0]
            own = os.path.join(case_dir, f"mapping-{stem}.toml")
            # (A mapping may name several schemas: then the case's one mapping serves.)
            m = own if os.path.exists(own) else mapping
        if d.get("also_decode_namespace_stripped"):
            out.append((path, m, {"valid": False}))
            stripped = os.path.join(out_dir, name + "-" + os.path.basename(path))
            os.makedirs(out_dir, exist_ok=True)
            strip_namespaces(path, stripped)
            out.append((stripped, m, {"valid": True}))
            continue
        out.append((path, m, d))
    return out


# Row counts of the shared cases (case.json there has none), checked once by hand against the documents.
SHARED_COUNTS = {
    "around-visnjan-with-car.gpx": {"trkpt": 104, "gpx": 1}, "demo.gpx": {"trkpt": 2671, "gpx": 1},
    "ipo.xml": {"item": 1, "purchaseOrder": 1}, "po0_0.xml": {"item": 2, "purchaseOrder": 1},
    "seongjae-yoo/sitemap.xml": {"url": 159, "urlset": 1}, "portrino/sitemap.xml": {"url": 5, "urlset": 1},
    "sitemap_index.xml": {"sitemap": 2, "sitemapindex": 1},
    "ms-customers-orders-ns-CustomersOrdersInNamespace.xml": {"Customer": 4, "Order": 22},
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out")
    ap.add_argument("--shared")
    ap.add_argument("cases", nargs="*")
    a = ap.parse_args()
    shared = shared_dir(a.shared)
    site = sysconfig.get_paths()["purelib"]
    subst = {"site": site, "shared": shared}
    if a.out is None:
        # The documents generated for the check are removed after it.
        with tempfile.TemporaryDirectory(prefix="xml2bq-corpus-") as out_dir:
            return check(a, shared, subst, out_dir)
    return check(a, shared, subst, a.out)


def check(a, shared, subst, out_dir):
    case_dirs = [os.path.join(HERE, c) for c in sorted(os.listdir(HERE))
                 if os.path.isfile(os.path.join(HERE, c, "case.json"))]
    case_dirs += [os.path.join(HERE, "shared", c) for c in sorted(os.listdir(os.path.join(HERE, "shared")))]
    if a.cases:
        case_dirs = [c for c in case_dirs if os.path.basename(c) in a.cases]
    passed = failed = 0
    for cd in case_dirs:
        name = os.path.basename(cd)
        if os.path.isfile(os.path.join(cd, "case.json")):
            with open(os.path.join(cd, "case.json"), encoding="utf-8") as f:
                case = json.load(f)
        else:
            with open(os.path.join(shared, name, "case.json"), encoding="utf-8") as f:
                case = json.load(f)
        for doc, mapping, exp in documents(cd, case, out_dir, shared):
            label = f"{name} {os.path.relpath(doc, out_dir) if doc.startswith(out_dir) else os.path.relpath(doc, shared)}"
            problems = []
            try:
                oracle = compare.Oracle(compare.Mapping(mapping, subst), doc)
                got = oracle.expected(None)
                counts = {t: len(v[2]) for t, v in got.items() if v is not None}
                verdict = "valid"
                if exp.get("valid") is False:
                    problems.append("expected invalid, the oracle accepts it")
            except compare.Reject as r:
                counts, verdict = None, f"invalid {r.rule}: {r.reason}"
                if exp.get("valid", True):
                    problems.append("expected valid")
                elif exp.get("rule") and exp["rule"] != r.rule:
                    problems.append(f"expected rule {exp['rule']}")
            want = exp.get("row_counts")
            if want is None:
                for k, v in SHARED_COUNTS.items():
                    if doc.endswith(k):
                        want = v
            if counts is not None and want is not None and counts != want:
                problems.append(f"row counts {counts}, case.json says {want}")
            if counts is not None:
                verdict += " " + ", ".join(f"{t} {n}" for t, n in counts.items())
            ok = not problems
            passed += ok
            failed += not ok
            print(("ok   " if ok else "FAIL ") + label + ": " + verdict + ("" if ok else "  <- " + "; ".join(problems)))
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
