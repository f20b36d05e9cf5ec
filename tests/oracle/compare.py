#!/usr/bin/env python3
"""compare.py - the independent oracle for xml2bq's output (tables, schema and rows).

Usage:
  python tests/oracle/compare.py --mapping M.toml --doc D.xml --schema-json S.json --rows R.json
                                 [--subst site=/path --subst shared=/path] [--source-uri URI]
  python tests/oracle/compare.py --mapping M.toml --doc D.xml --print-expected   (the oracle's own output)
  python tests/oracle/compare.py --selftest                                        (tests/oracle/selftest/)

Needs the oracle venv (scripts/oracle/up.sh): xmlschema (XSD 1.0 validator and component model) and lxml.
Nothing here shares code or data with the Rust side: the expected schema and rows are derived from the XSD
(via xmlschema's component model) and the document (via lxml) following tests' reading of
/tmp/spec/conventions.md (copied in the repository's spec), written down below rule by rule.

Exit codes: 0 = our output equals the oracle's; 1 = differences (printed one per line:
"DIFF <table> row <n> <column.path>: expected X, ours Y" or "DIFF schema <table> <field.path>: ...");
2 = usage or oracle error; 3 = the document is not accepted (not well-formed, DOCTYPE, not valid against
the XSD, or no root match): xml2bq must dead-letter it (prints "invalid <rule-guess> <validator's reason>");
4 = valid XSD but a value BigQuery cannot hold: xml2bq must dead-letter it with rule `unrepresentable`.
Without --rows/--schema-json, exit 0 after printing "valid" (validation only).

Mapping file: the TOML of conventions.md. Every string in it may hold placeholders {NAME}, replaced by
--subst NAME=VALUE (e.g. {site} = the oracle venv's site-packages, {shared} = shared/realworld); relative
paths are relative to the mapping file. Keys read: xsd (string or list), roots, [namespaces],
[schema_locations], [[table]] name/rows, [document] name, [types], [columns."path"] type/rename/exclude,
[options] timezone/max_depth, [relax] optional/require_one_of. (No automatic tables: a mapping without
[[table]] gives the document table only.)

NORMALIZATIONS AND RULES THE ORACLE APPLIES (conventions.md, with the decisions taken once the Rust side
existed; the numbers (D1..D12) refer to that list of decisions):
 Document acceptance
  - parsed with lxml (no DTD loading, no entity resolution, no network); any DOCTYPE -> doctype-forbidden.
  - schema: each xsd of the mapping is its own xmlschema.XMLSchema10 set; [schema_locations] is passed as
    xmlschema's uri_mapper (URL -> local file). Possible roots (D8): with [[table]]s, the global elements
    listed in `roots = ["/p:Name", ...]` when present, else those the tables' row paths start with;
    without tables, every global element declared in a named schema document itself (not in the
    documents it includes/imports). The document's schema set is the one where its root is a possible
    root; else wrong-namespace if a possible root has the same local name, wrong-root otherwise.
    Validated in full (XSD 1.0, identity constraints included); xsi:type on an element declared
    xs:anyType is ignored (validated as lax anyType, D3). [relax].optional sets minOccurs=0 on those
    particles before validating; require_one_of is checked after (else no-tables).
 Tables
  - a table's rows are the elements whose absolute path (root first, Clark names) equals one of its rows
    paths, in document order; _record_ordinal = 1..n in that order; R.json rows are sorted by
    (_source_uri, _record_ordinal) before comparing; the row count must match exactly. The table's columns
    are those of its first row path (a later path's rows are built with that path's own declarations).
  - the document table is the root element with every table's row paths removed; named [document].name or
    the root's local name; omitted when it has no column besides lineage.
  - lineage: _source_uri (STRING; all rows of the file must share one value, equal to --source-uri when
    given), _record_ordinal (INT64), and for each ancestor A of the row whose column would be REPEATED in
    its parent (in the declared type or a type xsi:type may give it) _<A>_ordinal (INT64; the k-th
    ancestor with one local name on the path: _<A>_k_ordinal); its value is the 1-based position of that
    ancestor among all elements of the file with the same absolute path, in document order. D9: the
    ancestor columns are the union by name over the table's row paths (of every schema set of the
    mapping); REQUIRED when every row path has the column, else NULLABLE (NULL for the rows of a path
    without it). Lineage fields may sit anywhere in S.json; their type and mode are checked.
 Columns (schema), for an element's type T at record level L (the row element is level 0)
  - attributes (D2): T's attribute uses in schema declaration order, read from the XSD source: for an
    extension the base type's first, then its own in document order (attribute group references expanded
    in place); a restriction keeps the base's order, overrides in place; prohibited uses skipped.
    REQUIRED if use="required" or (D5) the attribute has a default or fixed value, else NULLABLE; a list
    type makes it REPEATED.
  - then one column per distinct child element (Clark name) in first-appearance order of a depth-first walk
    of the content model; a substitution-group head particle contributes the head (unless abstract) then
    its members in declaration order (as for xsi:type below), each NULLABLE/REPEATED (min 0).
    Occurrence: sequence/all sum, choice takes min/max over alternatives, a group's own occurs multiply.
    REPEATED if the maximum total > 1; NULLABLE if the minimum total is 0 or the element is nillable;
    REQUIRED otherwise.
  - a child element whose type is simple, or (D1) a complex type with simple content, no attribute uses,
    no attribute wildcard and no named complex type derived from it, is a scalar column of that simple
    type (not a RECORD: max_depth does not cut it). A child element of an empty complex type (D11: no
    attribute uses, no wildcard, empty non-mixed content, no named derived type) is a BOOL column: true
    when present ([true, ...] when REPEATED), NULL when absent; not cut by max_depth either.
  - then `value`: for simple content (type of the simple content, REQUIRED) or for mixed content (STRING,
    REQUIRED).
  - then `any` (STRING; D4: REPEATED if the wildcards' total maximum > 1, else NULLABLE if their total
    minimum is 0, else REQUIRED; several xs:any in one model share this one column), then
    `any_attributes` (STRING NULLABLE) if T has an xs:anyAttribute (a restriction without one has none).
  - a complex child at level L > max_depth (default 15) is a STRING column (same mode) holding its XML text.
  - xsi:type (D3): the types xsi:type may give an element of declared complex type T (T not xs:anyType) are
    the named complex types derived from T (extension or restriction, transitively), minus abstract ones
    and those whose derivation steps use a method in the element's block or T's block (blockDefault
    applied), in declaration order: schema documents in load order (the document named by the mapping,
    then what it includes/imports/redefines, depth first, in the order of those elements), then position
    in the document. When there is at least one, the RECORD holds T's columns (even if T is abstract),
    then each type's columns not yet present (by name), then `xsi_type` STRING NULLABLE; a column is
    NULLABLE (unless REPEATED) when one of T (if not abstract) and those types lacks it or has it
    NULLABLE. An element of type xs:anyType (or no type) is a RECORD of `value` (STRING, the mixed text),
    `any` (REPEATED), `any_attributes`; xsi:type on it is ignored.
  - D6: in the record of a nillable element every REQUIRED column other than the attribute columns is
    NULLABLE.
  - a RECORD left without fields (all split out as tables / excluded) is dropped (D11).
  - names (D10): local name, characters outside [A-Za-z0-9_] -> '_', leading underscores removed, 'c_'
    prefix when empty or starting with a digit; [columns."<path>"].rename replaces it (verbatim); exclude
    drops it. Two columns with one name in one record is an oracle error (exit 2).
 Types (schema)
  - [columns] type wins, then [types]: the column's simple type and its named ancestors up to and including
    the first built-in type are looked up by QName (most derived first); a built-in further up (e.g.
    xs:decimal for xs:integer) is NOT matched (D12). For a RECORD with simple content the path's type
    applies to its `value`.
  - defaults per conventions.md; decimal (D7): with f = fractionDigits if given else totalDigits, NUMERIC
    iff totalDigits is given, f <= 9 and totalDigits - min(f, totalDigits) <= 29, else BIGNUMERIC (range
    facets ignored); integer types INT64; xs:list -> REPEATED of the
    item type (a REPEATED list element -> REPEATED RECORD{value REPEATED}); xs:union -> the members' common
    type, else STRING; NMTOKENS/IDREFS/ENTITIES -> REPEATED STRING.
 Values (rows): derived from the lexical value in the document; S.json's type decides the conversion
  - whitespace facet of the simple type first (preserve / replace tab,CR,LF by space / collapse); an
    element's text = its own text pieces (text, and tails of comments/PIs) concatenated; an empty element
    or absent attribute with a default (or fixed) value gets that value.
  - STRING: the normalized lexical form, byte-exact (union with STRING column: whitespace-collapsed).
  - INT64: int; outside [-2^63, 2^63-1] -> unrepresentable.
  - FLOAT64: float(lexical) as a double (xs:float too: no float32 rounding), NaN/INF/-INF as strings.
  - NUMERIC/BIGNUMERIC: decimal.Decimal(lexical), compared exactly; the canonical string (no exponent, no
    trailing fraction zeros, no '.' when integral, '-0' -> '0') is required too; more than 29/38 integer
    digits or non-zero fraction digits past 9/38 -> unrepresentable.
  - BOOL: true/1 -> true, false/0 -> false.
  - DATE: the date part as written (timezone dropped); year outside 0001-9999 -> unrepresentable.
  - TIME: zoned -> its UTC time of day; 24:00:00 -> 00:00:00; fraction trimmed, > 6 non-zero digits ->
    unrepresentable.
  - TIMESTAMP: UTC instant, unzoned read in options.timezone (UTC default; "+09:00", "UTC", "Z" or an IANA
    name), T24:00:00 = next day 00:00; "YYYY-MM-DDThh:mm:ss[.ffffff trimmed]Z".
  - DATETIME: unzoned as written, zoned -> UTC wall time; "YYYY-MM-DDThh:mm:ss[.f]".
  - BYTES: base64Binary (whitespace removed) or hexBinary decoded, compared as bytes; the standard padded
    base64 text is required too.
  - absent optional -> null; absent repeated -> []; xsi:nil="true" -> null for a scalar column; for a
    RECORD (D6) the record is present, its attribute columns (and any_attributes, xsi_type) hold their
    values, every other column is null/[] (value null); xsi_type = local name of the xsi:type value (null
    if absent).
  - an element's children and attributes are matched against its effective type (the xsi:type one, else
    the declared one): the element columns take the children that type declares.
  - `any`: each element matched by the wildcard (a child whose Clark name the effective type does not
    declare), as XML text; compared after parsing both sides and serializing with exclusive C14N 1.0
    (with comments), so namespace declarations that are not visibly used, attribute order, quoting,
    empty-tag form and character references do not matter; prefixes and everything else do.
  - `any_attributes`: attributes not declared by the effective type and not in the xsi namespace, in document order, as `a="1" p:b="2"` with the document's prefixes; compared as ordered
    (prefixed name, value) lists after parsing both, so quoting and escaping do not matter.
  - a depth-cut element (STRING with XML text) is compared like `any`.
"""
import argparse
import base64
import datetime
import decimal
import json
import math
import os
import re
import sys
import tomllib
import urllib.parse

