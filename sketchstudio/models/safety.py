"""What a model file may ask torch to do: an allow-list of pure tensor operators.

Loading a model must never write a file, start a process or run Python from the file. TorchScript
compiles `torch.save` (aten::save) and `torch.from_file(path, shared=True)` (aten::from_file, which
creates or overwrites the file), and runs a scripted `__setstate__` inside `torch.jit.load`; a
torch.export program names its operators by string and torch resolves them with getattr, and its
symbolic shapes are parsed with `sympy.sympify`, which is `eval`. So every file is read as text
first and refused unless everything it can call is on the list below; after loading, the graphs
are walked again (the second wall) before any forward pass runs.

The list: every operator of the `aten`, `prim`, `prims`, `quantized`, `_quantized` and
`prepacked` namespaces, except those that reach outside the process: any operator with a string
argument naming a file or path (in torch 2.13: aten::save, aten::from_file), remote calls
(prim::rpc_*), and Python calls (prim::PythonOp). Printing (prim::Print, aten::warn) is allowed:
it reaches only the process's own output.
"""
from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import UserError

_NAMESPACES = frozenset({"aten", "prim", "prims", "quantized", "_quantized", "prepacked"})
_DENIED = frozenset({"aten::save", "aten::from_file", "prim::rpc_async", "prim::rpc_sync",
                     "prim::rpc_remote", "prim::PythonOp", "prim::IgnoredPythonOp",
                     "prim::CallFunction"})  # left after inlining: a callee we did not inspect
_TORCHBIND = frozenset({"quantized", "xnnpack"})  # C++ classes of quantized models' packed weights
_REMOTE_BUILTINS = frozenset({"rpc_async", "rpc_sync", "rpc_remote", "remote"})


@functools.cache
def _file_operators() -> frozenset[str]:
    """Operators registered in this torch with a string argument naming a file, path or folder."""
    import torch

    found = set()
    for schema in torch._C._jit_get_all_schemas():
        for arg in schema.arguments:
            if "str" in str(arg.type) and any(w in arg.name.lower()
                                              for w in ("file", "path", "dir")):
                found.add(schema.name)
    return frozenset(found)


def operator_allowed(qualified: str) -> bool:
    """"aten::conv2d" -> True; "aten::save", "c10d::send" -> False."""
    namespace, _, name = qualified.partition("::")
    return (bool(name) and namespace in _NAMESPACES and qualified not in _DENIED
            and qualified not in _file_operators())


def _refuse(path: Path, what: str, where: str) -> UserError:
    return UserError(f"{path}: refused: {where} uses {what}, which is not a pure tensor "
                     f"operator (model files may not touch files, processes or the network)")


# --- TorchScript, before loading: the source of every method ------------------------------------
def check_torchscript_sources(archive: Any) -> None:
    """Every `code/**.py` member (the TorchScript source torch.jit.load compiles) is scanned.

    torch.jit.save prints plain ASCII; anything else could be lexed differently by TorchScript's
    parser and Python's, so it is refused rather than interpreted.
    """
    path = archive.path
    for name in archive.names:
        lowered = name.lower()
        if lowered == "model.json":
            raise UserError(f"{path}: old TorchScript format (model.json); re-save it with a "
                            f"current torch.jit.save")
        if lowered.endswith("pkl"):
            problem = _torchscript_pickle_problem(archive.read(name))
            if problem:
                raise UserError(f"{path}: refused: {name} {problem}")
            continue
        if not lowered.endswith(".py"):
            continue
        text = archive.read(name)
        if any(b != 0x0A and not 0x20 <= b <= 0x7E for b in text):
            raise UserError(f"{path}: refused: {name} holds characters torch.jit.save never "
                            f"writes (control or non-ASCII bytes)")
        try:
            tree = ast.parse(text.decode("ascii"), filename=name)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            raise UserError(f"{path}: cannot load torchscript model: unreadable TorchScript "
                            f"code in {name} ({type(exc).__name__})") from None
        for what, function in _operators_in_source(tree):
            if what is not None:
                raise _refuse(path, what, f"{function} in {name}")


