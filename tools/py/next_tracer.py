"""NExT execution tracer and test runner for `pico next` (spec section 2.1 / 2.2).

Reads one JSON request on stdin, writes one JSON object as the LAST line of stdout.
Modes:
  run    {"code"}                          exec the program (e.g. solution + tests + check call)
  tests  {"code","test","entry_point",     run every top-level statement of `check`'s body
          "stmt_timeout","trace"?,knobs}   separately; optionally trace the first failing one
  trace  {"code","call",knobs}             exec code, then trace the statement/expression `call`
Common: "limits": {"mem_mb","cpu_s","fsize_mb"} applied with `resource` before anything runs.

Trace format (crate proposal, spec 2.1): each executed line of the program gets an inline comment
`# (k) var=value; var2=value2; (k2) ...`: k is a global step index that counts recorded states
only; a state lists the variables the line created or changed (repr differs), captured at the
next line/return event of the same frame. A call records its arguments on the `def` line; a
return adds `__return__=<repr>`; an exception `__exception__=<repr>`; hitting the event budget
`__timeout__`. Per line at most `keep_first` + `keep_last` states are shown with `...` between;
values longer than `max_repr_chars` are cut and end in `...`; memory addresses (` at 0x...`)
are removed so output is byte-stable. Only frames whose code comes from the program are traced.
Python 3.8+ standard library only.
"""
import ast
import io
import json
import re
import signal
import sys

PROGRAM = "<program>"
_ADDR = re.compile(r" at 0x[0-9a-fA-F]+")


class _Timeout(BaseException):
    pass


def apply_limits(lim):
    try:
        import resource
    except ImportError:  # pragma: no cover (non-POSIX)
        return
    mem = int(lim.get("mem_mb", 1024)) << 20
    cpu = int(lim.get("cpu_s", 10))
    fsize = int(lim.get("fsize_mb", 16)) << 20
    for res, val in ((resource.RLIMIT_AS, mem), (resource.RLIMIT_CPU, cpu),
                     (resource.RLIMIT_FSIZE, fsize), (resource.RLIMIT_CORE, 0)):
        try:
            resource.setrlimit(res, (val, val))
        except (ValueError, OSError):
            pass


def safe_repr(v, cap=10000):
    try:
        r = repr(v)
    except BaseException as e:  # noqa: BLE001 - user __repr__ may raise anything
        r = "<repr failed: %s>" % type(e).__name__
    r = _ADDR.sub("", r)
    return r if len(r) <= cap else r[:cap] + "..."


class Tracer:
    def __init__(self, knobs):
        self.keep_first = int(knobs.get("keep_first", 2))
        self.keep_last = int(knobs.get("keep_last", 1))
        self.max_repr = int(knobs.get("max_repr_chars", 60))
        self.max_states = int(knobs.get("max_total_states", 2000))
        self.max_events = int(knobs.get("max_events", 20000))
        self.states = {}  # lineno -> [(step, text)]
        self.step = 0
        self.dropped = 0
        self.events = 0
        self.frames = {}  # id(frame) -> [snapshot, pending_line, exc_pending]

    def short(self, r):
        return r if len(r) <= self.max_repr else r[: self.max_repr] + "..."

    def record(self, line, pairs):
        if not pairs:
            return
        if self.step >= self.max_states:
            self.dropped += 1
            return
        text = "; ".join(k if v is None else "%s=%s" % (k, self.short(v)) for k, v in pairs)
        self.states.setdefault(line, []).append((self.step, text))
        self.step += 1

    @staticmethod
    def snapshot(frame):
        return {k: safe_repr(v) for k, v in frame.f_locals.items() if not k.startswith(".")}

    def diff(self, st, frame):
        now = self.snapshot(frame)
        old = st[0]
        pairs = [(k, v) for k, v in now.items() if old.get(k) != v]
        st[0] = now
        return pairs

    def global_trace(self, frame, event, arg):
        if event != "call" or frame.f_code.co_filename != PROGRAM:
            return None
        snap = self.snapshot(frame)
        self.frames[id(frame)] = [snap, None, False]
        self.record(frame.f_code.co_firstlineno, list(snap.items()))
        return self.local_trace

    def local_trace(self, frame, event, arg):
        st = self.frames.get(id(frame))
        if st is None:
            return None
        if event == "line":
            self.events += 1
            if st[1] is not None:
                self.record(st[1], self.diff(st, frame))
            else:
                st[0] = self.snapshot(frame)
            st[1] = frame.f_lineno
            st[2] = False
            if self.events > self.max_events:
                self.record(frame.f_lineno, [("__timeout__", None)])
                raise _Timeout()
        elif event == "return":
            line = st[1] if st[1] is not None else frame.f_lineno
            pairs = self.diff(st, frame)
            if not st[2]:
                pairs.append(("__return__", safe_repr(arg)))
            self.record(line, pairs)
            del self.frames[id(frame)]
        elif event == "exception":
            exc = arg[1]
            if isinstance(exc, (StopIteration, GeneratorExit, _Timeout)):
                return self.local_trace
            line = frame.f_lineno
            pairs = self.diff(st, frame)
            pairs.append(("__exception__", safe_repr(exc)))
            self.record(line, pairs)
            st[1] = None
            st[2] = True
        return self.local_trace

    def render(self, code):
        lines = code.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        width = max((len(l.rstrip()) for l in lines), default=0)
        out = []
        for i, l in enumerate(lines, start=1):
            l = l.rstrip()
            groups = self.states.get(i)
            if not groups:
                out.append(l)
                continue
            if len(groups) > self.keep_first + self.keep_last:
                shown = ["(%d) %s" % g for g in groups[: self.keep_first]] + ["..."]
                if self.keep_last:
                    shown += ["(%d) %s" % g for g in groups[-self.keep_last:]]
            else:
                shown = ["(%d) %s" % g for g in groups]
            text = "; ".join(shown)
            out.append(l.ljust(width) + "  # " + text)
        if self.dropped:
            out.append("# ... %d more states not shown" % self.dropped)
        return "\n".join(out) + "\n"


