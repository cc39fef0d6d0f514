#!/usr/bin/env python3
"""gen_ooxml_order.py - generate src/render/ooxml_order.rs from the OOXML schemas.

Usage
-----
    python3 tools/gen_ooxml_order.py [SCHEMA_DIR] > src/render/ooxml_order.rs

SCHEMA_DIR defaults to /work/shared/tools/ooxml/schemas (the ISO/IEC 29500-4
Transitional XSDs that check_docx.py validates against). Only the Python standard
library is used. The output is deterministic and rustfmt-clean with the repository's
rustfmt.toml; regenerate it whenever the schemas change.

What is generated
-----------------
Every complex type reachable from the root elements of the WordprocessingML parts
(w:document, w:styles, w:settings, w:webSettings, w:fonts, w:numbering, w:hdr, w:ftr,
w:comments, w:footnotes, w:endnotes) and from pic:pic (the lax content of
a:graphicData) becomes one entry of `TYPES` with

* its child elements: namespace, local name, the *slots* the child may occupy and the
  index of the child's own type in `TYPES`. Slots come from the content model: a
  sequence lists its particles in order, group references are expanded, a choice or
  xsd:all is one slot (its members rank together) and a repeated sequence with more
  than one slot collapses into one slot, so the order inside it is left alone. The
  same element name may have different types under different parents (w:rPr is
  CT_ParaRPr in w:pPr, CT_RPr in w:r); types are tracked per parent type, so each
  child gets the type its parent's content model gives it.
  One refinement: the run properties (group EG_RPrBase, a repeated choice in the
  Transitional schema) are ranked one slot per property in the order the group lists
  them - the order Word writes and the Strict schema prescribes; each property occurs
  once, so ranking them never reorders content;
* whether the children may be reordered (`ordered`: more than one slot and no
  wildcard) and whether the content model has a wildcard (`wildcard`);
* its declared attributes (namespace, local name), attribute groups and base types
  expanded.

`GLOBALS` lists the global element declarations whose type is in `TYPES` (used for the
roots of parts and for lax wildcard content). `NAMESPACES` lists every target namespace
of the schema set; index 0 is "no namespace".
"""

import os
import sys
import xml.etree.ElementTree as ET

XS = "http://www.w3.org/2001/XMLSchema"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
PIC = "http://schemas.openxmlformats.org/drawingml/2006/picture"
XML_NS = "http://www.w3.org/XML/1998/namespace"
DEFAULT_DIR = "/work/shared/tools/ooxml/schemas"
DRIVER = "all.xsd"
ROOTS = [(W, n) for n in ("document", "styles", "settings", "webSettings", "fonts",
                          "numbering", "hdr", "ftr", "comments", "footnotes",
                          "endnotes")] + [(PIC, "pic")]
# choice groups whose members are properties occurring once each: one slot per member
PROPERTY_GROUPS = {(W, "EG_RPrBase")}
PARTICLES = ("element", "any", "group", "sequence", "choice", "all")

# short constant names for namespaces in the generated code
NS_CONST = {
    "": "NONE",
    W: "W",
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships": "R",
    "http://schemas.openxmlformats.org/drawingml/2006/main": "A",
    "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing": "WP",
    PIC: "PIC",
    "http://schemas.openxmlformats.org/officeDocument/2006/math": "M",
    XML_NS: "XML",
}


def local(tag):
    return tag.rsplit("}", 1)[-1]


def xs(name):
    return "{%s}%s" % (XS, name)


