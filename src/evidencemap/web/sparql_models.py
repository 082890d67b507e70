"""The page model of the /sparql query editor: what ``templates/sparql.html`` lays out, built by
:mod:`evidencemap.web.sparql_editor`."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Example(BaseModel):
    """A named query the map offers (the core ``api/queries``, or a map's own ``queries/``), as an example."""

    name: str
    map: str | None = Field(None, description="The slug of the map whose query it is; None for a core query.")
    anchor: str = Field(description="The fragment naming it in the page (its name; map-name when names clash).")
    title: str
    description: str
    text: str
    parameters: list[str] = Field(description="'?name = default' for each parameter with a default.")
    bound_text: str | None = Field(description="The query with its parameters' defaults bound by a VALUES clause "
                                   "(None when it has none, or the map lacks a default concept).")


class Cell(BaseModel):
    """One value of a result row."""

    text: str
    href: str | None = None
    note: str | None = Field(None, description="The language tag or datatype of a literal.")


class ResultView(BaseModel):
    """A query's results as a table (or an ASK's answer), with the row cap stated when it cut them."""

    form: str
    columns: list[str]
    rows: list[list[Cell | None]]
    boolean: bool | None
    count: int
    truncated: bool
    row_limit: int
    seconds: float
    downloads: list[tuple[str, str]] = Field(default_factory=list, description="(label, URL) of the same query in "
                                             "each download format.")


class QueryError(BaseModel):
    """Why the query was not run, and where in its text when it is a syntax error."""

    status: int
    message: str
    hint: str | None = None
    excerpt: str = ""
    line: int | None = None
    column: int | None = None


class Limits(BaseModel):
    timeout: float
    max_rows: int
    max_query_length: int


class EditorPage(BaseModel):
    """The editor: the query in the form, the chosen results format, the examples, the endpoint's limits, and the
    results or the error when a query was run."""

    query: str
    format: str
    formats: list[tuple[str, str]] = Field(description="(format parameter value, label) of each choice: the table "
                                           "and the formats the shown query's form can be written in.")
    downloads: dict[str, list[tuple[str, str]]] = Field(default_factory=dict, description="For each query form "
                                                        "(SELECT, ASK, CONSTRUCT, DESCRIBE), (format parameter "
                                                        "value, label) of each format it can be downloaded in.")
    examples: list[Example]
    map: str | None = Field(None, description="The map whose examples alone are shown (a map's site sends its "
                            "readers to /sparql?map={slug}); None: every map's.")
    limits: Limits
    result: ResultView | None = None
    error: QueryError | None = None
