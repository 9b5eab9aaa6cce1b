"""Run SOP scripts and gateway conditions under RestrictedPython with a time limit and size guards.

Stopped: imports, files and network (no such builtins), dunder and introspection attributes
(`__class__`, `mro`, frames), `str.format` tricks, classes, runaway loops (a time limit checked
on every opcode of script code via sys.settrace, so it works in any thread), and one-step memory
bombs: `*`, `**`, `<<`, `+`, `%` on big operands, `range()`, `pow()`, string padding/replace/join.

Honest limits: an in-process guard for trusted SOP authors, not an isolation boundary. One
C-level call cannot be interrupted by the time limit (sorting a huge list), and C-level builders
can still multiply memory through shared references (`str([s] * 1000)` for a long `s`,
`[*a, *a]` or `a.extend(a)` in a loop, `sum()` of lists, `zip(*[a] * 1000)`). `try/finally`,
bare `except:` and `with` are refused because they could outlive the time limit; augmented
assignment to items (`d["n"] += 1`) is refused by RestrictedPython. For untrusted authors run
scripts in a subprocess with OS limits (RLIMIT_AS, RLIMIT_CPU).
"""
from __future__ import annotations

import ast
import functools
import math
import operator
import re
import sys
import time
from datetime import date, datetime, timedelta, timezone

from RestrictedPython import RestrictingNodeTransformer, compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (guarded_iter_unpack_sequence, guarded_unpack_sequence, raise_,
                                     safe_builtins, safer_getattr)
from RestrictedPython.PrintCollector import PrintCollector
from RestrictedPython.transformer import copy_locations
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from .errors import ScriptError

__all__ = ["SandboxedEnvironment", "script_engine", "refusal", "MAX_RANGE", "MAX_SEQUENCE", "MAX_INT_BITS"]

MAX_RANGE = 100_000          # elements a range() may have
MAX_SEQUENCE = 1_000_000     # characters/items an operator or string method may produce
MAX_INT_BITS = 65_536        # bits an integer produced by *, **, << may have (2**64 is fine)
MAX_DATA = 2_000_000         # characters plus items the task data may hold after a script, counted as saved
FILENAME = "<sop-script>"    # lets us find the failing line in tracebacks
_SEQUENCES = (str, bytes, bytearray, list, tuple)