def _torchscript_pickle_problem(data: bytes) -> str | None:
    """TorchScript's C++ unpickler builds what data.pkl / constants.pkl name: the file's own
    classes (whose __setstate__ source is scanned), tensors, lists and dicts. Any other global is
    refused (a C++-bound class of another namespace, an RRef, ...), read from the opcodes alone."""
    import pickletools

    try:
        for opcode, arg, _ in pickletools.genops(data):
            if opcode.name == "STACK_GLOBAL":
                return "has a computed global reference (torch.jit.save never writes one)"
            if opcode.name not in ("GLOBAL", "INST"):
                continue
            module, _, name = str(arg).partition(" ")
            if module.startswith("__torch__"):
                chain = module.split(".") + [name]
                if _source_operator(chain) is not None:
                    return f"builds {module}.{name}"
            elif not ((module == "torch._utils" and name.startswith("_rebuild_"))
                      or module == "torch.jit._pickle"
                      or (module == "collections" and name == "OrderedDict")
                      or (module == "torch" and (name.endswith("Storage") or name == "device"))
                      or (module == "builtins" and name == "complex")):
                return f"refers to {module}.{name}"
    except Exception as exc:   # pickletools raises ValueError and friends on garbage
        return f"is not a readable pickle ({type(exc).__name__})"
    return None


def _operators_in_source(tree: ast.AST) -> Iterator[tuple[str | None, str]]:
    """(a refused operator or None, the enclosing function) for every reference to torch/ops."""
    parents: dict[ast.AST, ast.AST] = {}
    functions: dict[ast.AST, str] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
            functions[child] = (node.name if isinstance(node, ast.FunctionDef)
                                else functions.get(node, "<class body>"))
    for node in ast.walk(tree):
        where = functions.get(node, "<module>")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in _REMOTE_BUILTINS:
            yield f"{node.func.id}()", where
        if not isinstance(node, ast.Name) or node.id not in ("torch", "ops", "__torch__"):
            continue
        chain = [node.id]
        current: ast.AST = node
        while True:
            parent = parents.get(current)
            if not (isinstance(parent, ast.Attribute) and parent.value is current):
                break
            current = parent
            chain.append(parent.attr)
        yield _source_operator(chain), where


def _source_operator(chain: list[str]) -> str | None:
    """None when the dotted reference is allowed, else what it names."""
    dotted = ".".join(chain)
    if chain[0] == "__torch__":
        # Compiled classes and functions of the file itself are fine (their code is scanned);
        # C++ classes bound into TorchScript (torch.classes) only from the packed-weight set.
        if chain[1:3] == ["torch", "classes"]:
            return None if len(chain) > 3 and chain[3] in _TORCHBIND else dotted
        return None
    if chain[0] == "torch" and len(chain) > 1 and chain[1] != "ops":
        qualified = f"aten::{chain[1]}"
    else:
        rest = chain[2:] if chain[0] == "torch" else chain[1:]
        if len(rest) < 2:
            # a bare torch / ops namespace passed around, aliased or used with getattr
            return f"{dotted} indirectly (an alias of the namespace)"
        qualified = f"{rest[0]}::{rest[1]}"
    return None if operator_allowed(qualified) else qualified


# --- TorchScript, after loading: every method's graph --------------------------------------------
def check_torchscript_module(module: Any, path: Path) -> None:
    """Walk every method (including __setstate__) of every submodule, calls inlined."""
    # Innermost modules first, so that the error names the method that holds the operator
    # rather than the top-level forward it is inlined into.
    for qualname, sub in reversed(list(module.named_modules())):
        c_module = sub._c
        for method in c_module._method_names():
            try:
                graph = c_module._get_method(method).inlined_graph
            except Exception as exc:  # a method torch cannot inline is not one we can vouch for
                raise UserError(f"{path}: refused: cannot inspect method {method}: "
                                f"{str(exc).splitlines()[0] if str(exc) else exc}") from None
            where = f"method {qualname + '.' if qualname else ''}{method}"
            for kind in _graph_kinds(graph):
                if not operator_allowed(kind) and not kind.startswith("torchbind:"):
                    raise _refuse(path, kind, where)
                if kind.startswith("torchbind:") and kind.split(":", 1)[1] not in _TORCHBIND:
                    raise _refuse(path, kind, where)