class Schemas:
    def __init__(self, folder):
        self.folder = folder
        self.types, self.groups, self.agroups, self.elements = {}, {}, {}, {}
        self.attributes = {}
        self.namespaces = set()
        self.docs = {}
        self.info = {}  # id(element) -> (nsmap, tns, elementFormDefault, attributeFormDefault)
        self.load(os.path.join(folder, DRIVER))

    def load(self, path):
        path = os.path.normpath(path)
        if path in self.docs:
            return
        nsmap = {}
        root = None
        for event, item in ET.iterparse(path, events=("start-ns", "start")):
            if event == "start-ns":
                prefix, uri = item
                if prefix in nsmap and nsmap[prefix] != uri:
                    sys.exit("%s: prefix %s redeclared" % (path, prefix))
                nsmap[prefix] = uri
            elif root is None:
                root = item
        self.docs[path] = root
        tns = root.get("targetNamespace", "")
        efd = root.get("elementFormDefault", "unqualified")
        afd = root.get("attributeFormDefault", "unqualified")
        ctx = (nsmap, tns, efd, afd)
        for el in root.iter():
            self.info[id(el)] = ctx
        if tns and tns != "urn:local:driver":
            self.namespaces.add(tns)
        for el in root:
            tag, name = local(el.tag), el.get("name")
            key = (tns, name)
            if tag in ("import", "include"):
                loc = el.get("schemaLocation")
                if loc:
                    self.load(os.path.join(os.path.dirname(path), loc))
            elif name and tag == "complexType":
                self.types[key] = el
            elif name and tag == "group":
                self.groups[key] = el
            elif name and tag == "attributeGroup":
                self.agroups[key] = el
            elif name and tag == "element":
                self.elements[key] = el
            elif name and tag == "attribute":
                self.attributes[key] = el

    def qname(self, el, value):
        nsmap = self.info[id(el)][0]
        prefix, _, name = value.rpartition(":")
        if prefix == "xml":  # bound by definition, never declared
            return (XML_NS, name)
        return (nsmap.get(prefix, ""), name)

    def tns(self, el):
        return self.info[id(el)][1]

    def decl_name(self, el):
        """(namespace, local) of an element declaration or reference."""
        if el.get("ref"):
            return self.qname(el, el.get("ref"))
        _, tns, efd, _ = self.info[id(el)]
        form = el.get("form") or efd
        return (tns if form == "qualified" else "", el.get("name"))

    def attr_name(self, el):
        if el.get("ref"):
            return self.qname(el, el.get("ref"))
        _, tns, _, afd = self.info[id(el)]
        form = el.get("form") or afd
        return (tns if form == "qualified" else "", el.get("name"))

    def type_of(self, decl):
        """Complex type element of an element declaration, or None."""
        if decl is None:
            return None
        if decl.get("ref"):
            return self.type_of(self.elements.get(self.qname(decl, decl.get("ref"))))
        if decl.get("type"):
            return self.types.get(self.qname(decl, decl.get("type")))
        for c in decl:
            if local(c.tag) == "complexType":
                return c
        return None


class Model:
    def __init__(self):
        self.slots = []
        self.child_type = {}
        self.wildcard = False
        self.attrs = set()


