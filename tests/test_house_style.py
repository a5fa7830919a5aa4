"""The house style, read from the source like the floors (tests/test_floors.py): thin views and short functions,
imports at the top of a module, and comments that name what exists. A view that grows past the limit, an import
hidden in a function or a comment left behind by a move fails here, with the place to look."""

import ast
import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("config", "municipalities", "assessment", "surveys", "reports")
# Where comments are read: the product, the generators above it, the tests, the benchmarks and the tools.
DOCUMENTED = (*PRODUCT, "fixtures", "tests", "bench", "tools")
VIEW_LINES = 40
FUNCTION_LINES = 80


def _product_modules(root):
    for app in PRODUCT:
        for path in sorted((root / app).rglob("*.py")):
            if "migrations" not in path.relative_to(root).parts:
                yield path


def _functions(path):
    """(name, line, length in lines from `def` to the last line, parameter names) of every function and method."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node.name, node.lineno, node.end_lineno - node.lineno + 1, [a.arg for a in node.args.args]


def long_views(root=ROOT):
    """Views and the helpers that take the request: everything that answers a request stays short."""
    return [
        f"{path.relative_to(root)}:{line} {name} ({length} lines)"
        for path in _product_modules(root)
        for name, line, length, params in _functions(path)
        if "request" in params[:2] and length > VIEW_LINES
    ]


def long_functions(root=ROOT):
    return [
        f"{path.relative_to(root)}:{line} {name} ({length} lines)"
        for path in _product_modules(root)
        for name, line, length, _params in _functions(path)
        if length > FUNCTION_LINES
    ]


def _imported(node):
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    return [node.module] if node.module else []


def _explained(lines, number):
    """Whether the comment right above line `number` says why it imports there ("Imported here: …")."""
    above = []
    while number > 1 and lines[number - 2].strip().startswith("#"):
        number -= 1
        above.append(lines[number - 1])
    return "import" in " ".join(above).lower()


def hidden_imports(root=ROOT):
    """Imports inside a function that repeat one at the module's top, or that no comment right above explains
    (an import is kept in a function only to avoid a cycle or to load a heavy optional library late)."""
    found = []
    for path in _product_modules(root):
        source = path.read_text(encoding="utf-8")
        tree, lines = ast.parse(source), source.splitlines()
        top = {name for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom) for name in _imported(node)}
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if not isinstance(node, ast.Import | ast.ImportFrom):
                    continue
                where = f"{path.relative_to(root)}:{node.lineno} in {function.name}: {', '.join(_imported(node))}"
                if set(_imported(node)) & top:
                    found.append(f"{where} (already imported at the top)")
                elif not _explained(lines, node.lineno):
                    found.append(f"{where} (no comment says why it is not at the top)")
    return found


# A module of the house, or a name in one, as a comment writes it: `municipalities.mail`, assessment/models.py,
# municipalities.home.Step.
REFERENCE = re.compile(r"\b(?:config|municipalities|assessment|surveys|reports|fixtures)(?:[./][A-Za-z_]\w*)+")
TEMPLATE_COMMENT = re.compile(r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}", re.S)


def _comments(path):
    """(line, text) of the comments and docstrings of a module, the comments of a template, or a whole text file."""
    source = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".html":
        for match in TEMPLATE_COMMENT.finditer(source):
            yield source.count("\n", 0, match.start()) + 1, match.group()
    elif path.suffix == ".py":
        previous = tokenize.NEWLINE
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            docstring = token.type == tokenize.STRING and previous in (
                tokenize.NEWLINE,
                tokenize.INDENT,
                tokenize.DEDENT,
            )
            if token.type == tokenize.COMMENT or docstring:
                yield token.start[0], token.string
            if token.type not in (tokenize.COMMENT, tokenize.NL):
                previous = token.type
    else:
        yield from enumerate(source.splitlines(), start=1)


def _names(root):
    """{dotted module: the names it defines (not those it imports: a name is mentioned where it lives)}."""
    names = {}
    for app in DOCUMENTED:
        for path in (root / app).rglob("*.py"):
            module = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
            defined = set()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    defined.add(node.name)
                elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    defined.add(node.id)
            names[module] = defined
    return names


def _exists(reference, root, names):
    if (root / reference).exists() or (root / "templates" / reference).exists():
        return True  # a file or folder (assessment/models.py), or a template (reports/_level.html)
    parts = re.sub(r"\.(py|html|json|js|css|txt)$", "", reference).replace("/", ".").split(".")
    for cut in range(len(parts), 0, -1):
        module = ".".join(parts[:cut])
        if module in names:
            return cut == len(parts) or parts[cut] in names[module]
        if cut == 1 and (root / parts[0]).is_dir() and len(parts) > 1:
            return (root / parts[0] / parts[1]).exists() or (root / parts[0] / f"{parts[1]}.py").exists()
    return False


def _documents(root):
    for app in (*DOCUMENTED, "templates"):
        for path in sorted((root / app).rglob("*")):
            if path.suffix in (".py", ".html") and "migrations" not in path.parts:
                yield path
    for name in ("README.md", "Makefile", "pyproject.toml"):
        if (root / name).exists():
            yield root / name
    yield from sorted((root / ".ci").glob("*"))


def stale_references(root=ROOT):
    """Modules and names that comments, docstrings, the README or the Makefile mention but the tree does not
    hold, and mentions of documents that are not in the repository or of a worker command nobody runs."""
    names, found = _names(root), []
    worker = "manage.py " + "db_worker"  # split so that this file does not name it
    for path in _documents(root):
        if not path.is_file():
            continue
        for line, text in _comments(path):
            where = f"{path.relative_to(root)}:{line}"
            for match in REFERENCE.finditer(text):
                ref, pattern = match.group(), text[match.end() : match.end() + 1] == "*"  # fixtures/methodology_*.json
                if not (_exists(ref, root, names) or (pattern and any(root.glob(ref + "*")))):
                    found.append(f"{where} {ref}")
            found += [f"{where} {doc}" for doc in re.findall(r"\b\w+\.md\b", text) if not (root / doc).exists()]
            if worker in text:
                found.append(f"{where} {worker} (the worker is manage.py run_worker)")
    return found


def test_no_view_is_longer_than_40_lines():
    assert long_views() == []


def test_no_function_of_the_product_is_longer_than_80_lines():
    assert long_functions() == []


def test_imports_are_at_the_top_unless_a_comment_says_why():
    assert hidden_imports() == []


def test_what_the_comments_name_exists():
    assert stale_references() == []


def test_the_checks_see_what_they_look_for(tmp_path):
    """Each check above fails on what it looks for (a test that cannot fail proves nothing)."""
    lines = [
        "import json",
        "",
        "",
        "def page(request):",
        "    import json",
        "    from reports import exports",
        *(f"    x{n} = {n}" for n in range(FUNCTION_LINES)),
        "",
        "",
        "def pdf():",
        "    # Imported here: WeasyPrint is heavy, loaded only for a PDF.",
        "    from weasyprint import HTML",
        "",
        "    # A random name.",
        "    import uuid",
        "",
        "    return HTML, uuid",
        "",
        "",
        '"""Rows as `reports.exports` writes them; see DESIGN.md and `reports.views.page`."""',
    ]
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "views.py").write_text("\n".join(lines) + "\n")
    line = {text.strip(): number for number, text in enumerate(lines, start=1)}

    assert long_views(tmp_path) == [f"reports/views.py:4 page ({FUNCTION_LINES + 3} lines)"]
    assert long_functions(tmp_path) == long_views(tmp_path)
    assert hidden_imports(tmp_path) == [
        "reports/views.py:5 in page: json (already imported at the top)",
        "reports/views.py:6 in page: reports (no comment says why it is not at the top)",
        f"reports/views.py:{line['import uuid']} in pdf: uuid (no comment says why it is not at the top)",
    ]
    docstring = len(lines)
    assert stale_references(tmp_path) == [
        f"reports/views.py:{docstring} reports.exports",
        f"reports/views.py:{docstring} DESIGN.md",
    ]