class _TimeLimit(BaseException):
    """Raised by the tracer; a BaseException so `except Exception` in a script cannot swallow it."""


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy plus guarded operators and refusal of constructs we cannot bound."""

    _GUARDED = {ast.Add: "_add_", ast.Mult: "_mul_", ast.Pow: "_pow_", ast.LShift: "_lshift_",
                ast.Mod: "_mod_"}

    def visit_BinOp(self, node):
        node = self.node_contents_visit(node)
        guard = self._GUARDED.get(type(node.op))
        if guard is None:
            return node
        # RestrictedPython has no binary-operator hook, so route the risky ones through ours.
        call = ast.Call(func=ast.Name(guard, ast.Load()), args=[node.left, node.right], keywords=[])
        copy_locations(call, node)
        return call

    _REFUSED = {ast.Import: "import", ast.ImportFrom: "import", ast.ClassDef: "class definition",
                ast.With: "'with'"}

    def visit(self, node):
        what = self._REFUSED.get(type(node))
        if what:
            self.error(node, f"{what} is not allowed in SOP scripts")
            return node
        return super().visit(node)

    def visit_Try(self, node):
        if node.finalbody:
            self.error(node, "'finally' is not allowed in SOP scripts (it could outlive the time limit)")
        return super().visit_Try(node)

    def visit_ExceptHandler(self, node):
        if node.type is None:
            self.error(node, "bare 'except:' is not allowed in SOP scripts; name the exception")
        return super().visit_ExceptHandler(node)

    def visit_FormattedValue(self, node):
        spec = node.format_spec
        if spec is not None:
            parts = spec.values if isinstance(spec, ast.JoinedStr) else [spec]
            if any(not isinstance(p, ast.Constant) for p in parts):
                self.error(node, "computed f-string format specs are not allowed in SOP scripts")
            elif any(int(n) > MAX_SEQUENCE for p in parts for n in re.findall(r"\d+", str(p.value))):
                self.error(node, f"f-string widths above {MAX_SEQUENCE} are not allowed")
        return super().visit_FormattedValue(node)


def _too_big(what, size, limit=MAX_SEQUENCE):
    if size > limit:
        raise MemoryError(f"{what} would be too large ({size:,} > limit {limit:,})")


_PERCENT = re.compile(r"%%|%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check(symbol, a, b):
    """Refuse `a <symbol> b` when its result would be huge; it is computed in one C call."""
    ints = isinstance(a, int) and isinstance(b, int)
    if symbol == "+" and isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
        _too_big("concatenation", len(a) + len(b))
    elif symbol == "*" and ints:
        _too_big("integer product (bits)", a.bit_length() + b.bit_length(), MAX_INT_BITS)
    elif symbol == "*" and isinstance(a, _SEQUENCES) and isinstance(b, int):
        _too_big("repeated sequence", len(a) * b)
    elif symbol == "*" and isinstance(b, _SEQUENCES) and isinstance(a, int):
        _too_big("repeated sequence", len(b) * a)
    elif symbol == "**" and ints and b > 0 and abs(a) > 1:
        _too_big("power (bits)", math.ceil(b * math.log2(abs(a))), MAX_INT_BITS)
    elif symbol == "<<" and ints and a and b > 0:
        _too_big("left shift (bits)", a.bit_length() + b, MAX_INT_BITS)
    elif symbol == "%" and isinstance(a, (str, bytes)):
        text = a.decode("latin-1") if isinstance(a, bytes) else a
        for match in _PERCENT.finditer(text):
            if any(w == "*" or (w and int(w) > MAX_SEQUENCE) for w in match.groups()):
                raise MemoryError(f"'%' format widths must be literal and at most {MAX_SEQUENCE:,}")


def _guarded(symbol, op):
    def guard(a, b):
        _check(symbol, a, b)
        return op(a, b)
    return guard


_IN_PLACE = {"+=": operator.iadd, "*=": operator.imul, "**=": operator.ipow, "<<=": operator.ilshift,
             "%=": operator.imod, "-=": operator.isub, "/=": operator.itruediv,
             "//=": operator.ifloordiv, ">>=": operator.irshift, "&=": operator.iand,
             "|=": operator.ior, "^=": operator.ixor, "@=": operator.imatmul}


def _inplacevar(op, x, y):
    _check(op[:-1], x, y)
    return _IN_PLACE[op](x, y)


def _range(*args):
    r = range(*args)
    try:
        size = len(r)
    except OverflowError:  # more items than an index can count
        size = sys.maxsize
    _too_big("range()", size, MAX_RANGE)
    return r


def _pow(base, exp, mod=None):
    if mod is None:
        _check("**", base, exp)
        return base ** exp
    return pow(base, exp, mod)  # modular power stays as small as `mod`


def _sized_method(obj, name, method):
    """Wrap str/bytes methods whose output size is set by an argument."""
    def padded(width, *args):
        _too_big(f"{name}() width", width)
        return method(width, *args)

    def replace(old, new, count=-1):
        hits = obj.count(old) + (1 if not old else 0)
        hits = hits if count < 0 else min(count, hits)
        _too_big("replace() result", len(obj) + hits * max(0, len(new) - len(old)))
        return method(old, new, count)

    def join(items):
        items = list(items)
        _too_big("join() result", len(obj) * max(0, len(items) - 1)
                 + sum(len(i) for i in items if isinstance(i, (str, bytes))))
        return method(items)
    return {"replace": replace, "join": join}.get(name, padded)


_SIZED = {"ljust", "rjust", "center", "zfill", "replace", "join"}
_BLOCKED_ATTRS = {"mro", "translate", "maketrans", "expandtabs"}


def _getattr(obj, name, default=raise_):
    if name in _BLOCKED_ATTRS:
        raise AttributeError(f'"{name}" is not allowed in SOP scripts')
    value = safer_getattr(obj, name, default)  # refuses "_*", format(), frames and code objects
    if name in _SIZED and isinstance(obj, (str, bytes)):
        return _sized_method(obj, name, value)
    if name in _SIZED and (obj is str or obj is bytes):  # unbound: str.join(sep, items)
        return lambda self, *args: _getattr(self, name)(*args)
    return value


def _write(obj):
    # Scripts may change task data containers, never attributes of other objects.
    if isinstance(obj, (dict, list)):
        return obj
    raise TypeError(f"SOP scripts cannot modify {type(obj).__name__} objects")


_BUILTINS = {k: v for k, v in safe_builtins.items() if k not in {
    "__build_class__", "_getattr_", "setattr", "delattr", "BaseException", "KeyboardInterrupt",
    "SystemExit", "GeneratorExit", "pow", "range"}}
_BUILTINS.update(len=len, min=min, max=max, sum=sum, sorted=sorted, abs=abs, round=round, any=any,
                 all=all, str=str, int=int, float=float, bool=bool, list=list, dict=dict, set=set,
                 tuple=tuple, range=_range, pow=_pow, enumerate=enumerate, zip=zip,
                 isinstance=isinstance, datetime=datetime, timedelta=timedelta, date=date,
                 timezone=timezone)
_GUARDS = {"__builtins__": _BUILTINS, "_getattr_": _getattr, "_getitem_": default_guarded_getitem,
           "_getiter_": default_guarded_getiter, "_write_": _write, "_print_": PrintCollector,
           "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
           "_unpack_sequence_": guarded_unpack_sequence, "_inplacevar_": _inplacevar,
           "_apply_": lambda f, *a, **kw: f(*a, **kw),
           "_add_": _guarded("+", operator.add), "_mul_": _guarded("*", operator.mul),
           "_pow_": _guarded("**", operator.pow), "_lshift_": _guarded("<<", operator.lshift),
           "_mod_": _guarded("%", operator.mod)}


def _describe(source: str) -> str:
    """Quote a script on one line (newlines as \\n), shortened for error messages."""
    text = "\\n".join(line.rstrip() for line in str(source).strip().splitlines())
    return text if len(text) <= 160 else text[:157] + "..."


@functools.lru_cache(maxsize=2048)
def _compile(source: str, mode: str):
    """Compile restricted code once per source, since gateway conditions run again and again."""
    kind = "Condition" if mode == "eval" else "Script"
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    try:
        # The result-returning form: compile_restricted() would raise SyntaxError(lineno=None)
        # with the findings in args[0], and warn about unread `printed` on stderr.
        result = compiler(source, filename=FILENAME, policy=_Policy)
    except SyntaxError as exc:  # from the final compile(), e.g. 'return' outside a function
        raise ScriptError(f"{kind} `{_describe(source)}` was refused: Line {exc.lineno}: {exc.msg}") from None
    except (ValueError, TypeError) as exc:
        raise ScriptError(f"{kind} `{_describe(source)}` could not be compiled: {exc}") from None
    except (RecursionError, MemoryError):  # CPython's parser on e.g. 100,000 nested unary minuses
        raise ScriptError(f"{kind} `{_describe(source)}` was refused: it is nested too deeply to compile") from None
    if result.errors or result.code is None:
        raise ScriptError(f"{kind} `{_describe(source)}` was refused: {'; '.join(result.errors)}")
    return result.code


def refusal(source: str, mode: str) -> str | None:
    """Why the sandbox would refuse to compile a script ("exec") or condition ("eval"); None if it would not."""
    # Deploy asks this, so a syntax error or an escape is refused with the file instead of on a case.
    try:
        _compile(source, mode)
    except ScriptError as exc:
        return exc.message
    return None


def _tracer(deadline: float):
    """Return a trace function that raises _TimeLimit inside the script once `deadline` passes."""
    def tracer(frame, event, arg):
        if time.monotonic() > deadline:
            raise _TimeLimit()  # CPython then unsets tracing; the script cannot catch this
        if frame.f_code.co_filename != FILENAME:
            return None  # helpers are checked on each call; no need to trace inside them
        # Opcode events, because `while True: pass` jumps to itself and never emits a line event.
        frame.f_trace_opcodes = True
        return tracer
    return tracer


class SandboxedEnvironment(TaskDataEnvironment):
    """A TaskDataEnvironment that compiles with RestrictedPython and runs under a time limit."""

    def __init__(self, environment_globals=None, time_limit: float = 1.0):
        if not time_limit > 0:
            raise ValueError(f"time_limit must be > 0 seconds, got {time_limit!r}")
        self.time_limit = float(time_limit)
        super().__init__({**_GUARDS, **(environment_globals or {})})

    def evaluate(self, expression, context, external_context=None):
        """Evaluate a condition against task data without changing it."""
        code = _compile(expression, "eval")
        my_globals = dict(self.globals)
        self._prepare_context(context)
        my_globals.update(external_context or {})
        my_globals.update(context)
        my_globals.update(_GUARDS)  # task data must not replace the guards
        return self._run(code, my_globals, expression, "eval")

    def execute(self, script, context, external_context=None):
        """Run a script whose top-level assignments become task data."""
        self.check_for_overwrite(context, external_context or {})
        code = _compile(script, "exec")
        before = set(context)
        self._prepare_context(context)
        context.update(self.globals)
        context.update(external_context or {})
        context.update(_GUARDS)
        try:
            self._run(code, context, script, "exec")
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
            # RestrictedPython's temporaries (_tmp0, _print...) are the only new "_" names possible.
            for key in [k for k in context if k.startswith("_") and k not in before]:
                del context[key]
        # Shared references pass the operator guards (`[s] * 1000` for a 1 MB `s`) but are written out
        # once per reference when the case is saved: refuse data that would be that big.
        if _too_much_data(context):
            raise ScriptError(f"Script `{_describe(script)}` was stopped: the task data it leaves would be "
                              f"larger than {MAX_DATA:,} characters and items")
        return True

    def _run(self, code, namespace, source, mode):
        kind = "Condition" if mode == "eval" else "Script"
        # sys.settrace works in any thread (signal.alarm only in the main one); it is set here
        # rather than in a context manager so no traced Python frame runs after the script.
        previous = sys.gettrace()
        sys.settrace(_tracer(time.monotonic() + self.time_limit))
        try:
            try:
                return eval(code, namespace) if mode == "eval" else exec(code, namespace)
            finally:
                sys.settrace(previous)
        except _TimeLimit:
            raise ScriptError(f"{kind} `{_describe(source)}` was stopped: it ran longer than "
                              f"the {self.time_limit:g} s time limit") from None
        except Exception as exc:
            raise ScriptError(f"{kind} `{_describe(source)}` failed{_where(exc, source)}: "
                              f"{type(exc).__name__}: {exc}") from exc


def _too_much_data(value, limit: int = MAX_DATA) -> bool:
    """Tell whether `value` written out (shared parts once per reference) exceeds `limit`; stops early."""
    stack, total = [value], 0
    while stack:
        item = stack.pop()
        total += 1
        if isinstance(item, (str, bytes, bytearray)):
            total += len(item)
        elif isinstance(item, dict):
            total += 2 * len(item)  # counted before expanding, so the work stays within the limit
            if total <= limit:
                stack.extend(item.keys())
                stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += len(item)
            if total <= limit:
                stack.extend(item)
        if total > limit:
            return True
    return False


def _where(exc: BaseException, source: str) -> str:
    """Return ' on line N (`text`)' for the deepest script frame in the traceback, if any."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    lines = str(source).splitlines()
    if line is None or len(lines) <= 1 or not 0 < line <= len(lines):
        return ""
    return f" on line {line} (`{lines[line - 1].strip()}`)"


def script_engine(time_limit: float = 1.0) -> PythonScriptEngine:
    """Return a SpiffWorkflow script engine that runs everything in a SandboxedEnvironment."""
    return PythonScriptEngine(environment=SandboxedEnvironment(time_limit=time_limit))