def _graph_kinds(graph: Any) -> Iterator[str]:
    stack = [graph.block() if hasattr(graph, "block") else graph]
    seen = 0
    while stack:
        block = stack.pop()
        for node in block.nodes():
            seen += 1
            kind = node.kind()
            if kind == "prim::CallMethod":
                owner = str(node.inputsAt(0).type())
                if owner.startswith("__torch__.torch.classes."):
                    yield "torchbind:" + owner.split(".")[3]
                    continue
            yield kind
            stack.extend(node.blocks())
            for attribute in node.attributeNames():
                kind_of = node.kindOf(attribute)
                if kind_of == "g":
                    stack.append(node.g(attribute).block())
                elif kind_of == "gs":
                    stack.extend(g.block() for g in node.gs(attribute))


# --- torch.export, before loading: the program's JSON ---------------------------------------------
_OPERATOR_MODULE = frozenset({"getitem", "add", "sub", "mul", "truediv", "floordiv", "mod", "pow",
                              "neg", "pos", "eq", "ne", "lt", "le", "gt", "ge", "and_", "or_",
                              "lshift", "rshift", "not_", "abs"})
_MATH = frozenset({"trunc", "floor", "ceil", "sqrt"})
_SYM = frozenset({"sym_not", "sym_int", "sym_float", "sym_ite", "sym_max", "sym_min", "sym_sqrt",
                  "sym_sum"})
_HIGHER_ORDER = frozenset({"cond", "while_loop", "map_impl", "scan", "invoke_subgraph",
                           "wrap_with_set_grad_enabled", "wrap_with_autocast",
                           "auto_functionalized", "auto_functionalized_v2"})
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029\x85]")


def check_export_program(program: Any, path: Path, member: str) -> None:
    """Every operator name, symbolic expression and identifier in a models/*.json program."""
    for key, value in _json_strings(program):
        if _CONTROL.search(value):
            raise UserError(f"{path}: refused: {member} has a control character in {key!r}")
        if key in ("target", "as_operator") and not _export_target_allowed(value):
            raise _refuse(path, value, f"the program in {member}")
        elif key == "expr_str":
            problem = sym_expr_problem(value)
            if problem:
                raise UserError(f"{path}: refused: {member} has a symbolic shape that is not a "
                                f"plain formula ({problem})")
        elif key in ("name", "forward_arg_names") and not _IDENTIFIER.match(value):
            raise UserError(f"{path}: refused: {member} has a name that is not an identifier: "
                            f"{value[:60]!r}")
    ranges = program.get("range_constraints", {}) if isinstance(program, dict) else {}
    for symbol in ranges if isinstance(ranges, dict) else ():
        if not _SYMBOL.match(symbol):
            raise UserError(f"{path}: refused: {member} has a symbol named {symbol[:60]!r}")


def _json_strings(value: Any, key: str = "", depth: int = 0) -> Iterator[tuple[str, str]]:
    if depth > 200:
        raise UserError("model program nested too deeply")
    if isinstance(value, dict):
        for k, v in value.items():
            yield "<key>", str(k)
            yield from _json_strings(v, str(k), depth + 1)
    elif isinstance(value, list):
        for v in value:
            yield from _json_strings(v, key, depth + 1)
    elif isinstance(value, str):
        yield key, value


def _export_target_allowed(target: str) -> bool:
    parts = target.split(".")
    if parts[:2] == ["torch", "ops"] and len(parts) in (4, 5):
        if parts[2] == "higher_order":
            return parts[3] in _HIGHER_ORDER and len(parts) == 4
        return operator_allowed(f"{parts[2]}::{parts[3]}")
    if len(parts) == 2:
        module, name = parts
        return ((module == "_operator" and name in _OPERATOR_MODULE)
                or (module == "math" and name in _MATH) or (module == "torch" and name in _SYM))
    return False


