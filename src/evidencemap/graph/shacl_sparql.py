"""SHACL validation compiled to SPARQL: each (shape, constraint) of a shapes graph becomes one SELECT that returns
every violating focus node (and value) at once, run on a pyoxigraph store, instead of pySHACL's walk over each focus
node in rdflib.

A shape's targets are inlined into each of its queries as a sub-select binding ``?this`` (its *scope*), optionally
restricted to given focus nodes with a ``VALUES ?this`` block (store terms, written by pyoxigraph). Logical
components (``sh:or``, ``sh:xone``, ``sh:and``, ``sh:not``, ``sh:node``) combine, in Python, the sets of value nodes
that fail each member shape, each member's constraints being queries of the same kind over the value nodes.
SHACL-SPARQL constraints pre-bind ``$this`` by joining the scope into the query: at the start of its WHERE group and
of every nested group whose expressions (FILTER, BIND, EXISTS) read ``$this``, which gives the same solutions as
substituting each focus node (queries where it would not, with sub-selects, MINUS, SERVICE or VALUES, are refused).
Two rewrites keep pyoxigraph on fast plans: a flat ``FILTER NOT EXISTS`` whose shared variables are certainly bound
becomes a ``MINUS`` (:func:`anti_joins_as_minus`), and a class test ``rdf:type/rdfs:subClassOf* C`` becomes an
``rdf:type`` lookup among C and its subclasses (read from the data once per query).

The results carry what pySHACL's carry (focus node, path, value, source shape, severity, messages with ``{$this}`` and
``{?var}`` substituted as pySHACL does), so a report reads the same. A shapes graph that uses anything not compiled
here (another component, ``sh:rule``, a custom constraint component, a shape without ``sh:message``, whose generic
pySHACL message is not reproduced) raises :class:`Unsupported` at compile time, and :func:`validate` then runs
pySHACL instead, saying why: nothing is skipped silently.

Where the two engines may still differ, pyoxigraph follows the standards and rdflib does not: ``STR()`` of a blank
node (an error in SPARQL, its label in rdflib), ``"a"^^xsd:string`` against ``"a"`` (one term in RDF 1.1, two in
rdflib), the order of ``GROUP_CONCAT``'s parts (left to the engine), and ``sh:pattern`` read as an XPath regular
expression (pyoxigraph) rather than a Python one (``$`` before a final line break).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, XSD
from rdflib.term import Node

log = logging.getLogger("evidencemap.shacl")

SH = Namespace("http://www.w3.org/ns/shacl#")
OxTerm = ox.NamedNode | ox.BlankNode | ox.Literal
Row = Mapping[str, OxTerm]


class Unsupported(ValueError):
    """The shapes graph uses something this compiler does not translate (the message says what)."""


class QuerySource(Protocol):
    """Where the data is: SELECT queries over it, and its triples for the pySHACL fallback."""

    def select(self, sparql: str) -> list[dict[str, OxTerm]]: ...

    def triples(self) -> Iterable[ox.Triple]: ...


@dataclass(frozen=True)
class StoreSource:
    """A pyoxigraph store, its default graph the union of its graphs."""

    store: ox.Store

    def select(self, sparql: str) -> list[dict[str, OxTerm]]:
        solutions = self.store.query(sparql, use_default_graph_as_union=True)
        assert isinstance(solutions, ox.QuerySolutions)
        names = [v.value for v in solutions.variables]
        rows = []
        for solution in solutions:
            row: dict[str, OxTerm] = {}
            for name, term in zip(names, solution, strict=True):
                if isinstance(term, ox.NamedNode | ox.BlankNode | ox.Literal):
                    row[name] = term
            rows.append(row)
        return rows

    def triples(self) -> Iterable[ox.Triple]:
        return (ox.Triple(q.subject, q.predicate, q.object) for q in self.store)


# -- results ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShaclResult:
    """One validation result, its terms as rdflib's (the report graph's)."""

    focus: Node
    shape: Node
    severity: URIRef
    component: URIRef
    messages: tuple[str, ...]
    path: Node | None = None
    value: Node | None = None
    constraint: Node | None = None  # the sh:sparql node of a SHACL-SPARQL constraint


@dataclass
class Report:
    """The results of one validation, and which engine produced them (``sparql``, or ``pyshacl`` and why)."""

    results: list[ShaclResult]
    shapes: Graph
    engine: str = "sparql"
    reason: str = ""
    _graph: Graph | None = field(default=None, repr=False)

    @property
    def conforms(self) -> bool:
        return not self.results

    def graph(self) -> Graph:
        """The report as a ``sh:ValidationReport`` graph (pySHACL's own graph when pySHACL ran)."""
        if self._graph is not None:
            return self._graph
        graph = Graph()
        graph.bind("sh", SH)
        report = BNode()
        graph.add((report, RDF.type, SH.ValidationReport))
        graph.add((report, SH.conforms, Literal(self.conforms)))
        for result in self.results:
            node = BNode()
            graph.add((report, SH.result, node))
            graph.add((node, RDF.type, SH.ValidationResult))
            graph.add((node, SH.focusNode, result.focus))
            graph.add((node, SH.resultSeverity, result.severity))
            graph.add((node, SH.sourceShape, result.shape))
            graph.add((node, SH.sourceConstraintComponent, result.component))
            for message in result.messages:
                graph.add((node, SH.resultMessage, Literal(message)))
            if result.value is not None:
                graph.add((node, SH.value, result.value))
            if result.constraint is not None:
                graph.add((node, SH.sourceConstraint, result.constraint))
            if result.path is not None:
                graph.add((node, SH.resultPath, result.path))
                if isinstance(result.path, BNode):  # a path of several steps: its list, as the shapes write it
                    for triple in _closure(self.shapes, result.path):
                        graph.add(triple)
        self._graph = graph
        return graph


def _closure(graph: Graph, node: BNode) -> list[tuple[Node, Node, Node]]:
    found: list[tuple[Node, Node, Node]] = []
    todo, seen = [node], {node}
    while todo:
        for s, p, o in graph.triples((todo.pop(), None, None)):
            found.append((s, p, o))
            if isinstance(o, BNode) and o not in seen:
                seen.add(o)
                todo.append(o)
    return found


def results_of(report_graph: Graph) -> list[ShaclResult]:
    """The results of a report graph (pySHACL's), as :class:`ShaclResult`: the report's own (``sh:result``), not
    the ``sh:detail`` results pySHACL adds under a ``sh:node`` or ``sh:xone`` result."""
    results = []
    for node in report_graph.objects(None, SH.result):
        severity = report_graph.value(node, SH.resultSeverity)
        component = report_graph.value(node, SH.sourceConstraintComponent)
        focus = report_graph.value(node, SH.focusNode)
        shape = report_graph.value(node, SH.sourceShape)
        assert focus is not None and shape is not None
        results.append(ShaclResult(
            focus=focus, shape=shape,
            severity=URIRef(str(severity)) if severity is not None else SH.Violation,
            component=URIRef(str(component)) if component is not None else SH.ConstraintComponent,
            messages=tuple(sorted(str(m) for m in report_graph.objects(node, SH.resultMessage))),
            path=report_graph.value(node, SH.resultPath), value=report_graph.value(node, SH.value),
            constraint=report_graph.value(node, SH.sourceConstraint)))
    return results


def to_rdflib(term: OxTerm) -> URIRef | BNode | Literal:
    """A pyoxigraph term as rdflib's (an xsd:string literal as rdflib's plain literal, as N-Triples reads it)."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    if term.datatype.value == str(XSD.string):
        return Literal(term.value)
    return Literal(term.value, datatype=URIRef(term.datatype.value))


def to_oxigraph(term: Node) -> OxTerm:
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise Unsupported(f"a term of kind {type(term).__name__} in the shapes graph")


# -- the shapes, as a typed model -----------------------------------------------------------------------------------

SHAPE_KEYS = {  # what a shape may say besides its constraints (ignored when checking, or read below)
    SH.name, SH.description, SH.message, SH.severity, SH.deactivated, SH.path, SH.property, SH.order, SH.group,
    SH.defaultValue, SH.targetClass, SH.targetNode, SH.targetObjectsOf, SH.targetSubjectsOf, SH.target,
    SH.prefixes, SH.declare,
}
VALUE_COMPONENTS = {
    SH["class"]: SH.ClassConstraintComponent, SH.datatype: SH.DatatypeConstraintComponent,
    SH.nodeKind: SH.NodeKindConstraintComponent, SH.pattern: SH.PatternConstraintComponent,
    SH.minInclusive: SH.MinInclusiveConstraintComponent, SH.maxInclusive: SH.MaxInclusiveConstraintComponent,
    SH.minExclusive: SH.MinExclusiveConstraintComponent, SH.maxExclusive: SH.MaxExclusiveConstraintComponent,
    SH["in"]: SH.InConstraintComponent, SH.minLength: SH.MinLengthConstraintComponent,
    SH.maxLength: SH.MaxLengthConstraintComponent, SH.hasValue: SH.HasValueConstraintComponent,
}
COUNT_COMPONENTS = {SH.minCount: SH.MinCountConstraintComponent, SH.maxCount: SH.MaxCountConstraintComponent,
                    SH.uniqueLang: SH.UniqueLangConstraintComponent}
LOGICAL_COMPONENTS = {SH["or"]: SH.OrConstraintComponent, SH["and"]: SH.AndConstraintComponent,
                      SH["not"]: SH.NotConstraintComponent, SH.xone: SH.XoneConstraintComponent,
                      SH.node: SH.NodeConstraintComponent}
CONSTRAINT_KEYS = {*VALUE_COMPONENTS, *COUNT_COMPONENTS, *LOGICAL_COMPONENTS, SH.flags, SH.sparql}
# Datatypes whose well-formedness pyoxigraph checks with a cast (an ill-formed literal fails the cast; SHACL counts
# it as a violation of sh:datatype). Another datatype is not compiled.
CASTABLE = {XSD.string, XSD.boolean, XSD.integer, XSD.decimal, XSD.float, XSD.double, XSD.dateTime, XSD.date,
            XSD.time, XSD.gYear, XSD.gYearMonth, XSD.duration}
NODE_KINDS = {
    SH.IRI: "isIRI(?value)", SH.BlankNode: "isBlank(?value)", SH.Literal: "isLiteral(?value)",
    SH.BlankNodeOrIRI: "(isBlank(?value) || isIRI(?value))", SH.BlankNodeOrLiteral: "(isBlank(?value) || "
    "isLiteral(?value))", SH.IRIOrLiteral: "(isIRI(?value) || isLiteral(?value))",
}
COMPARISONS = {SH.minInclusive: ">=", SH.maxInclusive: "<=", SH.minExclusive: ">", SH.maxExclusive: "<"}
TYPE_OF = f"<{RDF.type}>/<{RDFS.subClassOf}>*"
_CLASS_TEST = re.compile(r"(\?\w+) " + re.escape(TYPE_OF) + r" (<[^>\s]*>) \.")
VALUES_LIMIT = 1_000  # focus nodes written as a VALUES block at most (more: the target's sub-select is joined; a
# long block costs more to parse at every query than the sub-select costs to run)


def sparql_term(term: Node) -> str:
    """A shapes-graph term as SPARQL text, written by pyoxigraph (IRIs and literals only)."""
    if isinstance(term, BNode):
        raise Unsupported("a blank node where a constraint needs an IRI or a literal")
    return str(to_oxigraph(term))


@dataclass(frozen=True)
class SparqlConstraint:
    node: Node
    select: str
    messages: tuple[Literal, ...]


@dataclass
class Shape:
    node: Node
    path: Node | None  # the sh:path node (property shapes)
    path_text: str | None  # the path as SPARQL
    targets: list[str]  # group patterns that bind ?this
    severity: URIRef
    messages: tuple[Literal, ...]
    values: list[tuple[URIRef, Node]] = field(default_factory=list)  # (parameter, value) of value components
    counts: list[tuple[URIRef, Node]] = field(default_factory=list)
    logical: list[tuple[URIRef, list[Shape]]] = field(default_factory=list)
    properties: list[Shape] = field(default_factory=list)
    sparql: list[SparqlConstraint] = field(default_factory=list)
    flags: str = ""


class ShapesModel:
    """The shapes of a shapes graph (those with targets, and those they reach), read once."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self._shapes: dict[Node, Shape] = {}
        self._reading: set[Node] = set()
        self._declared: dict[str, str] = {}
        for node in graph.subjects(RDF.type, SH.ConstraintComponent):
            raise Unsupported(f"custom constraint component {node}")
        for predicate in (SH.rule, SH.entailment, SH.shapesGraph, SH.js, SH.jsLibrary):
            if (None, predicate, None) in graph:
                raise Unsupported(f"{predicate.n3(graph.namespace_manager)} is not compiled")
        roots = {s for p in (SH.targetClass, SH.targetNode, SH.targetObjectsOf, SH.targetSubjectsOf, SH.target)
                 for s in graph.subjects(p, None)}
        roots |= {s for s in graph.subjects(RDF.type, SH.NodeShape) if (s, RDF.type, RDFS.Class) in graph}
        self.roots = [self.shape(node, reported=True) for node in sorted(roots, key=str)
                      if not self._deactivated(node)]

    def _deactivated(self, node: Node) -> bool:
        return bool(self.graph.value(node, SH.deactivated) == Literal(True))

    def shape(self, node: Node, reported: bool) -> Shape:
        """The shape at ``node`` (reported: its results are the report's, so its messages must be its own)."""
        if node in self._reading:
            raise Unsupported(f"recursive shape {node}")
        known = self._shapes.get(node)
        if known is not None:
            if reported and not known.messages and self._has_constraints(known):
                raise Unsupported(f"shape {node} has no sh:message (pySHACL's generic messages are not compiled)")
            return known
        self._reading.add(node)
        try:
            built = self._read(node, reported)
        finally:
            self._reading.discard(node)
        self._shapes[node] = built
        return built

    @staticmethod
    def _has_constraints(shape: Shape) -> bool:
        return bool(shape.values or shape.counts or shape.logical)

    def _read(self, node: Node, reported: bool) -> Shape:
        g = self.graph
        for predicate in set(g.predicates(node, None)):
            if str(predicate).startswith(str(SH)) and predicate not in SHAPE_KEYS | CONSTRAINT_KEYS:
                raise Unsupported(f"{predicate} on shape {node} is not compiled")
        path = g.value(node, SH.path)
        severity = g.value(node, SH.severity)
        shape = Shape(
            node=node, path=path, path_text=self.path_text(path) if path is not None else None,
            targets=self.targets(node), severity=URIRef(str(severity)) if severity is not None else SH.Violation,
            messages=tuple(m for m in g.objects(node, SH.message) if isinstance(m, Literal)))
        flags = g.value(node, SH.flags)
        shape.flags = str(flags) if flags is not None else ""
        for parameter in VALUE_COMPONENTS:
            for value in g.objects(node, parameter):
                if parameter == SH.datatype and value not in CASTABLE and value != RDF.langString:
                    raise Unsupported(f"sh:datatype {value} (its well-formedness is not checked in SPARQL)")
                shape.values.append((parameter, value))
        for parameter in COUNT_COMPONENTS:
            for value in g.objects(node, parameter):
                if path is None:
                    raise Unsupported(f"{parameter} on node shape {node}")
                shape.counts.append((parameter, value))
        for parameter in LOGICAL_COMPONENTS:
            for value in g.objects(node, parameter):
                members = [value] if parameter in (SH.node, SH["not"]) else list(Collection(g, value))
                shape.logical.append((parameter, [self.shape(m, reported=False) for m in members]))
        if reported and self._has_constraints(shape) and not shape.messages:
            raise Unsupported(f"shape {node} has no sh:message (pySHACL's generic messages are not compiled)")
        for child in g.objects(node, SH.property):
            if not self._deactivated(child):
                shape.properties.append(self.shape(child, reported))
        for constraint in g.objects(node, SH.sparql):
            if not self._deactivated(constraint):
                shape.sparql.append(self.sparql_constraint(shape, constraint, reported))
        return shape

    def sparql_constraint(self, shape: Shape, node: Node, reported: bool) -> SparqlConstraint:
        g = self.graph
        select = g.value(node, SH.select)
        if select is None:
            raise Unsupported(f"SPARQL constraint {node} without sh:select (ASK validators are not compiled)")
        messages = tuple(m for m in g.objects(node, SH.message) if isinstance(m, Literal))
        if reported and not messages and not shape.messages:
            raise Unsupported(f"SPARQL constraint {node} has no sh:message")
        self.declare(node)
        return SparqlConstraint(node, str(select), messages)

    @property
    def prefixes(self) -> str:
        """The PREFIX lines of every query: all the prefixes the shapes' SPARQL declares (sh:prefixes)."""
        return "".join(f"PREFIX {p}: {sparql_term(URIRef(n))}\n" for p, n in sorted(self._declared.items()))

    def declare(self, node: Node) -> None:
        declared = self._declared
        for source in self.graph.objects(node, SH.prefixes):
            for declaration in self.graph.objects(source, SH.declare):
                prefix = self.graph.value(declaration, SH.prefix)
                namespace = self.graph.value(declaration, SH.namespace)
                if prefix is not None and namespace is not None:
                    if declared.get(str(prefix), str(namespace)) != str(namespace):
                        raise Unsupported(f"prefix {prefix} declared twice with different namespaces")
                    declared[str(prefix)] = str(namespace)

    def path_text(self, path: Node) -> str:
        g = self.graph
        if isinstance(path, URIRef):
            return sparql_term(path)
        if (path, RDF.first, None) in g:
            return "(" + "/".join(self.path_text(step) for step in Collection(g, path)) + ")"
        for predicate, operator in ((SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"), (SH.zeroOrOnePath, "?")):
            inner = g.value(path, predicate)
            if inner is not None:
                return f"({self.path_text(inner)}){operator}"
        inverse = g.value(path, SH.inversePath)
        if inverse is not None:
            return f"^({self.path_text(inverse)})"
        alternatives = g.value(path, SH.alternativePath)
        if alternatives is not None:
            return "(" + "|".join(self.path_text(step) for step in Collection(g, alternatives)) + ")"
        raise Unsupported(f"path {path}")

    def targets(self, node: Node) -> list[str]:
        g = self.graph
        found = []
        classes = list(g.objects(node, SH.targetClass))
        if (node, RDF.type, RDFS.Class) in g:
            classes.append(node)
        found += [f"?this {TYPE_OF} {sparql_term(c)} ." for c in classes]  # expanded at run time (class_scope)
        found += [f"VALUES ?this {{ {sparql_term(n)} }}" for n in g.objects(node, SH.targetNode)]
        found += [f"?subject {sparql_term(p)} ?this ." for p in g.objects(node, SH.targetObjectsOf)]
        found += [f"?this {sparql_term(p)} ?object ." for p in g.objects(node, SH.targetSubjectsOf)]
        for target in g.objects(node, SH.target):
            select = g.value(target, SH.select)
            if (target, RDF.type, SH.SPARQLTarget) not in g or select is None:
                raise Unsupported(f"target {target} of {node} (only SPARQL targets with sh:select are compiled)")
            text = str(select)
            masked = mask(text)
            if re.search(r"\b(PREFIX|BASE)\b|\$(?!this\b)\w", masked, re.IGNORECASE):
                raise Unsupported(f"SPARQL target of {node} declares prefixes or uses other pre-bound variables")
            self.declare(target)
            found.append(f"{{ {anti_joins_as_minus(text).replace('$this', '?this')} }}")
        return found


# -- queries --------------------------------------------------------------------------------------------------------

_MASKED = re.compile(  # what a SPARQL parser does not read as syntax: strings, IRIs and comments
    r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\''
    r"|<[^<>\"{}|^`\\\x00-\x20]*>|#[^\n]*"
)


def mask(text: str) -> str:
    """``text`` with strings, IRIs and comments blanked (same length), so that keywords and braces can be found."""
    return _MASKED.sub(lambda m: " " * len(m.group(0)), text)


def scope_of(shape: Shape, focus: Sequence[OxTerm] | None) -> str:
    """The group that binds ``?this`` to the shape's focus nodes (among ``focus`` when given)."""
    restriction = f"VALUES ?this {{ {' '.join(str(t) for t in focus)} }} " if focus is not None else ""
    if not shape.targets:
        return f"{{ {restriction} }}" if restriction else "{ FILTER(false) }"
    union = " UNION ".join(f"{{ {t} }}" for t in shape.targets)
    return f"{{ SELECT DISTINCT ?this WHERE {{ {restriction}{union} }} }}"


def class_only(members: Sequence[Shape]) -> list[Node]:
    """The classes of ``members`` when each member is nothing but one ``sh:class`` (as ``sh:or ( [ sh:class A ]
    [ sh:class B ] )``); empty otherwise."""
    classes = []
    for member in members:
        if (member.path is not None or member.counts or member.logical or member.properties or member.sparql
                or len(member.values) != 1 or member.values[0][0] != SH["class"]):
            return []
        classes.append(member.values[0][1])
    return classes


def value_pattern(shape: Shape) -> str:
    return f"?this {shape.path_text} ?value ." if shape.path_text is not None else "BIND(?this AS ?value)"


def value_condition(parameter: URIRef, value: Node, flags: str) -> str:
    """A SPARQL expression true when ``?value`` violates the value component."""
    if parameter == SH.nodeKind:
        kind = NODE_KINDS.get(URIRef(str(value)))
        if kind is None:
            raise Unsupported(f"sh:nodeKind {value}")
        return f"!{kind}"
    if parameter == SH.datatype:
        if value == RDF.langString:
            return '!(isLiteral(?value) && LANG(?value) != "")'
        datatype = sparql_term(value)
        return (f"!(isLiteral(?value) && DATATYPE(?value) = {datatype} && "
                f"COALESCE(isLiteral({datatype}(?value)), false))")
    if parameter == SH.pattern:
        return f"(isBlank(?value) || !REGEX(STR(?value), {sparql_term(Literal(str(value)))}, " \
               f"{sparql_term(Literal(flags))}))"
    if parameter in COMPARISONS:
        return f"!COALESCE(?value {COMPARISONS[parameter]} {sparql_term(value)}, false)"
    if parameter in (SH.minLength, SH.maxLength):
        operator = "<" if parameter == SH.minLength else ">"
        return f"(isBlank(?value) || STRLEN(STR(?value)) {operator} {int(str(value))})"
    raise Unsupported(f"{parameter}")


class Compiled:
    """A shapes graph compiled to queries, run against a :class:`QuerySource`."""

    def __init__(self, shapes: Graph) -> None:
        self.shapes = shapes
        self.model = ShapesModel(shapes)
        for shape in self.model.roots:  # compile every text once now, so that an unsupported form shows at once
            self._check(shape)

    def _check(self, shape: Shape) -> None:
        for parameter, value in shape.values:
            if parameter not in (SH["class"], SH["in"], SH.hasValue):
                value_condition(parameter, value, shape.flags)
        for constraint in shape.sparql:
            prebound(constraint.select, "{}", shape.path_text)
        for _, members in shape.logical:
            for member in members:
                self._check(member)
        for child in shape.properties:
            self._check(child)

    def validate(self, source: QuerySource, focus: Sequence[OxTerm] | None = None) -> list[ShaclResult]:
        results: list[ShaclResult] = []
        for shape in self.model.roots:
            results += self.shape_results(source, shape, focus)
        return results

    def shape_results(self, source: QuerySource, shape: Shape,
                      focus: Sequence[OxTerm] | None = None) -> list[ShaclResult]:
        """The results of one of the shapes with targets (:attr:`ShapesModel.roots`).

        Its focus nodes are selected first: none (valid data, for most SPARQL targets) costs that one query; up to
        VALUES_LIMIT IRIs become a VALUES block that every constraint's query starts from (pyoxigraph's planner
        then binds ``?this`` before anything else: a path such as ``$this evm:evaluates? ?s`` is otherwise
        evaluated for every node of the store)."""
        scope = self._subclasses_inlined(source, scope_of(shape, focus))
        # At most one more than VALUES_LIMIT: whether there are any, and all of them when few (reading every focus
        # node into Python only to count them took 14.6 s for the 1.4 million findings of 100,000 studies).
        rows = self._select(source, f"SELECT DISTINCT ?this WHERE {{ {scope} }} LIMIT {VALUES_LIMIT + 1}")
        nodes = [row["this"] for row in rows if "this" in row]
        if not nodes:
            return []
        if len(rows) <= VALUES_LIMIT and not any(isinstance(node, ox.BlankNode) for node in nodes):
            scope = f"{{ VALUES ?this {{ {' '.join(str(node) for node in nodes)} }} }}"
        return self._results(source, shape, scope)

    def _subclasses(self, source: QuerySource, cls: str) -> str:
        """``VALUES ?class { ... }``-ready text of the class and its subclasses in the data (a rdfs:subClassOf*
        path run once), so that a class test is an index lookup of rdf:type, not a path for every node."""
        rows = self._select(source, f"SELECT DISTINCT ?c WHERE {{ ?c <{RDFS.subClassOf}>* {cls} }}")
        return " ".join(sorted({str(row["c"]) for row in rows if "c" in row} | {cls}))

    def _subclasses_inlined(self, source: QuerySource, text: str) -> str:
        """``text`` with each ``rdf:type/rdfs:subClassOf* <C>`` test written as ``rdf:type ?cN`` with ``?cN`` among
        the class and its subclasses."""
        counter = iter(range(1_000_000))

        def inline(match: re.Match[str]) -> str:
            name, classes = f"?class{next(counter)}", self._subclasses(source, match.group(2))
            return f"{match.group(1)} <{RDF.type}> {name} . VALUES {name} {{ {classes} }}"
        return _CLASS_TEST.sub(inline, text)

    def _select(self, source: QuerySource, query: str) -> list[dict[str, OxTerm]]:
        """Every query with the prefixes the shapes' SPARQL declares (a SPARQL target inlined in a scope uses them)."""
        return source.select(self.model.prefixes + query)

    # The shape's own results, and its property shapes', for the focus nodes of ``scope``.
    def _results(self, source: QuerySource, shape: Shape, scope: str) -> list[ShaclResult]:
        results = []
        for focus, value, component in self._violations(source, shape, scope):
            results.append(ShaclResult(
                focus=to_rdflib(focus), shape=shape.node, severity=shape.severity, component=component,
                messages=tuple(sorted(str(m) for m in shape.messages)), path=shape.path,
                value=to_rdflib(value) if value is not None else None))
        for constraint in shape.sparql:
            results += self._sparql_results(source, shape, constraint, scope)
        for child in shape.properties:
            results += self._results(source, child, scope)
        return results

    def _violations(self, source: QuerySource, shape: Shape,
                    scope: str) -> list[tuple[OxTerm, OxTerm | None, URIRef]]:
        """(focus, value or None, component) for each violation of the shape's core constraints."""
        found: list[tuple[OxTerm, OxTerm | None, URIRef]] = []
        pattern = value_pattern(shape)
        for parameter, value in shape.values:
            component = VALUE_COMPONENTS[parameter]
            if parameter == SH["class"]:  # MINUS: a hash anti-join (?value is always bound here)
                where = (f"{scope} {pattern} MINUS {{ ?value <{RDF.type}> ?class . "
                         f"VALUES ?class {{ {self._subclasses(source, sparql_term(value))} }} }}")
            elif parameter == SH["in"]:
                allowed = list(Collection(self.shapes, value))
                alternatives = " || ".join(f"sameTerm(?value, {sparql_term(m)})" for m in allowed) or "false"
                where = f"{scope} {pattern} FILTER(!({alternatives}))"
            elif parameter == SH.hasValue:
                query = (f"SELECT DISTINCT ?this WHERE {{ {scope} FILTER NOT EXISTS {{ "
                         f"{pattern} FILTER(sameTerm(?value, {sparql_term(value)})) }} }}")
                found += [(row["this"], None, component) for row in self._select(source, query)]
                continue
            else:
                where = f"{scope} {pattern} FILTER({value_condition(parameter, value, shape.flags)})"
            found += [(row["this"], row["value"], component)
                      for row in self._select(source, f"SELECT DISTINCT ?this ?value WHERE {{ {where} }}")]
        for parameter, value in shape.counts:
            if parameter == SH.uniqueLang and value == Literal(True):
                query = (f"SELECT ?this ?lang WHERE {{ {scope} {pattern} FILTER(isLiteral(?value) && "
                         f"LANG(?value) != \"\") BIND(LCASE(LANG(?value)) AS ?lang) }} GROUP BY ?this ?lang "
                         f"HAVING (COUNT(DISTINCT ?value) > 1)")
                found += [(row["this"], None, SH.UniqueLangConstraintComponent)
                          for row in self._select(source, query)]
        found += self._cardinalities(source, shape, scope, pattern)
        for parameter, members in shape.logical:
            found += self._logical(source, shape, scope, parameter, members)
        return found

    def _cardinalities(self, source: QuerySource, shape: Shape, scope: str,
                       pattern: str) -> list[tuple[OxTerm, OxTerm | None, URIRef]]:
        """sh:minCount and sh:maxCount of a property shape in one query: the focus nodes whose number of values
        breaks any of them, with that number."""
        mins = [int(str(v)) for p, v in shape.counts if p == SH.minCount]
        maxes = [int(str(v)) for p, v in shape.counts if p == SH.maxCount]
        if not mins and not maxes:
            return []
        count = "COUNT(DISTINCT ?value)"
        broken = " || ".join([f"{count} < {m}" for m in mins] + [f"{count} > {m}" for m in maxes])
        values = f"OPTIONAL {{ {pattern} }}" if mins else pattern
        query = f"SELECT ?this ({count} AS ?n) WHERE {{ {scope} {values} }} GROUP BY ?this HAVING ({broken})"
        found: list[tuple[OxTerm, OxTerm | None, URIRef]] = []
        for row in self._select(source, query):
            number = int(row["n"].value)
            found += [(row["this"], None, SH.MinCountConstraintComponent) for m in mins if number < m]
            found += [(row["this"], None, SH.MaxCountConstraintComponent) for m in maxes if number > m]
        return found

    def _logical(self, source: QuerySource, shape: Shape, scope: str, parameter: URIRef,
                 members: list[Shape]) -> list[tuple[OxTerm, OxTerm | None, URIRef]]:
        pattern = value_pattern(shape)
        classes = class_only(members)
        if parameter == SH["or"] and classes:
            # "an instance of one of these classes": one anti-join, instead of each member's failing nodes and the
            # pairs of focus and value compared in Python (142,170 pairs at 10,000 studies for a finding's subject)
            allowed = sorted({c for cls in classes for c in self._subclasses(source, sparql_term(cls)).split()})
            query = (f"SELECT DISTINCT ?this ?value WHERE {{ {scope} {pattern} MINUS {{ ?value <{RDF.type}> ?class . "
                     f"VALUES ?class {{ {' '.join(allowed)} }} }} }}")
            return [(row["this"], row["value"], LOGICAL_COMPONENTS[parameter])
                    for row in self._select(source, query)]
        if shape.path_text is None:
            values_scope = scope
        else:
            values_scope = (f"{{ SELECT DISTINCT ?this WHERE {{ {{ SELECT (?this AS ?owner) WHERE {{ {scope} }} }} "
                            f"?owner {shape.path_text} ?this }} }}")
        failing = [self._failing(source, member, values_scope) for member in members]
        pairs = self._select(source, f"SELECT DISTINCT ?this ?value WHERE {{ {scope} {pattern} }}")
        component = LOGICAL_COMPONENTS[parameter]
        found: list[tuple[OxTerm, OxTerm | None, URIRef]] = []
        for row in pairs:
            value = row["value"]
            fails = [value in f for f in failing]
            if parameter == SH["or"]:
                bad = all(fails)
            elif parameter in (SH["and"], SH.node):
                bad = any(fails)
            elif parameter == SH["not"]:
                bad = not fails[0]
            else:
                bad = fails.count(False) != 1
            if bad:
                found.append((row["this"], value, component))
        return found

    def _failing(self, source: QuerySource, shape: Shape, scope: str) -> set[OxTerm]:
        """The focus nodes of ``scope`` that do not conform to ``shape`` (any result of any severity)."""
        failing = {focus for focus, _, _ in self._violations(source, shape, scope)}
        for child in shape.properties:
            failing |= self._failing(source, child, scope)
        for constraint in shape.sparql:
            query = prebound(constraint.select, scope, shape.path_text)
            failing |= {row["this"] for row in self._select(source, query) if "this" in row}
        return failing

    def _sparql_results(self, source: QuerySource, shape: Shape, constraint: SparqlConstraint,
                        scope: str) -> list[ShaclResult]:
        query = prebound(constraint.select, scope, shape.path_text)
        own = [str(m) for m in shape.messages]
        templates = own + [str(m) for m in constraint.messages if str(m) not in own]
        results, seen = [], set()
        for row in self._select(source, query):
            key = tuple(sorted((k, str(v)) for k, v in row.items()))
            if key in seen or "this" not in row:
                continue
            seen.add(key)
            this = row["this"]
            path = row.get("path")
            value = row.get("value", this if shape.path_text is None else None)
            bound: dict[str, OxTerm] = {k: v for k, v in row.items() if k not in ("this", "path", "value")}
            bound["this"] = this
            if path is not None:
                bound["path"] = path
            if value is not None:
                bound["value"] = value
            results.append(ShaclResult(
                focus=to_rdflib(this), shape=shape.node, severity=shape.severity,
                component=SH.SPARQLConstraintComponent,
                messages=tuple(sorted(substituted(t, bound) for t in templates)),
                path=to_rdflib(path) if path is not None else shape.path,
                value=to_rdflib(value) if value is not None else None, constraint=constraint.node))
        return results


def substituted(template: str, bound: Mapping[str, OxTerm]) -> str:
    """``{$var}`` and ``{?var}`` replaced by each bound term's text, as pySHACL does it (re.sub, the term's lexical
    form as the replacement)."""
    message = template
    for name, term in bound.items():
        pattern, text = "{[?$]" + name + "}", term.value
        try:
            message = re.sub(pattern, text, message)
        except re.error:  # a backslash in the term: pySHACL would fail here; say the term as it is
            message = re.sub(pattern, _literally(text), message)
    return message


def _literally(text: str) -> Callable[[re.Match[str]], str]:
    return lambda _: text


_TOKENS = re.compile(r"[{}()]|[?$]this\b|\b(?:FILTER|BIND|EXISTS)\b", re.IGNORECASE)
_REFUSED = re.compile(r"\b(?:MINUS|SERVICE|VALUES)\b|\bAS\s*[?$]this\b|[$](?!this\b|PATH\b)\w", re.IGNORECASE)


def prebound(select: str, scope: str, path: str | None) -> str:
    """The SHACL-SPARQL ``select`` with ``$this`` pre-bound to the focus nodes of ``scope`` (a group binding
    ``?this``), by a join wherever a group reads ``$this`` in an expression (and at the top of the WHERE group)."""
    if re.search(r"\$PATH\b", select):
        if path is None:
            raise Unsupported("$PATH in a SPARQL constraint of a shape without a path")
        path_text: str = path
        select = re.sub(r"\$PATH\b", lambda _: path_text, select)
    masked = mask(select)
    if len(re.findall(r"\bSELECT\b", masked, re.IGNORECASE)) != 1 or _REFUSED.search(masked):
        raise Unsupported("a SPARQL constraint with a sub-select, MINUS, SERVICE, VALUES or other pre-bound "
                          "variables (pre-binding by a join would not be equivalent)")
    top = masked.find("{")
    projection = masked[:top]
    if top < 0 or not re.search(r"[?$]this\b|\*", projection):
        raise Unsupported("a SPARQL constraint that does not select $this")
    select = anti_joins_as_minus(select)
    masked = mask(select)
    inserts: list[int] = []
    frames: list[tuple[int, bool, bool]] = []  # (index after "{", is an EXISTS body, reads $this in an expression)
    expression_depth: list[int] = []  # the paren depth at which each open FILTER/BIND expression started
    pending_expression = pending_exists = False
    parens = 0
    for token in _TOKENS.finditer(masked, top):
        text = token.group(0).upper()
        if text == "{":
            frames.append((token.end(), pending_exists, False))
            pending_exists = pending_expression = False
        elif text == "}":
            start, _, reads = frames.pop()
            if reads or not frames:
                inserts.append(start)
            if not frames:
                break
        elif text == "(":
            if pending_expression:
                expression_depth.append(parens)
                pending_expression = False
            parens += 1
        elif text == ")":
            parens -= 1
            if expression_depth and expression_depth[-1] == parens:
                expression_depth.pop()
        elif text in ("FILTER", "BIND"):
            pending_expression = True
        elif text == "EXISTS":
            pending_exists = True
        else:  # $this / ?this
            inside_exists = frames and frames[-1][1]
            if inside_exists or expression_depth:
                index = len(frames) - 1
                while index > 0 and frames[index][1]:
                    index -= 1
                start, exists, _ = frames[index]
                frames[index] = (start, exists, True)
    for index in sorted(set(inserts), reverse=True):
        select = f"{select[:index]} {scope} {select[index:]}"
    return select.replace("$this", "?this")


# -- validation -----------------------------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _compiled(shapes: Graph) -> Compiled | Unsupported:
    try:
        return Compiled(shapes)
    except Unsupported as why:
        return why


def compile_shapes(shapes: Graph) -> Compiled:
    """The shapes compiled (once per shapes graph object).

    :raises Unsupported: when the shapes use something not compiled."""
    compiled = _compiled(shapes)
    if isinstance(compiled, Unsupported):
        raise compiled
    return compiled


def validate(source: QuerySource, shapes: Graph, focus: Sequence[ox.NamedNode] | None = None,
             to_graph: Callable[[], Graph] | None = None) -> Report:
    """Validate the data of ``source`` with ``shapes`` (only the focus nodes among ``focus`` when given): compiled
    queries, or pySHACL when the shapes use something not compiled (``to_graph`` then gives the data as rdflib's;
    by default, ``source``'s triples)."""
    try:
        compiled = compile_shapes(shapes)
    except Unsupported as why:
        log.warning("SHACL validation by pySHACL, not compiled to SPARQL: %s", why)
        from pyshacl import validate as pyshacl_validate  # imported here: a start that validates nothing skips it
        data = to_graph() if to_graph is not None else rdflib_graph(source.triples())
        _, report_graph, _ = pyshacl_validate(
            data, shacl_graph=shapes, inference="none", allow_warnings=True, allow_infos=True, advanced=True,
            inplace=True, focus_nodes=[URIRef(f.value) for f in focus] if focus is not None else None)
        assert isinstance(report_graph, Graph)
        return Report(results_of(report_graph), shapes, engine="pyshacl", reason=str(why), _graph=report_graph)
    return Report(compiled.validate(source, focus), shapes)


def rdflib_graph(triples: Iterable[ox.Triple]) -> Graph:
    graph = Graph()
    for triple in triples:
        subject, predicate, obj = triple.subject, triple.predicate, triple.object
        if isinstance(subject, ox.Triple) or isinstance(obj, ox.Triple):
            raise Unsupported("quoted triples in the data")
        graph.add((to_rdflib(subject), to_rdflib(predicate), to_rdflib(obj)))
    return graph


_NOT_EXISTS = re.compile(r"\bFILTER\s+NOT\s+EXISTS\s*\{", re.IGNORECASE)
_NOT_FLAT = re.compile(r"[{]|\b(?:OPTIONAL|GRAPH|BIND|VALUES|SERVICE|EXISTS|MINUS|UNION|SELECT)\b", re.IGNORECASE)
_VARIABLE = re.compile(r"[?$](\w+)")


def _enclosing(masked: str, position: int) -> tuple[int, int]:
    """The (open, close) brace indexes of the innermost group around ``position``."""
    depth, start = 0, position
    while start > 0:
        start -= 1
        if masked[start] == "}":
            depth += 1
        elif masked[start] == "{":
            if depth == 0:
                break
            depth -= 1
    depth, end = 0, start
    for end in range(start + 1, len(masked)):
        if masked[end] == "{":
            depth += 1
        elif masked[end] == "}":
            if depth == 0:
                break
            depth -= 1
    return start, end


def _own_level(text: str) -> str:
    """A group's text without its nested groups and its FILTER and BIND expressions: its triple patterns."""
    out, depth = [], 0
    for char in text:
        depth += char == "{"
        out.append(char if depth == 0 else " ")
        depth -= char == "}" and depth > 0
    flat = "".join(out)
    while True:
        match = re.search(r"\b(?:FILTER|BIND)\s*\(", flat, re.IGNORECASE)
        if match is None:
            return flat
        depth, end = 0, match.end() - 1
        for end in range(match.end() - 1, len(flat)):
            depth += (flat[end] == "(") - (flat[end] == ")")
            if depth == 0:
                break
        flat = flat[:match.start()] + " " * (end + 1 - match.start()) + flat[end + 1:]


def anti_joins_as_minus(select: str) -> str:
    """``select`` with each ``FILTER NOT EXISTS { P }`` that MINUS answers the same way moved to a ``MINUS { P }``
    at the end of its group (pyoxigraph evaluates the inner join of an EXISTS without the outer row's bindings: a
    three-pattern NOT EXISTS over 10,000 findings takes minutes; MINUS is a hash anti-join).

    The same answers when P is a flat pattern (triples and FILTERs of its own variables), and every variable P
    shares with the rest of the query is certainly bound in the group: bound by one of its own triple patterns, not
    by an OPTIONAL, a UNION branch or a BIND, and at least one is shared. Any other NOT EXISTS is left as it is."""
    starts = [m.start() for m in _NOT_EXISTS.finditer(mask(select))]
    for start in reversed(starts):
        masked = mask(select)
        match = _NOT_EXISTS.match(masked, start)
        if match is None:
            continue
        body_end = masked.find("}", match.end())
        body = masked[match.end():body_end]
        if body_end < 0 or _NOT_FLAT.search(body):
            continue
        group_start, group_end = _enclosing(masked, start)
        outside = masked[group_start:start] + masked[body_end + 1:]
        inner = set(_VARIABLE.findall(body))
        bound_inside = set(_VARIABLE.findall(_own_level(" " + body)))
        certain = set(_VARIABLE.findall(_own_level(masked[group_start + 1:group_end].replace(
            masked[start:body_end + 1], " " * (body_end + 1 - start)))))
        shared = inner & (set(_VARIABLE.findall(masked[:start])) | set(_VARIABLE.findall(outside)))
        # every variable of P bound by P's own triples (a FILTER of P reading the outer row is not MINUS's)
        if not shared or not shared <= certain or not inner <= bound_inside:
            continue
        pattern = select[match.end():body_end]
        select = (f"{select[:start]}{' ' * (body_end + 1 - start)}{select[body_end + 1:group_end]} "
                  f"MINUS {{{pattern}}} {select[group_end:]}")
    return select
