/* The /sparql editor, enhanced: replaces the plain form (which works without JavaScript) with YASGUI, vendored in
 * static/yasgui/. Everything stays on this server: queries go to this /sparql only, autocompletion reads
 * /sparql/vocabulary.json (no prefix.cc, no Linked Open Vocabularies), nothing is kept in the browser's storage.
 * What the page gives it: the form (its query, its action), #sparql-editor (data-vocabulary: the vocabulary's URL;
 * data-downloads: the download formats of each query form, as JSON), and the examples (.sparql-example). */
(function () {
  "use strict";

  var form = document.getElementById("sparql-form");
  var holder = document.getElementById("sparql-editor");
  if (!form || !holder || typeof window.Yasgui !== "function") return;

  var Yasgui = window.Yasgui;
  var Yasqe = Yasgui.Yasqe;
  var endpoint = new URL(form.getAttribute("action"), document.baseURI).href;
  var textarea = form.querySelector("textarea");
  var downloads = JSON.parse(holder.getAttribute("data-downloads") || "{}");
  var vocabulary = null; // filled when /sparql/vocabulary.json arrives

  // -- numbers sort as numbers ------------------------------------------------------------------------------------
  // YASR's table sorts every cell by its text ("11" before "2"); a numeric literal sorts by its value instead.

  var NUMERIC = /^http:\/\/www\.w3\.org\/2001\/XMLSchema#(integer|decimal|double|float|long|int|short|byte|(non)?(negative|positive)Integer|unsigned(Long|Int|Short|Byte))$/;
  var Table = Yasgui.Yasr && Yasgui.Yasr.plugins && Yasgui.Yasr.plugins.table;
  if (Table && Table.prototype.getColumns) {
    var columnsOf = Table.prototype.getColumns;
    Table.prototype.getColumns = function () {
      return columnsOf.call(this).map(function (column, index) {
        if (index === 0 || typeof column.render !== "function") return column;
        var render = column.render;
        column.render = function (data, type, row, meta) {
          if ((type === "sort" || type === "type") && data && data.type === "literal" && NUMERIC.test(data.datatype || "")) {
            return Number(data.value);
          }
          return render.call(this, data, type, row, meta);
        };
        return column;
      });
    };
  }

  // -- autocompletion from the map's own vocabulary ---------------------------------------------------------

  function prefixLines() {
    if (!vocabulary) return [];
    return Object.keys(vocabulary.prefixes).sort().map(function (name) {
      return name + ": <" + vocabulary.prefixes[name] + ">";
    });
  }

  function labelOf(iri) {
    var found = vocabulary && vocabulary.labels[iri];
    return found || "";
  }

  // The terms whose IRI starts with what was typed (the prefixed name expanded), or whose label or local name
  // contains the rest of it: "evm:study" finds evm:IncludedStudy, "<…/concept/delivery/onl" finds online.
  function matching(terms, token) {
    var typed = (token.autocompletionString || token.string || "").replace(/^</, "").replace(/>$/, "");
    var namespace = token.tokenPrefixUri || "";
    var rest = (namespace && typed.indexOf(namespace) === 0 ? typed.slice(namespace.length) : "").toLowerCase();
    var out = [];
    for (var i = 0; i < terms.length && out.length < 100; i++) {
      var term = terms[i];
      if (term.iri.indexOf(typed) === 0) {
        out.push(term.iri);
      } else if (namespace && rest && term.iri.indexOf(namespace) === 0) {
        var local = term.iri.slice(namespace.length).toLowerCase();
        var label = (term.label || "").toLowerCase();
        if (local.indexOf(rest) >= 0 || label.indexOf(rest) >= 0) out.push(term.iri);
      }
    }
    return out;
  }

  function withLabels(yasqe, hints) {
    return hints.map(function (hint) {
      var iri = hint.text.replace(/^</, "").replace(/>$/, "");
      var expanded = iri;
      var prefixes = yasqe.getPrefixesFromQuery();
      var colon = hint.text.indexOf(":");
      if (hint.text.charAt(0) !== "<" && colon > 0 && prefixes[hint.text.slice(0, colon)]) {
        expanded = prefixes[hint.text.slice(0, colon)] + hint.text.slice(colon + 1);
      }
      var label = labelOf(expanded);
      if (label) hint.displayText = hint.text + "  — " + label;
      return hint;
    });
  }

  function iriCompleter(base, name, kind) {
    Yasqe.forkAutocompleter(base, {
      name: name,
      get: function (yasqe, token) { return vocabulary && token ? matching(vocabulary[kind], token) : []; },
      postprocessHints: withLabels,
      bulk: false,
      autoShow: true,
      persistenceId: null,
    }, false);
  }

  // after PREFIX, the map's declarations; and a prefixed name typed without its declaration gets it added (YASQE
  // asks this completer for the line that starts with "name:")
  Yasqe.forkAutocompleter("prefixes", {
    name: "map-prefixes",
    get: function (yasqe, token) {
      var typed = token ? (token.autocompletionString || token.string || "").trim() : "";
      return prefixLines().filter(function (line) { return line.indexOf(typed) === 0; });
    },
    bulk: false,
    persistenceId: null,
  }, false);
  iriCompleter("property", "map-properties", "properties");
  iriCompleter("class", "map-classes", "classes");
  // concepts wherever an IRI may stand that is neither a predicate nor a class (an object, a VALUES row...): the
  // positions of the two completers above are left to them (each completer that accepts a position shows a list)
  var CLASS_PROPERTIES = ["a", "rdf:type", "rdfs:domain", "rdfs:range"];
  Yasqe.forkAutocompleter("class", {
    name: "map-concepts",
    isValidCompletionPosition: function (yasqe) {
      var token = yasqe.getCompleteToken();
      var text = token.string || "";
      if (!text || text.charAt(0) === "?" || text.charAt(0) === "$") return false;
      if (text.charAt(0) !== "<" && text.indexOf(":") <= 0) return false;
      if (token.state.possibleCurrent.indexOf("a") >= 0) return false; // a predicate
      var previous = yasqe.getPreviousNonWsToken(yasqe.getDoc().getCursor().line, token);
      return !(previous && CLASS_PROPERTIES.indexOf(previous.state.lastProperty) >= 0); // a class
    },
    get: function (yasqe, token) { return vocabulary && token ? matching(vocabulary.concepts, token) : []; },
    postprocessHints: withLabels,
    bulk: false,
    autoShow: true,
    persistenceId: null,
  }, false);

  function loadVocabulary() {
    var url = holder.getAttribute("data-vocabulary");
    return fetch(url, { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return;
        var labels = {};
        ["classes", "properties", "concepts"].forEach(function (kind) {
          data[kind].forEach(function (term) {
            if (term.label) labels[term.iri] = kind === "concepts" ? term.label + " (" + term.facet + ")" : term.label;
          });
        });
        data.labels = labels;
        vocabulary = data;
        holder.setAttribute("data-vocabulary-loaded", "true");
      })
      .catch(function () { vocabulary = null; });
  }

  // -- downloads that match the query's form --------------------------------------------------------------------

  var downloadBar = document.createElement("p");
  downloadBar.className = "sparql-downloads";
  downloadBar.id = "sparql-editor-downloads";
  downloadBar.hidden = true;

  function showDownloads(yasqe) {
    var choices = downloads[yasqe.getQueryType()] || [];
    downloadBar.textContent = "";
    if (!choices.length) { downloadBar.hidden = true; return; }
    downloadBar.appendChild(document.createTextNode("Same query as: "));
    choices.forEach(function (choice, index) {
      var link = document.createElement("a");
      var url = new URL(endpoint);
      url.searchParams.set("query", yasqe.getValue());
      url.searchParams.set("format", choice[0]);
      link.href = url.href;
      link.textContent = choice[1];
      if (index) downloadBar.appendChild(document.createTextNode(" · "));
      downloadBar.appendChild(link);
    });
    downloadBar.hidden = false;
  }

  // -- errors: the server's line and column, marked in the editor ------------------------------------------------

  var status = document.createElement("div");
  status.className = "sparql-error";
  status.id = "sparql-editor-error";
  status.setAttribute("role", "alert");
  status.hidden = true;
  var marks = [];

  function clearError(yasqe) {
    marks.forEach(function (mark) { mark.clear(); });
    marks = [];
    status.hidden = true;
    status.textContent = "";
    if (yasqe) yasqe.getWrapperElement().classList.remove("sparql-has-error");
  }

  function showError(yasqe, body) {
    var heading = document.createElement("h2");
    heading.textContent = "The query was not run (error " + body.status + ")";
    var message = document.createElement("p");
    message.textContent = body.error;
    status.appendChild(heading);
    status.appendChild(message);
    if (body.hint) {
      var hint = document.createElement("p");
      hint.className = "sparql-hint";
      hint.textContent = body.hint;
      status.appendChild(hint);
    }
    status.hidden = false;
    if (body.line && body.column) markAt(yasqe, body.line, body.column);
  }

  // the token at a 1-based line and column (the server's), marked, with the cursor put there
  function markAt(yasqe, lineNumber, column) {
    var line = lineNumber - 1;
    var text = yasqe.getDoc().getLine(line);
    if (text === undefined) return;
    var from = { line: line, ch: Math.min(column - 1, text.length) };
    var end = text.slice(from.ch).search(/[\s{}()<>,;.]|$/);
    var to = { line: line, ch: from.ch + Math.max(end, 1) };
    marks.push(yasqe.getDoc().markText(from, to, { className: "sparql-error-token" }));
    yasqe.getDoc().setCursor(from);
    yasqe.getWrapperElement().classList.add("sparql-has-error");
  }

  function errorBody(response) {
    if (!(response instanceof Error)) return null;
    try {
      var body = JSON.parse(response.message);
      return body && body.error ? body : null;
    } catch (e) {
      return null;
    }
  }

  // -- the editor -------------------------------------------------------------------------------------------------

  function examples() {
    return Array.prototype.map.call(document.querySelectorAll(".sparql-example"), function (article) {
      return {
        element: article,
        title: article.querySelector("h3").textContent.trim(),
        query: article.querySelector("pre code").textContent,
      };
    });
  }

  // What axe-core finds in YASGUI as shipped, repaired here rather than in the vendored file: the "+" (new tab)
  // button sits inside the tab list, where only tabs may be; the table's page-size menu has no name.
  function accessible(yasgui) {
    var tabs = yasgui.tabElements;
    if (tabs && tabs.addTabEl && tabs._tabsListEl && tabs._tabsListEl.parentNode) {
      var bar = document.createElement("div");
      bar.className = "sparql-tabbar";
      tabs._tabsListEl.parentNode.insertBefore(bar, tabs._tabsListEl);
      bar.appendChild(tabs._tabsListEl);
      bar.appendChild(tabs.addTabEl);
      tabs.addTabEl = null; // YASGUI inserts new tabs before it; without it, at the end of the list
    }
    function label() {
      Array.prototype.forEach.call(holder.querySelectorAll("select.tableSizer:not([aria-label])"), function (el) {
        el.setAttribute("aria-label", "Rows per page");
      });
      // a wide table scrolls inside its own region (not the page), which the keyboard can reach
      Array.prototype.forEach.call(holder.querySelectorAll(".yasr_results:not([tabindex])"), function (el) {
        el.setAttribute("tabindex", "0");
        el.setAttribute("role", "region");
        el.setAttribute("aria-label", "Query results");
      });
    }
    new MutationObserver(label).observe(holder, { childList: true, subtree: true });
  }

  function start() {
    var keys = document.createElement("p");
    keys.className = "sparql-editor-keys";
    keys.id = "sparql-editor-keys";
    keys.textContent = "In the editor, Tab indents: press Esc, then Tab, to leave it. " +
      "Ctrl+Space completes prefixes, classes, properties and concepts of this map; Ctrl+Enter runs the query.";
    holder.appendChild(keys);
    var container = document.createElement("div");
    container.id = "sparql-yasgui";
    container.className = "sparql-yasgui";
    holder.appendChild(container);
    holder.appendChild(status);
    holder.appendChild(downloadBar);

    var yasgui = new Yasgui(container, {
      persistenceId: null,
      populateFromUrl: false,
      autofocus: false,
      copyEndpointOnNewTab: true,
      tabName: "Query",
      requestConfig: { endpoint: endpoint, method: "POST" },
      yasqe: {
        value: textarea.value,
        persistenceId: null,
        createShareableLink: null,
        consumeShareLink: null,
        // the editor grows with its query (no inner scroll area, which the keyboard could not reach)
        resizeable: false,
        editorHeight: "auto",
        autocompleters: ["variables", "map-prefixes", "map-properties", "map-classes", "map-concepts"],
      },
      // results shorten IRIs with the map's prefixes (and the query's own, which YASGUI adds)
      yasr: { persistenceId: null, prefixes: function () { return vocabulary ? vocabulary.prefixes : {}; } },
      endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
    });
    accessible(yasgui);
    holder.classList.add("is-enhanced");
    form.hidden = true;
    document.body.classList.add("sparql-enhanced");

    function watch(tab) {
      var yasqe = tab.getYasqe();
      if (!yasqe || yasqe.__evidencemap) return;
      yasqe.__evidencemap = true;
      yasqe.setOption("viewportMargin", Infinity); // every line drawn: the editor is as tall as its query
      var input = yasqe.getInputField();
      input.setAttribute("aria-label", "SPARQL query");
      input.setAttribute("aria-describedby", "sparql-editor-keys");
      yasqe.on("change", function () { clearError(yasqe); });
      yasqe.on("queryBefore", function () {
        clearError(yasqe);
        // the page's own results (a query run without the editor) are stale once the editor runs one
        Array.prototype.forEach.call(document.querySelectorAll(".sparql-server-result"), function (el) {
          el.hidden = true;
        });
      });
      yasqe.on("queryResponse", function (instance, response) {
        var body = errorBody(response);
        if (body) {
          showError(yasqe, body);
          downloadBar.hidden = true;
        } else {
          showDownloads(yasqe);
        }
      });
    }
    Object.keys(yasgui._tabs).forEach(function (id) { watch(yasgui.getTab(id)); });
    // a page that shows the server's syntax error (a query sent without the editor): the same place marked
    var shown = document.querySelector(".sparql-server-result[data-line]");
    var first = yasgui.getTab();
    if (shown && first && first.getYasqe()) {
      markAt(first.getYasqe(), Number(shown.getAttribute("data-line")), Number(shown.getAttribute("data-column")));
    }
    yasgui.on("tabSelect", function (instance, id) {
      window.setTimeout(function () { var tab = yasgui.getTab(id); if (tab) watch(tab); }, 0);
    });
    yasgui.on("tabChange", function (instance, tab) { watch(tab); });
    yasgui.on("tabAdd", function (instance, id) {
      window.setTimeout(function () { var tab = yasgui.getTab(id); if (tab) watch(tab); }, 0);
    });

    // each named query can be opened in a tab of its own
    examples().forEach(function (example) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sparql-open-example";
      button.textContent = "Open in the editor";
      button.addEventListener("click", function () {
        var tab = yasgui.addTab(true, { name: example.title, yasqe: { value: example.query } },
          { avoidDuplicateTabs: true });
        watch(tab);
        holder.scrollIntoView({ block: "start" });
      });
      var actions = example.element.querySelector(".sparql-example-actions");
      actions.appendChild(document.createTextNode(" "));
      actions.appendChild(button);
    });
    window.evidencemapEditor = yasgui; // for the browser tests and for analysts at the console
  }

  // the editor starts at once; completions come when the vocabulary has arrived (built once per version of the map,
  // which takes about a second at 10,000 studies)
  start();
  loadVocabulary();
})();