from lxml import etree

import xmlschema
from xmlschema.exceptions import XMLSchemaKeyError
from xmlschema.names import XSD_FRACTION_DIGITS, XSD_TOTAL_DIGITS
from xmlschema.validators import XsdAnyAttribute, XsdAnyElement, XsdAtomicBuiltin, XsdElement, XsdGroup
from xmlschema.validators.xsd_globals import XsdGlobals

XS = "http://www.w3.org/2001/XMLSchema"


def _instance_type(self, type_name, base_type, namespaces, _orig=XsdGlobals.get_instance_type):
    """xsi:type on an element declared xs:anyType is accepted and ignored (decoded as lax anyType)."""
    if getattr(base_type, "name", None) == "{%s}anyType" % XS:
        return base_type
    return _orig(self, type_name, base_type, namespaces)


XsdGlobals.get_instance_type = _instance_type
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSI_NIL = "{%s}nil" % XSI
XSI_TYPE = "{%s}type" % XSI
ANY = object()
decimal.getcontext().prec = 200


class OracleError(Exception):
    pass


class Reject(Exception):
    """The document must be dead-lettered (exit 3, or 4 for unrepresentable)."""

    def __init__(self, rule, reason, code=3):
        super().__init__(reason)
        self.rule, self.reason, self.code = rule, reason, code


# ---------------------------------------------------------------------------------------------------------
# mapping
# ---------------------------------------------------------------------------------------------------------
def _subst(value, subst):
    if isinstance(value, str):
        for k, v in subst.items():
            value = value.replace("{%s}" % k, v)
        return value
    if isinstance(value, list):
        return [_subst(v, subst) for v in value]
    if isinstance(value, dict):
        return {_subst(k, subst): _subst(v, subst) for k, v in value.items()}
    return value


class Mapping:
    def __init__(self, path, subst):
        with open(path, "rb") as f:
            raw = tomllib.load(f)
        raw = _subst(raw, subst)
        base = os.path.dirname(os.path.abspath(path))

        def local(p):
            return p if os.path.isabs(p) or re.match(r"^[a-z][a-z0-9+.-]*://", p) else os.path.join(base, p)

        xsd = raw.get("xsd")
        if xsd is None:
            raise OracleError("mapping has no xsd")
        self.xsds = [local(x) for x in (xsd if isinstance(xsd, list) else [xsd])]
        self.namespaces = dict(raw.get("namespaces", {}))
        self.schema_locations = {k: local(v) for k, v in raw.get("schema_locations", {}).items()}
        self.tables = []
        for t in raw.get("table", []):
            self.tables.append((t["name"], [self.parse_path(p) for p in t["rows"]]))
        self.roots = []
        for r in raw.get("roots", []):
            p = self.parse_path(r)
            if len(p) != 1 or p[0].startswith("@"):
                raise OracleError(f"roots: {r!r} is not a root element path such as \"/p:Document\"")
            self.roots.append(p[0])
        self.document_name = raw.get("document", {}).get("name")
        self.types = {self.qname(k): v for k, v in raw.get("types", {}).items()}
        self.columns = {}
        for k, v in raw.get("columns", {}).items():
            self.columns[self.parse_path(k)] = v
        opts = raw.get("options", {})
        self.timezone = opts.get("timezone", "UTC")
        self.max_depth = int(opts.get("max_depth", 15))
        relax = raw.get("relax", {})
        self.relax_optional = [self.parse_path(p) for p in relax.get("optional", [])]
        self.require_one_of = [[self.parse_path(p) for p in g] for g in relax.get("require_one_of", [])]

    def qname(self, text):
        if text.startswith("{"):
            return text
        if ":" in text:
            prefix, local = text.split(":", 1)
            if prefix == "xs" and prefix not in self.namespaces:
                return "{%s}%s" % (XS, local)
            if prefix not in self.namespaces:
                raise OracleError(f"unknown prefix {prefix!r} in {text!r}")
            return "{%s}%s" % (self.namespaces[prefix], local)
        return text

    def parse_path(self, text):
        if not text.startswith("/"):
            raise OracleError(f"path must be absolute: {text!r}")
        out = []
        for seg in text.strip("/").split("/"):
            if seg.startswith("@"):
                out.append("@" + self.qname(seg[1:]))
            else:
                out.append(self.qname(seg))
        return tuple(out)


# ---------------------------------------------------------------------------------------------------------
# schema -> expected columns
# ---------------------------------------------------------------------------------------------------------
def local_name(clark):
    return clark.rsplit("}", 1)[-1]