# Symbolic shapes ("s77*784", "Symbol('s77', positive=True, integer=True)") are parsed by
# sympy.sympify, which evaluates Python: only numbers, symbol names, arithmetic and the functions
# torch's deserializer itself supplies may appear, and at most two powers, each with a small
# literal exponent (sympy evaluates powers of numbers eagerly: 9**9**9**9 never finishes).
_SYMBOL = re.compile(r"[a-z]{1,4}\d{1,9}\Z")
_SYMPY_NAMES = frozenset({
    "Symbol", "Integer", "Rational", "Float", "True", "False", "oo", "zoo", "nan",
    "positive", "negative", "nonnegative", "integer", "real", "finite",
    "Max", "Min", "Abs", "Eq", "Ne", "Ge", "Gt", "Le", "Lt", "And", "Or", "Not",
    "FloorDiv", "ModularIndexing", "Where", "PythonMod", "Mod", "CleanDiv", "CeilToInt",
    "FloorToInt", "CeilDiv", "LShift", "RShift", "PowByNatural", "FloatPow", "FloatTrueDiv",
    "IntTrueDiv", "IsNonOverlappingAndDenseIndicator", "TruncToFloat", "TruncToInt",
    "RoundToInt", "RoundDecimal", "ToFloat", "Identity", "OpaqueUnaryFn_sqrt", "floor",
    "ceiling", "sqrt"})
_TOKEN = re.compile(r"""\s*(?:(?P<num>\d{1,30}(?:\.\d{1,30})?(?:e[+-]?\d{1,3})?)
                          |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
                          |(?P<quoted>'[a-z]{1,4}\d{1,9}')
                          |(?P<op>\*\*|//|==|!=|<=|>=|[-+*/%()<>,=~&|]))""", re.X)


def sym_expr_problem(text: str) -> str | None:
    """Why this expression is not a plain formula, or None."""
    if len(text) > 4096:
        return "longer than 4096 characters"
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            if text[position:].strip() == "":
                break
            return f"unexpected {text[position:position + 20]!r}"
        kind = match.lastgroup or ""   # every alternative is a named group
        tokens.append((kind, match.group(kind)))
        position = match.end()
    if sum(token == "**" for _, token in tokens) > 2:
        return "more than two powers"   # (9**64)**64... grows beyond any memory
    for i, (kind, token) in enumerate(tokens):
        if kind == "name" and token not in _SYMPY_NAMES and not _SYMBOL.match(token):
            return f"the name {token!r}"
        if kind == "op" and token == "**":
            exponent = tokens[i + 1] if i + 1 < len(tokens) else ("", "")
            if not ((exponent[0] == "num" and exponent[1].isdigit() and int(exponent[1]) <= 64)
                    or (exponent[0] == "name" and _SYMBOL.match(exponent[1]))):
                return "a power without a small literal exponent"
            if i + 2 < len(tokens) and tokens[i + 2][1] == "**":
                return "a tower of powers"
    return None


# --- torch.export, after loading: the graph module -----------------------------------------------
def check_export_module(module: Any, path: Path) -> None:
    """Every call in the unlifted module's graphs (submodules and control-flow branches too)."""
    import operator

    import torch

    for qualname, sub in module.named_modules():
        graph = getattr(sub, "graph", None)
        if graph is None or not hasattr(graph, "nodes"):
            continue
        where = f"the graph {qualname or 'forward'}"
        for node in graph.nodes:
            if node.op == "call_function":
                target = node.target
                if isinstance(target, torch._ops.OpOverload):
                    name = target._schema.name
                    if not operator_allowed(name):
                        raise _refuse(path, name, where)
                elif isinstance(target, torch._ops.HigherOrderOperator):
                    if target.name() not in _HIGHER_ORDER:
                        raise _refuse(path, f"higher_order.{target.name()}", where)
                elif not ((getattr(target, "__module__", None) in ("_operator", operator.__name__)
                           and getattr(target, "__name__", "") in _OPERATOR_MODULE)
                          or (getattr(target, "__module__", None) == "math"
                              and target.__name__ in _MATH)
                          or getattr(target, "__name__", "") in _SYM):
                    raise _refuse(path, getattr(target, "__qualname__", repr(target)), where)
            elif node.op == "call_method":
                raise _refuse(path, f"method {node.target}", where)