def exec_program(code, name="__main__"):
    ns = {"__name__": name}
    exec(compile(code, PROGRAM, "exec"), ns)  # noqa: S102 - this IS the sandboxed runner
    return ns


def run_traced(tracer, fn):
    """Runs fn() under the tracer; returns (status, detail)."""
    sys.settrace(tracer.global_trace)
    try:
        fn()
        return "ok", None
    except _Timeout:
        return "timeout", None
    except BaseException as e:  # noqa: BLE001
        return "exception", "%s: %s" % (type(e).__name__, e)
    finally:
        sys.settrace(None)


def mode_trace(req, silent_out):
    tracer = Tracer(req.get("knobs", {}))
    ns = with_stdout(silent_out, lambda: exec_program(req["code"], "__program__"))
    call = req["call"]
    try:
        compiled = compile(call, "<call>", "eval")
        runner = lambda: ns.__setitem__("__result__", eval(compiled, ns))  # noqa: E731,S307
    except SyntaxError:
        compiled = compile(call, "<call>", "exec")
        runner = lambda: exec(compiled, ns)  # noqa: E731,S102
    status, detail = with_stdout(silent_out, lambda: run_traced(tracer, runner))
    return {"status": status, "detail": detail, "annotated": tracer.render(req["code"])}


class _StmtTimeout(BaseException):
    pass


def _alarm(signum, frame):
    raise _StmtTimeout()


def split_check(test, entry_point):
    """(module statements without the check call, check's param name, check body statements)."""
    tree = ast.parse(test)
    module, check = [], None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "check":
            check = node
            module.append(node)
        elif (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
              and isinstance(node.value.func, ast.Name) and node.value.func.id == "check"):
            continue
        else:
            module.append(node)
    if check is None:
        raise ValueError("test has no `def check(...)`")
    param = check.args.args[0].arg if check.args.args else "candidate"
    return ast.Module(body=module, type_ignores=[]), param, check.body


def mode_tests(req, silent_out):
    code, test, entry = req["code"], req["test"], req["entry_point"]
    budget = float(req.get("stmt_timeout", 2.0))
    mod, param, body = split_check(test, entry)
    results, first_fail = [], None
    try:
        ns = with_stdout(silent_out, lambda: exec_program(code, "__program__"))
        exec(compile(mod, "<test>", "exec"), ns)  # noqa: S102
        ns[param] = ns[entry]
    except BaseException as e:  # noqa: BLE001
        return {"load_error": "%s: %s" % (type(e).__name__, e), "results": [], "first_failing": None}
    signal.signal(signal.SIGALRM, _alarm)
    timed_out = False
    for i, stmt in enumerate(body):
        src = ast.get_source_segment(test, stmt) or ast.unparse(stmt)
        item = {"src": src, "is_assert": isinstance(stmt, ast.Assert)}
        if timed_out:
            item["status"] = "NOT RUN"
            results.append(item)
            continue
        compiled = compile(ast.Module(body=[stmt], type_ignores=[]), "<test>", "exec")
        signal.setitimer(signal.ITIMER_REAL, budget)
        try:
            with_stdout(silent_out, lambda: exec(compiled, ns))  # noqa: S102
            item["status"] = "PASSED"
        except _StmtTimeout:
            item["status"] = "FAILED: timeout"
            timed_out = True
        except AssertionError:
            item["status"] = "FAILED: AssertionError"
        except BaseException as e:  # noqa: BLE001
            item["status"] = "FAILED: %s: %s" % (type(e).__name__, str(e)[:200])
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if item["status"] != "PASSED" and first_fail is None:
            first_fail = i
        results.append(item)
    out = {"results": results, "first_failing": first_fail, "param": param}
    if req.get("trace") and first_fail is not None:
        tracer = Tracer(req.get("knobs", {}))
        stmt = body[first_fail]
        compiled = compile(ast.Module(body=[stmt], type_ignores=[]), "<test>", "exec")
        status, detail = with_stdout(silent_out, lambda: run_traced(tracer, lambda: exec(compiled, ns)))
        out["trace"] = {"status": status, "detail": detail, "annotated": tracer.render(code)}
    return out


def mode_run(req, silent_out):
    try:
        with_stdout(silent_out, lambda: exec_program(req["code"]))
        return {"ok": True}
    except BaseException as e:  # noqa: BLE001
        return {"ok": False, "error": "%s: %s" % (type(e).__name__, str(e)[:200])}


def with_stdout(buf, fn):
    old = sys.stdout
    sys.stdout = buf
    try:
        return fn()
    finally:
        sys.stdout = old


def main():
    req = json.load(sys.stdin)
    apply_limits(req.get("limits", {}))
    sys.setrecursionlimit(int(req.get("recursion_limit", 1000)))
    silent = io.StringIO()
    mode = req.get("mode")
    if mode == "trace":
        out = mode_trace(req, silent)
    elif mode == "tests":
        out = mode_tests(req, silent)
    elif mode == "run":
        out = mode_run(req, silent)
    else:
        out = {"error": "unknown mode %r" % mode}
    sys.stdout.write("\n" + json.dumps(out) + "\n")
    sys.stdout.flush()
    ok = out.get("ok", True) and "error" not in out
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