class Builder:
    def __init__(self, s):
        self.s = s
        self.models = {}
        self.names = {}

    def type_name(self, ctype):
        n = self.names.get(id(ctype))
        if n:
            return n
        if ctype.get("name"):
            n = ctype.get("name")
        else:
            # anonymous type: name it after the element that holds it
            parent = self.parent_of(ctype)
            n = "%s(anonymous)" % (parent.get("name") if parent is not None else "?")
        self.names[id(ctype)] = n
        return n

    def parent_of(self, el):
        for root in self.s.docs.values():
            for p in root.iter():
                for c in p:
                    if c is el:
                        return p
        return None

    def particle(self, el, m):
        tag = local(el.tag)
        if tag == "element":
            name = self.s.decl_name(el)
            t = self.s.type_of(el)
            old = m.child_type.setdefault(name, t)
            if old is not t:
                sys.exit("child %s has two types in one content model" % (name,))
            return [{name}]
        if tag == "any":
            m.wildcard = True
            return [set()]
        if tag == "group":
            key = self.s.qname(el, el.get("ref", ""))
            grp = self.s.groups.get(key)
            slots = []
            if grp is not None:
                for c in grp:
                    if local(c.tag) in ("sequence", "choice", "all"):
                        if key in PROPERTY_GROUPS and local(c.tag) == "choice":
                            for d in c:
                                if local(d.tag) in PARTICLES:
                                    slots += self.particle(d, m)
                            return slots  # listed once each: never merged
                        slots += self.particle(c, m)
            return self.repeat(el, slots)
        if tag == "sequence":
            slots = []
            for c in el:
                if local(c.tag) in PARTICLES:
                    slots += self.particle(c, m)
            return self.repeat(el, slots)
        if tag in ("choice", "all"):
            names = set()
            for c in el:
                if local(c.tag) in PARTICLES:
                    for s in self.particle(c, m):
                        names |= s
            return [names]
        return []

    @staticmethod
    def repeat(el, slots):
        if el.get("maxOccurs", "1") != "1" and len(slots) > 1:
            merged = set()
            for s in slots:
                merged |= s
            return [merged]
        return slots

    def attributes(self, holder, m):
        for c in holder:
            tag = local(c.tag)
            if tag == "attribute":
                name = self.s.attr_name(c)
                if c.get("use") == "prohibited":
                    m.attrs.discard(name)
                else:
                    m.attrs.add(name)
            elif tag == "attributeGroup":
                grp = self.s.agroups.get(self.s.qname(c, c.get("ref", "")))
                if grp is not None:
                    self.attributes(grp, m)

    def model(self, ctype):
        m = self.models.get(id(ctype))
        if m is not None:
            return m
        m = Model()
        self.models[id(ctype)] = m
        for c in ctype:
            tag = local(c.tag)
            if tag in PARTICLES:
                m.slots += self.particle(c, m)
            elif tag in ("attribute", "attributeGroup"):
                self.attributes([c], m)
            elif tag in ("complexContent", "simpleContent"):
                for d in c:
                    dt = local(d.tag)
                    if dt not in ("extension", "restriction"):
                        continue
                    base = self.s.types.get(self.s.qname(d, d.get("base", "")))
                    if base is not None and base is not ctype:
                        bm = self.model(base)
                        m.attrs |= bm.attrs
                        if dt == "extension":
                            m.slots += bm.slots
                            m.wildcard |= bm.wildcard
                            for k, v in bm.child_type.items():
                                m.child_type.setdefault(k, v)
                    for p in d:
                        if local(p.tag) in PARTICLES and tag == "complexContent":
                            m.slots += self.particle(p, m)
                    self.attributes(d, m)
        return m


def field(w, name, items):
    """A slice field the way rustfmt lays it out: on one line when it fits in 90
    columns, else one item a line."""
    line = "        %s: &[%s]," % (name, ", ".join(items))
    if len(line) <= 90:
        w(line)
        return
    w("        %s: &[" % name)
    for item in items:
        w("            %s," % item)
    w("        ],")