def sanitize(name):
    """Column name of an XSD local name: characters outside [A-Za-z0-9_] -> '_', leading underscores
    removed, then a 'c_' prefix when empty or starting with a digit."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", name).lstrip("_")
    if name == "" or name[:1].isdigit():
        name = "c_" + name
    return name


INF = math.inf
BUILTIN_BQ = {
    "string": "STRING", "normalizedString": "STRING", "token": "STRING", "language": "STRING",
    "Name": "STRING", "NCName": "STRING", "NMTOKEN": "STRING", "ID": "STRING", "IDREF": "STRING",
    "ENTITY": "STRING", "anyURI": "STRING", "QName": "STRING", "NOTATION": "STRING",
    "anySimpleType": "STRING", "anyAtomicType": "STRING", "duration": "STRING", "dayTimeDuration": "STRING",
    "yearMonthDuration": "STRING", "gYear": "STRING", "gYearMonth": "STRING", "gMonthDay": "STRING",
    "gMonth": "STRING", "gDay": "STRING",
    "boolean": "BOOL", "float": "FLOAT64", "double": "FLOAT64",
    "integer": "INT64", "nonPositiveInteger": "INT64", "negativeInteger": "INT64", "long": "INT64",
    "int": "INT64", "short": "INT64", "byte": "INT64", "nonNegativeInteger": "INT64",
    "unsignedLong": "INT64", "unsignedInt": "INT64", "unsignedShort": "INT64", "unsignedByte": "INT64",
    "positiveInteger": "INT64",
    "decimal": "DECIMAL", "date": "DATE", "time": "TIME", "dateTime": "TIMESTAMP",
    "dateTimeStamp": "TIMESTAMP", "base64Binary": "BYTES", "hexBinary": "BYTES",
}
BUILTIN_LISTS = {"NMTOKENS", "IDREFS", "ENTITIES"}
# legacy BigQuery names in S.json: values are converted as their standard SQL type, the schema diff reports them
TYPE_ALIASES = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL", "STRUCT": "RECORD"}


class Col:
    """One expected column. kind: attr | elem | value | any | anyattr | xsitype | lineage."""

    def __init__(self, name, kind, mode, bq, qname=None, decl=None, st=None, fields=None, xmltext=False,
                 path=None, presence=False):
        self.name, self.kind, self.mode, self.bq = name, kind, mode, bq
        self.qname, self.decl, self.st, self.fields = qname, decl, st, fields
        self.xmltext, self.path = xmltext, path
        self.presence = presence  # BOOL column of an element of an empty complex type
        self.list_record = False  # REPEATED RECORD{value REPEATED} for a repeated list-typed element

    def to_json(self):
        d = {"name": self.name, "type": self.bq, "mode": self.mode}
        if self.fields is not None:
            d["fields"] = [f.to_json() for f in self.fields]
        return d


def xs(tag):
    return "{%s}%s" % (XS, tag)


ANY_TYPE = xs("anyType")
SCHEMA_REFS = (xs("include"), xs("import"), xs("redefine"), xs("override"))


def is_builtin(t):
    return isinstance(t, XsdAtomicBuiltin) or (t.name or "").startswith("{%s}" % XS)


def is_any_type(t):
    return t is not None and getattr(t, "name", None) == ANY_TYPE


def _norm_url(u):
    if not u:
        return u
    if u.startswith("file:"):
        u = urllib.parse.unquote(urllib.parse.urlparse(u).path)
    if "://" not in u:
        return os.path.realpath(u)
    return u


def document_ranks(schema, mapping):
    """{id(document schema): rank}: the schema documents of a set in load order (the document named by the
    mapping first, then the documents it includes/imports/redefines, depth first, in the order of those
    elements); documents reached otherwise (xmlschema's own xml.xsd fallback...) come last."""
    docs = list(schema.maps.iter_schemas())
    by_url = {}
    for s in docs:
        by_url.setdefault(_norm_url(s.url), s)
    order, seen = [], set()

    def target(doc, ch):
        loc = ch.get("schemaLocation")
        if loc:
            joined = urllib.parse.urljoin(doc.url, loc) if doc.url else loc
            for cand in (mapping.schema_locations.get(loc), mapping.schema_locations.get(joined), joined, loc):
                if cand and by_url.get(_norm_url(cand)) is not None:
                    return by_url[_norm_url(cand)]
        if ch.tag == xs("import"):
            ns = ch.get("namespace") or ""
            for s in docs:
                if (s.target_namespace or "") == ns and id(s) not in seen:
                    return s
        return None

    def visit(doc):
        if id(doc) in seen:
            return
        seen.add(id(doc))
        order.append(doc)
        for ch in doc.root:
            if ch.tag in SCHEMA_REFS:
                t = target(doc, ch)
                if t is not None:
                    visit(t)

    visit(schema)
    for s in docs:
        if id(s) not in seen:
            seen.add(id(s))
            order.append(s)
    return {id(s): i for i, s in enumerate(order)}


class SchemaModel:
    def __init__(self, schema, mapping):
        self.schema, self.m = schema, mapping
        self.row_paths = {p for _, paths in mapping.tables for p in paths}
        self._derived, self._attr_order, self._positions, self._cols = {}, {}, {}, {}
        self.doc_rank = document_ranks(schema, mapping)
        self.complex_types = sorted((t for t in schema.maps.types.values()
                                     if getattr(t, "is_complex", lambda: False)() and not is_builtin(t)),
                                    key=self.decl_key)

    def decl_key(self, component):
        """Declaration order of a global component: (rank of its schema document in load order, position
        of its XSD element in that document)."""
        doc = component.schema
        if id(doc) not in self._positions:
            self._positions[id(doc)] = {id(e): i for i, e in enumerate(doc.root.iter())}
        return (self.doc_rank.get(id(doc), 1 << 30), self._positions[id(doc)].get(id(component.elem), 1 << 30))

    # ---- types
    def simple_bq(self, st, path=None):
        """(bq type, repeated-by-list) for a simple type."""
        if st.is_list():
            item = st.item_type if hasattr(st, "item_type") else st.base_type.item_type
            return self.simple_bq(item)[0], True
        if st.is_union():
            kinds = {self.simple_bq(mt)[0] for mt in st.member_types}
            return (kinds.pop() if len(kinds) == 1 else "STRING"), False
        t = st
        while t is not None:
            if t.name and t.name in self.m.types:
                return self.m.types[t.name], False
            if is_builtin(t):
                break
            t = t.base_type
        if t is None:
            return "STRING", False
        ln = local_name(t.name)
        if ln in BUILTIN_LISTS:
            return "STRING", True
        bq = BUILTIN_BQ.get(ln, "STRING")
        if bq == "DECIMAL":
            td = fd = None
            u = st
            while u is not None and not is_builtin(u):
                facets = getattr(u, "facets", {}) or {}
                if td is None and facets.get(XSD_TOTAL_DIGITS) is not None:
                    td = facets[XSD_TOTAL_DIGITS].value
                if fd is None and facets.get(XSD_FRACTION_DIGITS) is not None:
                    fd = facets[XSD_FRACTION_DIGITS].value
                u = u.base_type
            f = fd if fd is not None else td
            bq = "NUMERIC" if td is not None and f <= 9 and td - min(f, td) <= 29 else "BIGNUMERIC"
        return bq, False

    @staticmethod
    def derivation_methods(d, t):
        """The derivation methods of the steps from complex type d up to t, or None if d is not derived
        from t."""
        methods, cur, seen = [], d, set()
        while cur is not None and id(cur) not in seen:
            if cur is t:
                return methods
            seen.add(id(cur))
            if cur.is_simple() or is_any_type(cur):
                return None
            methods.append(getattr(cur, "derivation", None) or "restriction")
            cur = cur.base_type
        return None

    def derived_types(self, t):
        """Every named complex type derived from t (extension or restriction, transitively), in
        declaration order; none for xs:anyType."""
        if t is None or t.is_simple() or is_any_type(t):
            return []
        key = id(t)
        if key not in self._derived:
            self._derived[key] = [d for d in self.complex_types
                                  if d is not t and self.derivation_methods(d, t) is not None]
        return self._derived[key]

    def xsi_types(self, t, elem_block=""):
        """The types xsi:type may name on an element of declared type t: derived, not abstract, not
        blocked by the element's or t's block (blockDefault applied by xmlschema)."""
        block = set((elem_block or "").split()) | set((getattr(t, "block", "") or "").split())
        if "#all" in block:
            block |= {"extension", "restriction"}
        return [d for d in self.derived_types(t)
                if not d.abstract and not (set(self.derivation_methods(d, t)) & block)]

    # ---- attributes in declaration order
    @staticmethod
    def attr_decl_name(ch, doc):
        if ch.get("ref"):
            return doc.resolve_qname(ch.get("ref"))
        name = ch.get("name")
        form = ch.get("form") or doc.attribute_form_default
        tns = doc.target_namespace
        return "{%s}%s" % (tns, name) if form == "qualified" and tns else name

    def _walk_attrs(self, elem, doc, out, guard):
        for ch in elem:
            if ch.tag == xs("attribute"):
                n = self.attr_decl_name(ch, doc)
                if n not in out:
                    out.append(n)
            elif ch.tag == xs("attributeGroup") and ch.get("ref"):
                q = doc.resolve_qname(ch.get("ref"))
                g = self.schema.maps.attribute_groups.get(q)
                if g is not None and q not in guard:
                    self._walk_attrs(g.elem, g.schema, out, guard | {q})

    def attr_order(self, t):
        """Attribute names of complex type t in schema declaration order: an extension's base attributes
        first, then its own; a restriction keeps the base's order (overrides in place), then any new ones;
        attribute group references expanded in place."""
        if t is None or t.is_simple() or is_any_type(t):
            return []
        key = id(t)
        if key in self._attr_order:
            return self._attr_order[key]
        self._attr_order[key] = []
        deriv = None
        for ch in t.elem:
            if ch.tag in (xs("simpleContent"), xs("complexContent")):
                for g in ch:
                    if g.tag in (xs("extension"), xs("restriction")):
                        deriv = g
        own = []
        self._walk_attrs(deriv if deriv is not None else t.elem, t.schema, own, frozenset())
        base = t.base_type if deriv is not None else None
        base_order = self.attr_order(base) if base is not None and base is not t else []
        out = list(base_order) + [n for n in own if n not in base_order]
        self._attr_order[key] = out
        return out

    def attribute_uses(self, t):
        """([(name, attribute use)] in declaration order without prohibited ones, attribute wildcard or
        None)."""
        group = dict(getattr(t.attributes, "_attribute_group", None) or t.attributes.items())
        wildcard = group.pop(None, None)
        if wildcard is not None and not wildcard.namespace and not wildcard.not_namespace:
            wildcard = None  # a restriction without xs:anyAttribute: xmlschema keeps an empty wildcard
        order = self.attr_order(t)
        missing = [k for k in group if k not in order]
        if missing:
            raise OracleError(f"attribute order of {t!r}: {missing} not found in the XSD source")
        uses = [(n, group[n]) for n in order if n in group and getattr(group[n], "use", None) != "prohibited"]
        return uses, wildcard

    def is_scalar_like(self, t):
        """A complex type with simple content and nothing else (no attribute uses, no attribute wildcard,
        no named complex types derived from it): its element is a plain scalar column."""
        if t.is_simple() or is_any_type(t) or not t.has_simple_content():
            return False
        uses, wildcard = self.attribute_uses(t)
        return not uses and wildcard is None and not self.derived_types(t)

    def is_empty_type(self, t):
        """A complex type with no attributes, empty content and no derived types: a BOOL column."""
        if t.is_simple() or is_any_type(t) or t.has_simple_content() or t.mixed:
            return False
        if not isinstance(t.content, XsdGroup) or self.model_occurs(t.content):
            return False
        uses, wildcard = self.attribute_uses(t)
        return not uses and wildcard is None and not self.derived_types(t)

    # ---- occurrences in a content model
    def model_occurs(self, group):
        """OrderedDict clark -> [min, max, decl]; ANY -> [min, max, wildcard list]."""
        def merge_seq(acc, d):
            for k, (mn, mx, dc) in d.items():
                if k in acc:
                    acc[k][0] += mn
                    acc[k][1] += mx
                    if k is ANY:
                        acc[k][2] = acc[k][2] + dc
                else:
                    acc[k] = [mn, mx, dc]
            return acc

        def visit(p):
            if isinstance(p, XsdAnyElement):
                return {ANY: [p.min_occurs, INF if p.max_occurs is None else p.max_occurs, [p]]}
            if isinstance(p, XsdElement):
                mx = INF if p.max_occurs is None else p.max_occurs
                subs = sorted(p.iter_substitutes(), key=self.decl_key) if hasattr(p, "iter_substitutes") else []
                if not subs:
                    return {p.name: [p.min_occurs, mx, p]}
                d = {}
                members = ([] if p.abstract else [p]) + subs
                for s in members:
                    if s.name not in d:
                        d[s.name] = [0, mx, s]
                return d
            if isinstance(p, XsdGroup):
                parts = [visit(c) for c in p]
                if p.model == "choice":
                    acc = {}
                    for d in parts:
                        for k, v in d.items():
                            if k not in acc:
                                acc[k] = list(v)
                            else:
                                acc[k][1] = max(acc[k][1], v[1])
                                acc[k][0] = min(acc[k][0], v[0])
                                if k is ANY:
                                    acc[k][2] = acc[k][2] + v[2]
                    for k in acc:
                        if any(k not in d for d in parts):
                            acc[k][0] = 0
                else:
                    acc = {}
                    for d in parts:
                        merge_seq(acc, {k: list(v) for k, v in d.items()})
                gmn = p.min_occurs
                gmx = INF if p.max_occurs is None else p.max_occurs
                for k in acc:
                    acc[k][0] *= gmn
                    acc[k][1] = acc[k][1] * gmx if acc[k][1] else 0
                return acc
            raise OracleError(f"unexpected particle {p!r}")

        return visit(group)

    # ---- columns of a complex type
    def type_columns(self, t, path, level):
        cols = []
        if t.is_simple():
            raise OracleError("type_columns on a simple type")
        uses, anyattr = self.attribute_uses(t)
        for name, attr in uses:
            apath = path + ("@" + name,)
            ov = self.m.columns.get(apath, {})
            if ov.get("exclude"):
                continue
            bq, is_list = self.simple_bq(attr.type)
            if ov.get("type"):
                bq = ov["type"]
            if is_list:
                mode = "REPEATED"
            elif attr.use == "required" or attr.default is not None or attr.fixed is not None:
                mode = "REQUIRED"
            else:
                mode = "NULLABLE"
            cols.append(Col(ov.get("rename") or sanitize(local_name(name)), "attr", mode, bq, qname=name,
                            decl=attr, st=attr.type, path=apath))
        content = t.content
        wild = None
        if isinstance(content, XsdGroup):
            for k, (mn, mx, dc) in self.model_occurs(content).items():
                if k is ANY:
                    wild = (mn, mx, dc)
                    continue
                c = self.element_col(dc, k, path + (k,), level + 1, mn, mx)
                if c is not None:
                    cols.append(c)
        if t.has_simple_content():
            st = content
            bq, is_list = self.simple_bq(st)
            ov = self.m.columns.get(path, {})
            if ov.get("type"):
                bq = ov["type"]
            cols.append(Col("value", "value", "REPEATED" if is_list else "REQUIRED", bq, st=st, path=path))
        elif t.mixed:
            cols.append(Col("value", "value", "REQUIRED", "STRING", path=path))
        if wild is not None:
            mode = "REPEATED" if wild[1] > 1 else ("NULLABLE" if wild[0] == 0 else "REQUIRED")
            cols.append(Col("any", "any", mode, "STRING", xmltext=True))
        if anyattr is not None:
            cols.append(Col("any_attributes", "anyattr", "NULLABLE", "STRING", decl=anyattr))
        names = [c.name for c in cols]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise OracleError(f"two columns named {sorted(dup)} under {'/'.join(local_name(p) for p in path)}")
        return cols

    def record_fields(self, t, path, level, nillable, elem_block=""):
        """Columns of the record of an element of declared type t (with its xsi:type union)."""
        cols = self.type_columns(t, path, level)
        derived = self.xsi_types(t, elem_block)
        if derived:
            types = ([] if t.abstract else [t]) + derived
            per_type = {id(t): {c.name: c for c in cols}}
            for d in derived:
                per_type[id(d)] = {c.name: c for c in self.type_columns(d, path, level)}
            have = {c.name for c in cols}
            for d in derived:
                for c in per_type[id(d)].values():
                    if c.name not in have:
                        cols.append(c)
                        have.add(c.name)
            for c in cols:
                having = [per_type[id(u)][c.name] for u in types if c.name in per_type[id(u)]]
                for h in having:  # the first type's column (the declared type's) holds the others' values
                    if h.mode == "REPEATED" and c.mode != "REPEATED":
                        raise OracleError(f"column {c.name} under {'/'.join(local_name(p) for p in path)}: "
                                          f"{h.mode} in one xsi:type type, {c.mode} in another")
                if c.mode == "REQUIRED" and (len(having) < len(types) or any(h.mode == "NULLABLE" for h in having)):
                    c.mode = "NULLABLE"
            cols.append(Col("xsi_type", "xsitype", "NULLABLE", "STRING"))
        if nillable:  # a nilled element has no content: only the attribute columns stay REQUIRED
            for c in cols:
                if c.kind != "attr" and c.mode == "REQUIRED":
                    c.mode = "NULLABLE"
        return cols

    def element_col(self, decl, qname, path, level, mn, mx):
        if path in self.row_paths:
            return None
        ov = self.m.columns.get(path, {})
        if ov.get("exclude"):
            return None
        name = ov.get("rename") or sanitize(local_name(qname))
        mode = "REPEATED" if mx > 1 else ("NULLABLE" if mn == 0 or decl.nillable else "REQUIRED")
        t = decl.type
        st = t if t.is_simple() else (t.content if self.is_scalar_like(t) else None)
        if st is not None:
            bq, is_list = self.simple_bq(st)
            if ov.get("type"):
                bq = ov["type"]
            if is_list:
                if mode == "REPEATED":
                    inner = Col("value", "value", "REPEATED", bq, st=st, path=path)
                    c = Col(name, "elem", "REPEATED", "RECORD", qname=qname, decl=decl, st=st, fields=[inner],
                            path=path)
                    c.list_record = True
                    return c
                mode = "REPEATED"
            return Col(name, "elem", mode, bq, qname=qname, decl=decl, st=st, path=path)
        if self.is_empty_type(t):
            return Col(name, "elem", mode, "BOOL", qname=qname, decl=decl, path=path, presence=True)
        if level > self.m.max_depth:
            return Col(name, "elem", mode, "STRING", qname=qname, decl=decl, xmltext=True, path=path)
        fields = self.record_fields(t, path, level, decl.nillable, decl.block)
        if not fields:
            return None
        return Col(name, "elem", mode, "RECORD", qname=qname, decl=decl, fields=fields, path=path)

    # ---- row paths
    def decls_at(self, path):
        """The element declarations along an absolute path (children found in the declared type, else in
        one of the types xsi:type may give it)."""
        decl = self.schema.maps.elements.get(path[0])
        if decl is None:
            raise OracleError(f"row path {'/'.join(path)}: {path[0]} is not a global element")
        decls = [decl]
        for q in path[1:]:
            found = None
            t = decls[-1].type
            for u in [t] + self.xsi_types(t, decls[-1].block):
                if u.is_simple() or not isinstance(u.content, XsdGroup):
                    continue
                occ = self.model_occurs(u.content)
                if q in occ:
                    found = occ[q][2]
                    break
            if found is None:
                raise OracleError(f"row path {'/'.join(path)}: no element {q} in its parent")
            decls.append(found)
        return decls

    def is_repeated_child(self, parent_decl, child_qname):
        t = parent_decl.type
        for u in [t] + self.xsi_types(t, parent_decl.block):
            if u.is_simple() or not isinstance(u.content, XsdGroup):
                continue
            occ = self.model_occurs(u.content)
            if child_qname in occ and occ[child_qname][1] > 1:
                return True
        return False

    def lineage(self, path):
        """[(column name, ancestor path)] of a row path: its repeated ancestors, named _<local>_ordinal
        (the k-th ancestor with one local name on the path: _<local>_k_ordinal)."""
        decls = self.decls_at(path)
        out, seen = [], {}
        for i in range(1, len(path) - 1):
            if self.is_repeated_child(decls[i - 1], path[i]):
                ln = local_name(path[i])
                seen[ln] = seen.get(ln, 0) + 1
                base = sanitize(ln)
                name = "_%s_ordinal" % base if seen[ln] == 1 else "_%s_%d_ordinal" % (base, seen[ln])
                out.append((name, path[:i + 1]))
        return out


# ---------------------------------------------------------------------------------------------------------
# values
# ---------------------------------------------------------------------------------------------------------
def own_text(elem):
    parts = [elem.text or ""]
    for ch in elem:
        parts.append(ch.tail or "")
    return "".join(parts)


def ws_normalize(text, st):
    mode = getattr(st, "white_space", None) if st is not None else None
    if st is not None and (st.is_list() or st.is_union()):
        mode = "collapse"
    if mode == "replace":
        return re.sub(r"[\t\r\n]", " ", text)
    if mode == "collapse":
        return re.sub(r"[ \t\r\n]+", " ", text).strip(" ")
    return text


def canonical_decimal(d):
    if d == 0:
        return "0"
    s = format(d.normalize(), "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def frac_trim(micro_digits):
    f = micro_digits.rstrip("0")
    return ("." + f) if f else ""


DT_RE = re.compile(r"^(-?\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")
DATE_RE = re.compile(r"^(-?\d{4,})-(\d{2})-(\d{2})(Z|[+-]\d{2}:\d{2})?$")
TIME_RE = re.compile(r"^(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")


def tz_offset(text):
    if text is None:
        return None
    if text == "Z":
        return datetime.timedelta(0)
    sign = -1 if text[0] == "-" else 1
    return sign * datetime.timedelta(hours=int(text[1:3]), minutes=int(text[4:6]))


def frac_micro(frac, what):
    digits = (frac or ".")[1:]
    if len(digits) > 6 and digits[6:].strip("0"):
        raise Reject("unrepresentable", f"{what}: non-zero digits below the microsecond", 4)
    return int((digits + "000000")[:6])


def check_year(y, what):
    if not 1 <= y <= 9999:
        raise Reject("unrepresentable", f"{what}: year {y} outside 0001-9999", 4)


class ValueConverter:
    def __init__(self, mapping):
        self.tz_name = mapping.timezone

    def zone_for_unzoned(self, naive):
        name = self.tz_name
        if name in ("UTC", "Z", "utc"):
            return datetime.timedelta(0)
        if re.match(r"^[+-]\d{2}:\d{2}$", name):
            return tz_offset(name)
        import zoneinfo
        z = zoneinfo.ZoneInfo(name)
        return naive.replace(tzinfo=z).utcoffset()

    def convert(self, lex, bq, st, what):
        """lexical (already whitespace-normalized) -> canonical JSON value for a column of type bq."""
        bq = TYPE_ALIASES.get(bq, bq)
        if bq == "STRING":
            return lex
        s = lex.strip(" \t\r\n")
        if bq == "INT64":
            v = int(s)
            if not -2 ** 63 <= v < 2 ** 63:
                raise Reject("unrepresentable", f"{what}: {s} beyond INT64", 4)
            return v
        if bq == "FLOAT64":
            if s in ("NaN", "INF", "-INF"):
                return s
            if s == "+INF":
                return "INF"
            return float(s)
        if bq in ("NUMERIC", "BIGNUMERIC"):
            d = decimal.Decimal(s)
            ip, fp = (29, 9) if bq == "NUMERIC" else (38, 38)
            sign, digits, exp = d.normalize().as_tuple() if d != 0 else (0, (0,), 0)
            frac_digits = max(0, -exp)
            int_digits = max(0, len(digits) + exp)
            if frac_digits > fp or int_digits > ip:
                raise Reject("unrepresentable", f"{what}: {s} does not fit {bq}", 4)
            return canonical_decimal(d)
        if bq == "BOOL":
            return s in ("true", "1")
        if bq == "BYTES":
            prim = self.primitive(st)
            if prim == "hexBinary":
                b = bytes.fromhex(s)
            else:
                b = base64.b64decode(re.sub(r"\s+", "", s), validate=True)
            return base64.b64encode(b).decode("ascii")
        if bq == "DATE":
            m = DATE_RE.match(s) or (DT_RE.match(s) and re.match(r"^(-?\d{4,})-(\d{2})-(\d{2})", s))
            if not m:
                raise OracleError(f"{what}: {s!r} is not a date for a DATE column")
            y = int(m.group(1))
            check_year(y, what)
            return "%04d-%s-%s" % (y, m.group(2), m.group(3))
        if bq == "TIME":
            m = TIME_RE.match(s)
            if not m:
                raise OracleError(f"{what}: {s!r} is not a time for a TIME column")
            h, mi, se = int(m.group(1)), int(m.group(2)), int(m.group(3))
            us = frac_micro(m.group(4), what)
            if h == 24:
                h = 0
            secs = h * 3600 + mi * 60 + se
            off = tz_offset(m.group(5))
            if off is not None:
                secs = (secs - int(off.total_seconds())) % 86400
            return "%02d:%02d:%02d%s" % (secs // 3600, secs // 60 % 60, secs % 60, frac_trim("%06d" % us))
        if bq in ("TIMESTAMP", "DATETIME"):
            m = DT_RE.match(s)
            if not m:
                dm = DATE_RE.match(s)
                if dm:
                    raise OracleError(f"{what}: date {s!r} in a {bq} column (union?)")
                raise OracleError(f"{what}: {s!r} is not a dateTime")
            y = int(m.group(1))
            check_year(y, what)
            us = frac_micro(m.group(7), what)
            h = int(m.group(4))
            extra = datetime.timedelta(0)
            if h == 24:
                h, extra = 0, datetime.timedelta(days=1)
            try:
                naive = datetime.datetime(y, int(m.group(2)), int(m.group(3)), h, int(m.group(5)),
                                          int(m.group(6)), us) + extra
            except OverflowError:
                raise Reject("unrepresentable", f"{what}: {s} out of range", 4)
            off = tz_offset(m.group(8))
            if off is None and bq == "DATETIME":
                utc = naive
            else:
                if off is None:
                    off = self.zone_for_unzoned(naive)
                try:
                    utc = naive - off
                except OverflowError:
                    raise Reject("unrepresentable", f"{what}: {s} out of range in UTC", 4)
            check_year(utc.year, what)
            out = "%04d-%02d-%02dT%02d:%02d:%02d%s" % (utc.year, utc.month, utc.day, utc.hour, utc.minute,
                                                       utc.second, frac_trim("%06d" % utc.microsecond))
            return out + ("Z" if bq == "TIMESTAMP" else "")
        raise OracleError(f"{what}: no conversion to {bq}")

    @staticmethod
    def primitive(st):
        t = st
        while t is not None and not is_builtin(t):
            t = t.base_type
        return local_name(t.name) if t is not None and t.name else None


def exc_c14n(xml_text):
    parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, remove_blank_text=False)
    el = etree.fromstring(xml_text.encode("utf-8") if isinstance(xml_text, str) else xml_text, parser)
    return etree.tostring(el, method="c14n", exclusive=True, with_comments=True).decode("utf-8")


def xml_text(elem):
    return etree.tostring(elem, encoding="unicode", with_tail=False)


class Expected:
    """Builds expected rows of a document, guided by the expected columns."""

    def __init__(self, model, conv):
        self.model, self.conv = model, conv
        self.schema = model.schema
        self._declared = {}

    def scalar(self, lex, col, bq, st, what):
        if st is not None:
            lex = ws_normalize(lex, st)
        if st is not None and st.is_list():
            item = st.item_type if hasattr(st, "item_type") else st.base_type.item_type
            return [self.conv.convert(x, bq, item, what) for x in lex.split(" ") if x != ""]
        if st is not None and (st.is_union()) and bq != "STRING":
            for mt in st.member_types:
                try:
                    mt.decode(lex)
                except Exception:
                    continue
                return self.conv.convert(lex, bq, mt, what)
        return self.conv.convert(lex, bq, st, what)

    def elem_simple(self, el, col, bq, what):
        if el.get(XSI_NIL) in ("true", "1"):
            return None
        text = own_text(el)
        d = col.decl
        if text == "" and d is not None and (d.default is not None or d.fixed is not None):
            text = d.fixed if d.fixed is not None else d.default
        return self.scalar(text, col, bq, col.st, what)

    def declared_names(self, t):
        """Clark names of every element and attribute declared by type t (the element's declared type, or
        the one its xsi:type names), also those split out as tables or excluded: the rest of the
        children/attributes match the wildcards."""
        key = id(t)
        if key not in self._declared:
            elems, attrs = set(), set()
            if not t.is_simple():
                attrs.update(k for k in t.attributes if k is not None)
                if isinstance(t.content, XsdGroup):
                    elems.update(k for k in self.model.model_occurs(t.content) if k is not ANY)
            self._declared[key] = (elems, attrs)
        return self._declared[key]

    def record(self, el, fields, types, what, t=None):
        """el: the element; fields: its Col list; types: S.json fields by name (for value types);
        t: the element's declared type."""
        out = {}
        nil = el.get(XSI_NIL) in ("true", "1")
        eff = None
        xt = el.get(XSI_TYPE)
        if xt is not None and not is_any_type(t):  # xsi:type on an xs:anyType element is ignored
            xt = xt.strip()
            prefix, _, ln = xt.rpartition(":")
            uri = (el.nsmap or {}).get(prefix or None)
            eff = self.schema.maps.types.get("{%s}%s" % (uri, ln) if uri else ln)
        et = eff if eff is not None else t
        if et is not None and not et.is_simple():
            declared, declared_attrs = self.declared_names(et)
        else:
            declared = {f.qname for f in fields if f.kind == "elem"}
            declared_attrs = {f.qname for f in fields if f.kind == "attr"}
        for f in fields:
            sj = types.get(f.name) if types else None
            if sj and (TYPE_ALIASES.get(sj.get("type"), sj.get("type")) == "RECORD") != (f.bq == "RECORD"):
                sj = None  # ours has a RECORD where a scalar is expected or the reverse: the schema diff says so
            bq = sj.get("type") if sj else f.bq
            sub = {x["name"]: x for x in sj.get("fields", [])} if sj and sj.get("fields") else None
            w = f"{what}.{f.name}" if what else f.name
            if f.kind == "attr":
                v = el.get(f.qname)
                if v is None:
                    a = f.decl
                    if et is not None and not et.is_simple():
                        a = et.attributes.get(f.qname)  # the effective (xsi:type) type's attribute use
                    if a is not None:
                        v = a.fixed if getattr(a, "fixed", None) is not None else getattr(a, "default", None)
                if v is None:
                    out[f.name] = [] if f.mode == "REPEATED" else None
                else:
                    out[f.name] = self.scalar(v, f, bq, f.st, w)
            elif f.kind == "elem":
                kids = [c for c in el if isinstance(c.tag, str) and c.tag == f.qname and c.tag in declared]
                if nil:
                    out[f.name] = [] if f.mode == "REPEATED" else None
                    continue
                if f.presence:  # an element of an empty complex type: true when present
                    out[f.name] = [True] * len(kids) if f.mode == "REPEATED" else (True if kids else None)
                    continue
                vals = [self.elem_value(k, f, bq, sub, w) for k in kids]
                if f.mode == "REPEATED" and not (f.st is not None and f.st.is_list() and not f.list_record):
                    out[f.name] = vals
                elif f.mode == "REPEATED":  # a single list-typed element
                    out[f.name] = vals[0] if vals else []
                else:
                    if len(vals) > 1:
                        raise OracleError(f"{w}: {len(vals)} elements for a non-repeated column")
                    out[f.name] = vals[0] if vals else None
            elif f.kind == "value":
                if nil:
                    out[f.name] = [] if f.mode == "REPEATED" else None
                elif f.st is None:  # mixed
                    out[f.name] = own_text(el)
                else:
                    out[f.name] = self.scalar(own_text(el), f, bq, f.st, w)
            elif f.kind == "any":
                if nil:
                    out[f.name] = [] if f.mode == "REPEATED" else None
                    continue
                kids = [xml_text(c) for c in el if isinstance(c.tag, str) and c.tag not in declared]
                out[f.name] = kids if f.mode == "REPEATED" else (kids[0] if kids else None)
            elif f.kind == "anyattr":
                extra = [(k, v) for k, v in el.attrib.items()
                         if k not in declared_attrs and not k.startswith("{%s}" % XSI)]
                out[f.name] = format_attrs(el, extra) if extra else None
            elif f.kind == "xsitype":
                v = el.get(XSI_TYPE)
                out[f.name] = None if v is None else v.strip().split(":")[-1]
        return out

    def elem_value(self, el, f, bq, sub, what):
        if f.xmltext:
            return xml_text(el)
        if f.fields is None:
            return self.elem_simple(el, f, bq, what)
        if f.list_record:
            inner = f.fields[0]
            sj = sub.get("value") if sub else None
            ibq = sj.get("type") if sj else inner.bq
            if el.get(XSI_NIL) in ("true", "1"):
                return {"value": []}
            return {"value": self.elem_simple(el, f, ibq, what) or []}
        # simple-content records need the element's default for an empty value
        rec = self.record(el, f.fields, sub, what, f.decl.type if f.decl is not None else None)
        d = f.decl
        if "value" in rec and rec["value"] == "" and d is not None and (d.default is not None or d.fixed is not None):
            vf = [x for x in f.fields if x.kind == "value"][0]
            sj = sub.get("value") if sub else None
            rec["value"] = self.scalar(d.fixed if d.fixed is not None else d.default, vf,
                                       sj.get("type") if sj else vf.bq, vf.st, what + ".value")
        return rec


def format_attrs(el, items):
    rev = {}
    for p, u in (el.nsmap or {}).items():
        rev.setdefault(u, p)
    parts = []
    for k, v in items:
        if k.startswith("{"):
            uri, ln = k[1:].split("}", 1)
            p = "xml" if uri == "http://www.w3.org/XML/1998/namespace" else rev.get(uri)
            name = f"{p}:{ln}" if p else k
        else:
            name = k
        v = v.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
        parts.append(f'{name}="{v}"')
    return " ".join(parts)


# ---------------------------------------------------------------------------------------------------------
# the document
# ---------------------------------------------------------------------------------------------------------
RULES = [
    ("XsdPatternFacets", "facet-pattern"), ("XsdEnumerationFacets", "facet-enumeration"),
    ("XsdLengthFacet", "facet-length"), ("XsdMinLengthFacet", "facet-length"),
    ("XsdMaxLengthFacet", "facet-length"), ("XsdMinInclusiveFacet", "facet-range"),
    ("XsdMaxInclusiveFacet", "facet-range"), ("XsdMinExclusiveFacet", "facet-range"),
    ("XsdMaxExclusiveFacet", "facet-range"), ("XsdTotalDigitsFacet", "facet-digits"),
    ("XsdFractionDigitsFacet", "facet-digits"), ("XsdKey", "key-duplicate"), ("XsdUnique", "key-duplicate"),
    ("XsdKeyref", "keyref"),
]


def guess_rule(err):
    vname = type(getattr(err, "validator", None)).__name__
    reason = (getattr(err, "reason", None) or str(err)).lower()
    for cls, rule in RULES:
        if vname == cls:
            if rule == "key-duplicate" and "missing" in reason:
                return "key-missing"
            return rule
    if "not found for xsdkey" in reason or "keyref" in reason:
        return "keyref"
    if "duplicate" in reason and ("xsdkey" in reason or "xsdunique" in reason):
        return "key-duplicate"
    if "missing key field" in reason:
        return "key-missing"
    if "unexpected child" in reason and "expected" in reason.split("unexpected child", 1)[1]:
        return "missing-element"  # or out-of-order: xmlschema does not tell them apart
    for needle, rule in [("xsi:nil", "nil"), ("nillable", "nil"), ("xsi:type", "xsi-type"),
                         ("is blocked", "xsi-type"), ("cannot substitute", "xsi-type"),
                         ("abstract", "abstract"), ("fixed", "fixed-value"),
                         ("missing required attribute", "missing-attribute"),
                         ("is not an attribute of", "unknown-attribute"),
                         ("not allowed", "unexpected-text"), ("character data", "unexpected-text"),
                         ("not complete", "missing-element"), ("unexpected child", "unknown-element"),
                         ("is not an element of the schema", "unknown-element")]:
        if needle in reason:
            return rule
    return "invalid-value"


def load_schemas(mapping):
    out = []
    for x in mapping.xsds:
        kw = {}
        if mapping.schema_locations:
            kw["uri_mapper"] = dict(mapping.schema_locations)
        out.append(xmlschema.XMLSchema10(x, **kw))
    return out


def parse_doc(path):
    parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, huge_tree=True,
                             remove_blank_text=False, remove_comments=False, remove_pis=False, strip_cdata=True)
    with open(path, "rb") as f:
        data = f.read()
    try:
        data.decode("utf-8") if not data.startswith((b"\xff\xfe", b"\xfe\xff")) else None
    except UnicodeDecodeError as e:
        if not re.match(rb"^<\?xml[^>]*encoding=[\"'](?!utf-?8)", data, re.I):
            raise Reject("invalid-utf8", str(e))
    try:
        tree = etree.ElementTree(etree.fromstring(data, parser))
    except etree.XMLSyntaxError as e:
        raise Reject("truncated" if "end of data" in str(e).lower() or "premature end" in str(e).lower()
                     else "not-well-formed", str(e))
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise Reject("doctype-forbidden", "the document has a DOCTYPE")
    return tree


def possible_roots(mapping, schema):
    """Global elements of one schema set a document may have as its root: with tables, those listed by
    `roots` (when given) or those the tables' row paths start with; without tables, every global element
    declared in the schema document named by the mapping (not in the documents it includes/imports)."""
    if mapping.roots or mapping.tables:
        wanted = mapping.roots or [p[0] for _, ps in mapping.tables for p in ps]
        return [q for q in dict.fromkeys(wanted) if schema.maps.elements.get(q) is not None]
    return [e.name for e in schema.maps.elements.values() if getattr(e, "schema", None) is schema]


def pick_schema(schemas, root_tag, mapping):
    allowed = []
    for s in schemas:
        roots = possible_roots(mapping, s)
        if root_tag in roots:
            return s
        allowed += roots
    # like xml2bq: a possible root with the same local name in another namespace -> wrong-namespace
    rule = "wrong-namespace" if any(local_name(q) == local_name(root_tag) for q in allowed) else "wrong-root"
    raise Reject(rule, f"root {root_tag} is not one of the possible roots {sorted(allowed)}")


def find_particle(schema, path):
    decl = schema.maps.elements.get(path[0])
    for q in path[1:]:
        if decl is None or decl.type.is_simple():
            return None
        nxt = None
        for p in decl.type.content.iter_elements():
            if isinstance(p, XsdElement) and p.name == q:
                nxt = p
                break
        decl = nxt
    return decl


def element_path(el):
    out = []
    while el is not None:
        out.append(el.tag)
        el = el.getparent()
    return tuple(reversed(out))


class Oracle:
    def __init__(self, mapping, doc_path, source_uri=None):
        self.m = mapping
        self.doc_path = doc_path
        self.tree = parse_doc(doc_path)
        root = self.tree.getroot()
        self.schemas = load_schemas(mapping)
        self.schema = pick_schema(self.schemas, root.tag, mapping)
        for p in mapping.relax_optional:
            part = find_particle(self.schema, p)
            if part is not None:
                object.__setattr__(part, "min_occurs", 0)
        errors = []
        try:
            for e in self.schema.iter_errors(self.tree):
                errors.append(e)
                break
        except XMLSchemaKeyError as e:
            # xmlschema 4.3 raises instead of reporting an xsi:type that names no type
            # (cvc-elt.4.2: the document is invalid).
            if "global component" not in str(e):
                raise
            raise Reject("xsi-type", f"xsi:type names no type of the schema: {e}") from None
        if errors:
            e = errors[0]
            raise Reject(guess_rule(e), f"{e.reason} (at {e.path})" if getattr(e, "path", None) else str(e))
        for group in mapping.require_one_of:
            if not any(self.elements_at(p) for p in group):
                raise Reject("no-tables", "none of " + ", ".join("/".join(p) for p in group) + " present")
        self.model = SchemaModel(self.schema, mapping)
        self._models = {}
        self.conv = ValueConverter(mapping)
        self.root_decl = self.schema.maps.elements[root.tag]

    def elements_at(self, path):
        root = self.tree.getroot()
        if root.tag != path[0]:
            return []
        cur = [root]
        for q in path[1:]:
            cur = [c for e in cur for c in e if isinstance(c.tag, str) and c.tag == q]
        return cur

    def model_for(self, q):
        """The SchemaModel of the schema set holding global element q (None if none does)."""
        for sch in self.schemas:
            if sch.maps.elements.get(q) is not None:
                if sch is self.schema:
                    return self.model
                if id(sch) not in self._models:
                    self._models[id(sch)] = SchemaModel(sch, self.m)
                return self._models[id(sch)]
        return None

    def table_schema(self, path):
        decl = self.model.decls_at(path)[-1]
        if decl.type.is_simple():
            raise OracleError("a row element must be complex")
        return decl, self.model.record_fields(decl.type, path, 0, decl.nillable, decl.block)

    def table_lineage(self, paths):
        """(lineage Cols, {row path: {column name: ancestor path}}): the union by name over the table's
        row paths (of every schema set of the mapping); a column some row path lacks is NULLABLE."""
        per_path = {}
        for p in paths:
            model = self.model_for(p[0])
            if model is not None:
                per_path[p] = dict(model.lineage(p))
        names = list(dict.fromkeys(n for v in per_path.values() for n in v))
        lineage = [Col("_source_uri", "lineage", "REQUIRED", "STRING"),
                   Col("_record_ordinal", "lineage", "REQUIRED", "INT64")]
        for n in names:
            mode = "REQUIRED" if all(n in v for v in per_path.values()) else "NULLABLE"
            lineage.append(Col(n, "lineage", mode, "INT64"))
        return lineage, per_path

    def expected(self, s_json=None):
        """{table: (fields, lineage, rows)} in document order."""
        root = self.tree.getroot()
        tables = []
        for name, paths in self.m.tables:
            tables.append((name, paths))
        doc_name = self.m.document_name or local_name(root.tag)
        out = {}
        ancestor_index = {}
        all_elems = [e for e in root.iter() if isinstance(e.tag, str)]
        counters = {}
        for e in all_elems:
            p = element_path(e)
            counters[p] = counters.get(p, 0) + 1
            ancestor_index[e] = counters[p]
        row_paths = {p for _, ps in tables for p in ps}
        doc_entry = [] if (root.tag,) in row_paths else [(doc_name, [(root.tag,)])]
        for name, paths in tables + doc_entry:
            is_doc = bool(doc_entry) and name == doc_name and paths == [(root.tag,)]
            per_path = {}
            for p in paths:  # every row path this schema set can hold, whatever this document's root
                if self.schema.maps.elements.get(p[0]) is not None:
                    per_path[p] = self.table_schema(p)
            if not per_path:
                out[name] = None  # the table's rows cannot occur in this schema set
                continue
            fields = next(iter(per_path.values()))[1]
            lineage, lin_paths = self.table_lineage(paths)
            if is_doc and not fields:
                continue
            sj = {f["name"]: f for f in s_json.get(name, [])} if s_json and isinstance(s_json.get(name), list) else None
            rows = []
            elems = [e for e in all_elems if element_path(e) in per_path]
            builder = Expected(self.model, self.conv)
            for i, e in enumerate(elems, 1):
                rdecl, flds = per_path[element_path(e)]
                rec = builder.record(e, flds, sj, "", rdecl.type)
                rec["_record_ordinal"] = i
                anc = e.getparent()
                ancs = {}
                while anc is not None:
                    ancs[element_path(anc)] = ancestor_index[anc]
                    anc = anc.getparent()
                mine = lin_paths.get(element_path(e), {})
                for c in lineage:
                    if c.name in ("_source_uri", "_record_ordinal"):
                        continue
                    rec[c.name] = ancs.get(mine[c.name]) if c.name in mine else None
                rows.append(rec)
            out[name] = (fields, lineage, rows)
        return out


# ---------------------------------------------------------------------------------------------------------
# comparison
# ---------------------------------------------------------------------------------------------------------
class Diff:
    def __init__(self, limit=200):
        self.lines, self.limit, self.count = [], limit, 0

    def add(self, text):
        self.count += 1
        if self.count <= self.limit:
            self.lines.append("DIFF " + text)


def fmt(v):
    return json.dumps(v, ensure_ascii=False)


def compare_schema(diff, table, exp_fields, exp_lineage, ours, where=""):
    ours = ours or []
    on = [f.get("name") for f in ours]
    ours_by = {f.get("name"): f for f in ours}
    exp_data = [c for c in exp_fields]
    en = [c.name for c in exp_data]
    if not where:
        for c in exp_lineage:
            f = ours_by.get(c.name)
            if f is None:
                diff.add(f"schema {table} {c.name}: expected lineage column {c.bq}, missing in ours")
            else:
                if f.get("type") not in (c.bq, "INTEGER" if c.bq == "INT64" else c.bq):
                    diff.add(f"schema {table} {c.name}: expected type {c.bq}, ours {f.get('type')}")
                if (f.get("mode") or "NULLABLE") != c.mode:
                    diff.add(f"schema {table} {c.name}: expected mode {c.mode}, ours {f.get('mode')}")
        lin = {c.name for c in exp_lineage}
        on = [n for n in on if n not in lin]
        extra_lineage = [n for n in on if n.startswith("_")]
        for n in extra_lineage:
            diff.add(f"schema {table} {n}: unexpected lineage column in ours")
        on = [n for n in on if not n.startswith("_")]
    for n in en:
        if n not in ours_by:
            diff.add(f"schema {table} {where}{n}: expected {exp_data[en.index(n)].to_json()}, missing in ours")
    for n in on:
        if n not in en:
            diff.add(f"schema {table} {where}{n}: not expected, ours {fmt(ours_by[n])}")
    common_e = [n for n in en if n in ours_by]
    common_o = [n for n in on if n in en]
    if common_e != common_o:
        diff.add(f"schema {table} {where or '(top)'}: field order expected {common_e}, ours {common_o}")
    for c in exp_data:
        f = ours_by.get(c.name)
        if f is None:
            continue
        p = f"{where}{c.name}"
        if f.get("type") != c.bq:
            diff.add(f"schema {table} {p}: expected type {c.bq}, ours {f.get('type')}")
        if (f.get("mode") or "NULLABLE") != c.mode:
            diff.add(f"schema {table} {p}: expected mode {c.mode}, ours {f.get('mode')}")
        if c.fields is not None and f.get("type") in ("RECORD", "STRUCT"):
            compare_schema(diff, table, c.fields, [], f.get("fields"), p + ".")


def compare_value(diff, table, rown, path, exp, ours, field_type, col):
    where = f"{table} row {rown} {path}"
    if isinstance(exp, list):
        if not isinstance(ours, list):
            diff.add(f"{where}: expected array {fmt(exp)}, ours {fmt(ours)}")
            return
        if len(exp) != len(ours):
            diff.add(f"{where}: expected {len(exp)} values {fmt(exp)[:300]}, ours {len(ours)} {fmt(ours)[:300]}")
            return
        for i, (a, b) in enumerate(zip(exp, ours)):
            compare_value(diff, table, rown, f"{path}[{i}]", a, b, field_type, col)
        return
    if exp is None or ours is None:
        if exp is not ours:
            diff.add(f"{where}: expected {fmt(exp)[:300]}, ours {fmt(ours)[:300]}")
        return
    if isinstance(exp, dict):
        if not isinstance(ours, dict):
            diff.add(f"{where}: expected record, ours {fmt(ours)[:300]}")
            return
        sub = {c.name: c for c in (col.fields or [])} if col is not None else {}
        for k in exp:
            if k not in ours:
                diff.add(f"{where}.{k}: expected {fmt(exp[k])[:300]}, missing in ours")
        for k in ours:
            if k not in exp:
                diff.add(f"{where}.{k}: not expected, ours {fmt(ours[k])[:300]}")
        ftypes = field_type.get("fields_by") if isinstance(field_type, dict) else {}
        for k in exp:
            if k in ours:
                sc = sub.get(k)
                st = (ftypes or {}).get(k)
                compare_value(diff, table, rown, f"{path}.{k}" if path else k, exp[k], ours[k], st, sc)
        return
    t = field_type.get("type") if isinstance(field_type, dict) else (col.bq if col else None)
    t = TYPE_ALIASES.get(t, t)
    xmltext = col is not None and (col.xmltext or col.kind == "any")
    if col is not None and col.kind == "anyattr":
        try:
            same = isinstance(ours, str) and exp_attr_list(exp) == exp_attr_list(ours)
        except Exception:
            same = False
        if not same:
            diff.add(f"{where}: expected attributes {fmt(exp)}, ours {fmt(ours)}")
        return
    if xmltext:
        try:
            same = isinstance(ours, str) and exc_c14n(exp) == exc_c14n(ours)
        except Exception as e:
            same = False
        if not same:
            diff.add(f"{where}: expected XML {fmt(exp)[:400]}, ours {fmt(ours)[:400]} (compared after exclusive C14N)")
        return
    if t in ("NUMERIC", "BIGNUMERIC"):
        try:
            ok = isinstance(ours, str) and decimal.Decimal(ours) == decimal.Decimal(exp)
        except decimal.InvalidOperation:
            ok = False
        if not ok:
            diff.add(f"{where}: expected {exp}, ours {fmt(ours)}")
        elif ours != exp:
            diff.add(f"{where}: expected canonical decimal {exp!r}, ours {ours!r} (equal value)")
        return
    if t == "FLOAT64":
        if isinstance(exp, str) or isinstance(ours, str):
            if exp != ours:
                diff.add(f"{where}: expected {fmt(exp)}, ours {fmt(ours)}")
        elif not isinstance(ours, (int, float)) or isinstance(ours, bool) or float(ours) != exp:
            diff.add(f"{where}: expected {exp!r}, ours {fmt(ours)}")
        return
    if t in ("INT64", "INTEGER"):
        if not isinstance(ours, int) or isinstance(ours, bool) or ours != exp:
            diff.add(f"{where}: expected {exp}, ours {fmt(ours)}")
        return
    if t in ("BOOL", "BOOLEAN"):
        if ours is not exp:
            diff.add(f"{where}: expected {fmt(exp)}, ours {fmt(ours)}")
        return
    if t == "BYTES":
        try:
            same = isinstance(ours, str) and base64.b64decode(ours, validate=True) == base64.b64decode(exp)
        except Exception:
            same = False
        if not same:
            diff.add(f"{where}: expected bytes {exp}, ours {fmt(ours)}")
        elif ours != exp:
            diff.add(f"{where}: expected base64 {exp}, ours {ours} (same bytes, not standard padded base64)")
        return
    if type(ours) is not type(exp) or ours != exp:
        diff.add(f"{where}: expected {fmt(exp)}, ours {fmt(ours)}")


def exp_attr_list(text):
    x = etree.fromstring(("<x %s/>" % re.sub(r"\b([A-Za-z_][\w.-]*):", r"p_\1_", text)).encode("utf-8"))
    return list(x.attrib.items())


def sjson_types(fields):
    out = {}
    for f in fields or []:
        d = dict(f)
        if f.get("fields"):
            d["fields_by"] = sjson_types(f["fields"])
        out[f["name"]] = d
    return out


def compare(oracle, s_json, r_json, source_uri=None, diff=None):
    diff = diff or Diff()
    exp = oracle.expected(s_json)
    exp_tables = {k for k, v in exp.items() if v is not None}
    if s_json is not None:
        ours_tables = set(s_json)
        for t in sorted(exp_tables - ours_tables):
            diff.add(f"schema {t}: expected table, missing in ours")
        mapped = {n for n, _ in oracle.m.tables}
        for t in sorted(ours_tables - exp_tables):
            if t in exp:
                continue  # a mapping table whose rows this schema set cannot hold (another xsd of the list)
            if t not in mapped and not (r_json or {}).get(t):
                continue  # e.g. the document table of another possible root: not checkable on this document
            diff.add(f"schema {t}: table not expected")
        for t in sorted(exp_tables & ours_tables):
            fields, lineage, _ = exp[t]
            compare_schema(diff, t, fields, lineage, s_json[t])
    if r_json is None:
        return diff
    for t in sorted(set(r_json) - exp_tables):
        if r_json[t]:
            diff.add(f"{t}: ours has {len(r_json[t])} rows for a table the oracle does not expect here")
    uris = set()
    for t in sorted(exp_tables):
        fields, lineage, rows = exp[t]
        ours = list(r_json.get(t, []))
        ours.sort(key=lambda r: (str(r.get("_source_uri")), r.get("_record_ordinal") or 0))
        if len(ours) != len(rows):
            diff.add(f"{t}: expected {len(rows)} rows, ours {len(ours)}")
        ftypes = sjson_types(s_json.get(t)) if s_json and s_json.get(t) else sjson_types([c.to_json() for c in fields])
        colmap = {c.name: c for c in fields}
        for i, (e, o) in enumerate(zip(rows, ours), 1):
            if o.get("_record_ordinal") != i:
                diff.add(f"{t} row {i} _record_ordinal: expected {i}, ours {fmt(o.get('_record_ordinal'))}")
            uris.add(o.get("_source_uri"))
            if not isinstance(o.get("_source_uri"), str) or not o.get("_source_uri"):
                diff.add(f"{t} row {i} _source_uri: expected a non-empty string, ours {fmt(o.get('_source_uri'))}")
            elif source_uri is not None and o["_source_uri"] != source_uri:
                diff.add(f"{t} row {i} _source_uri: expected {source_uri!r}, ours {o['_source_uri']!r}")
            for k in e:
                if k == "_record_ordinal":
                    continue
                if k not in o:
                    diff.add(f"{t} row {i} {k}: expected {fmt(e[k])[:300]}, missing in ours")
                    continue
                if k.startswith("_"):
                    if e[k] != o[k]:
                        diff.add(f"{t} row {i} {k}: expected {fmt(e[k])}, ours {fmt(o[k])}")
                    continue
                compare_value(diff, t, i, k, e[k], o[k], ftypes.get(k), colmap.get(k))
            for k in o:
                if k not in e and k != "_source_uri":
                    diff.add(f"{t} row {i} {k}: not expected, ours {fmt(o[k])[:300]}")
    if len(uris) > 1:
        diff.add(f"_source_uri differs between rows of one file: {sorted(map(str, uris))}")
    return diff


def expected_json(oracle):
    exp = oracle.expected(None)
    schema, rows = {}, {}
    for t, v in exp.items():
        if v is None:
            continue
        fields, lineage, rs = v
        schema[t] = [c.to_json() for c in lineage] + [c.to_json() for c in fields]
        rows[t] = [dict({"_source_uri": "<uri>"}, **r) for r in rs]
    return {"schema": schema, "rows": rows}


# ---------------------------------------------------------------------------------------------------------
# self-test
# ---------------------------------------------------------------------------------------------------------
def selftest():
    here = os.path.dirname(os.path.abspath(__file__))
    st = os.path.join(here, "selftest")
    with open(os.path.join(st, "cases.json"), encoding="utf-8") as f:
        cases = json.load(f)
    shared = os.environ.get("XML2BQ_SHARED_REALWORLD") or find_shared(here)
    failures = 0
    for case in cases:
        subst = {"shared": shared, "here": st}
        mapping = Mapping(os.path.join(st, case["mapping"]), subst)
        doc = _subst(case["doc"], subst)
        if "expect_reject" in case:  # the document must be dead-lettered with this rule
            try:
                Oracle(mapping, doc).expected(None)
                got = "accepted"
            except Reject as r:
                got = r.rule
            ok = got == case["expect_reject"]
            print(("ok  " if ok else "FAIL"), case["name"], f"({got})")
            if not ok:
                failures += 1
                print(f"   got {got}, want {case['expect_reject']}")
            continue
        s_json, r_json = (load_json_arg(st, case[k]) for k in ("schema_json", "rows"))
        for mut in case.get("mutations", []):
            apply_mutation(r_json if mut["in"] == "rows" else s_json, mut)
        oracle = Oracle(mapping, doc)
        d = compare(oracle, s_json, r_json, case.get("source_uri"))
        want = case.get("expect_diffs")
        got = d.lines
        if want is None:
            ok = not got
        else:
            ok = sorted(got) == sorted("DIFF " + w for w in want)
        print(("ok  " if ok else "FAIL"), case["name"], f"({len(got)} diffs)")
        if not ok:
            failures += 1
            for line in got:
                print("   got ", line)
            for w in want or []:
                print("   want DIFF", w)
    print(f"{len(cases) - failures} passed, {failures} failed")
    return 1 if failures else 0


def load_json_arg(folder, value):
    """A case's schema_json/rows: a file name in the self-test folder, or the JSON itself (inline)."""
    if isinstance(value, str):
        with open(os.path.join(folder, value), encoding="utf-8") as f:
            return json.load(f)
    return json.loads(json.dumps(value))


def apply_mutation(obj, mut):
    cur = obj
    keys = mut["path"]
    for k in keys[:-1]:
        cur = cur[k]
    if mut.get("delete"):
        del cur[keys[-1]]
    else:
        cur[keys[-1]] = mut["value"]


def find_shared(here):
    d = here
    for _ in range(6):
        for cand in (os.path.join(d, "shared", "realworld"), os.path.join(d, "..", "shared", "realworld")):
            if os.path.isdir(cand):
                return os.path.abspath(cand)
        d = os.path.dirname(d)
    return "/work/shared/realworld"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mapping")
    ap.add_argument("--doc")
    ap.add_argument("--schema-json")
    ap.add_argument("--rows")
    ap.add_argument("--subst", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--source-uri")
    ap.add_argument("--print-expected", action="store_true")
    ap.add_argument("--selftest", action="store_true")
    a = ap.parse_args(argv)
    if a.selftest:
        return selftest()
    if not a.mapping or not a.doc:
        ap.error("--mapping and --doc are required")
    subst = dict(s.split("=", 1) for s in a.subst)
    try:
        mapping = Mapping(a.mapping, subst)
        oracle = Oracle(mapping, a.doc)
        if a.print_expected:
            json.dump(expected_json(oracle), sys.stdout, ensure_ascii=False, indent=1)
            print()
            return 0
        s_json = r_json = None
        if a.schema_json:
            with open(a.schema_json, encoding="utf-8") as f:
                s_json = json.load(f)
        if a.rows:
            with open(a.rows, encoding="utf-8") as f:
                r_json = json.load(f)
        if s_json is None and r_json is None:
            oracle.expected(None)  # may still raise Reject(unrepresentable)
            print("valid")
            return 0
        d = compare(oracle, s_json, r_json, a.source_uri)
    except Reject as r:
        print(f"invalid {r.rule} {r.reason}")
        return r.code
    except OracleError as e:
        print(f"oracle error: {e}", file=sys.stderr)
        return 2
    print("valid")
    for line in d.lines:
        print(line)
    if d.count > len(d.lines):
        print(f"... {d.count - len(d.lines)} more differences")
    if d.count:
        print(f"{d.count} differences")
        return 1
    print("equal")
    return 0


if __name__ == "__main__":
    sys.exit(main())