def generate(folder):
    s = Schemas(folder)
    b = Builder(s)
    namespaces = [""] + sorted(s.namespaces)
    ns_index = {u: i for i, u in enumerate(namespaces)}

    order, index = [], {}

    def visit(ctype):
        if ctype is None or id(ctype) in index:
            return
        index[id(ctype)] = len(order)
        order.append(ctype)
        for t in b.model(ctype).child_type.values():
            visit(t)

    roots = []
    for key in ROOTS:
        decl = s.elements.get(key)
        if decl is None:
            sys.exit("root element %s not found" % (key,))
        visit(s.type_of(decl))
    # globals whose type is in the table (part roots, lax wildcard content)
    for key in sorted(s.elements):
        t = s.type_of(s.elements[key])
        if t is not None and id(t) in index:
            roots.append((key, index[id(t)]))

    out = []
    w = out.append
    w("// @generated by tools/gen_ooxml_order.py from the ISO/IEC 29500-4 Transitional")
    w("// schemas in /work/shared/tools/ooxml/schemas; do not edit by hand.")
    w("// Regenerate: python3 tools/gen_ooxml_order.py > src/render/ooxml_order.rs")
    w("//")
    w("// Child order and declared attributes of the complex types reachable from the")
    w("// WordprocessingML part roots; see the script's docstring for how the slots are")
    w("// read from the content models.")
    w("")
    w("/// A child element a complex type allows.")
    w("#[derive(Debug, Clone, Copy)]")
    w("pub struct Child {")
    w("    /// Index into [`NAMESPACES`].")
    w("    pub ns: u8,")
    w("    /// Local name.")
    w("    pub name: &'static str,")
    w("    /// Slots of the parent's content model the child may take, ascending.")
    w("    pub ranks: &'static [u16],")
    w("    /// Index of the child's complex type into [`TYPES`], or [`NO_TYPE`].")
    w("    pub ty: u16,")
    w("}")
    w("")
    w("/// A complex type: its children and attributes.")
    w("#[derive(Debug, Clone, Copy)]")
    w("pub struct Type {")
    w("    /// Schema name of the type.")
    w("    pub name: &'static str,")
    w("    /// Whether the children have an order to restore (several slots, no wildcard).")
    w("    pub ordered: bool,")
    w("    /// Whether the content model has a wildcard (xsd:any): children it does not")
    w("    /// list may still be allowed.")
    w("    pub wildcard: bool,")
    w("    /// Allowed children, sorted by (namespace, name).")
    w("    pub children: &'static [Child],")
    w("    /// Declared attributes as (namespace, name), sorted.")
    w("    pub attrs: &'static [(u8, &'static str)],")
    w("}")
    w("")
    w("/// `Child::ty` of a child whose type is simple or unknown.")
    w("pub const NO_TYPE: u16 = u16::MAX;")
    w("")
    consts = []
    for i, u in enumerate(namespaces):
        if u in NS_CONST:
            consts.append((NS_CONST[u], i, u))
    for name, i, u in consts:
        w("/// `%s`" % (u or "no namespace"))
        w("pub const %s: u8 = %d;" % (name, i))
    w("")
    w("/// Target namespaces of the schema set; index 0 is no namespace.")
    w("pub static NAMESPACES: [&str; %d] = [" % len(namespaces))
    for u in namespaces:
        w('    "%s",' % u)
    w("];")
    w("")
    w("const fn c(ns: u8, name: &'static str, ranks: &'static [u16], ty: u16) -> Child {")
    w("    Child { ns, name, ranks, ty }")
    w("}")
    w("")

    def ns_expr(u):
        return NS_CONST.get(u, str(ns_index[u]))

    w("/// Global element declarations whose type is in [`TYPES`]: (namespace, name, type),")
    w("/// sorted.")
    w("pub static GLOBALS: [(u8, &str, u16); %d] = [" % len(roots))
    for (u, n), t in sorted(roots, key=lambda r: (ns_index[r[0][0]], r[0][1])):
        w('    (%s, "%s", %d),' % (ns_expr(u), n, t))
    w("];")
    w("")
    w("/// The complex types, indexed by `Child::ty`.")
    w("pub static TYPES: [Type; %d] = [" % len(order))
    for i, ctype in enumerate(order):
        m = b.model(ctype)
        rank = {}
        for k, slot in enumerate(m.slots):
            for n in slot:
                rank.setdefault(n, []).append(k)
        ordered = (not m.wildcard) and len(m.slots) > 1
        tname = s.tns(ctype)
        w("    // %d" % i)
        name = '"%s"' % b.type_name(ctype)
        flag = "true" if ordered else "false"
        kids = sorted(m.child_type.items(), key=lambda kv: (ns_index[kv[0][0]], kv[0][1]))
        items = []
        for (u, n), t in kids:
            ranks = ", ".join(str(r) for r in rank.get((u, n), []))
            ty = "NO_TYPE" if t is None else str(index[id(t)])
            items.append('c(%s, "%s", &[%s], %s)' % (ns_expr(u), n, ranks, ty))
        children = items
        attrs = sorted(m.attrs, key=lambda a: (ns_index.get(a[0], 255), a[1]))
        missing = [a for a in attrs if a[0] not in ns_index]
        if missing:
            sys.exit("%s: attribute in an unknown namespace: %s" % (tname, missing))
        attrs = ['(%s, "%s")' % (ns_expr(u), n) for u, n in attrs]
        wild = "true" if m.wildcard else "false"
        one = ("    Type { name: %s, ordered: %s, wildcard: %s, children: &[%s], "
               "attrs: &[%s] }," % (name, flag, wild, ", ".join(children), ", ".join(attrs)))
        if len(one) <= 90:
            w(one)
            continue
        w("    Type {")
        w("        name: %s," % name)
        w("        ordered: %s," % flag)
        w("        wildcard: %s," % wild)
        field(w, "children", children)
        field(w, "attrs", attrs)
        w("    },")
    w("];")
    return "\n".join(out) + "\n"


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_DIR
    sys.stdout.write(generate(folder))


if __name__ == "__main__":
    main()
