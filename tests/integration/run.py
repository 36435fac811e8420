"""Runs every tests/integration/test_*.py module (or those named on the
command line) and prints "N passed, N failed"."""

import importlib.util
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def load(path):
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    wanted = [a for a in argv if not a.startswith("-")]
    files = sorted(f for f in os.listdir(here) if f.startswith("test_") and f.endswith(".py"))
    if wanted:
        files = [f for f in files if any(w in f for w in wanted)]
    passed = failed = 0
    for f in files:
        mod = load(os.path.join(here, f))
        tests = [(n, getattr(mod, n)) for n in sorted(dir(mod))
                 if n.startswith("test_") and callable(getattr(mod, n))]
        # Keep the order the functions were written in.
        tests.sort(key=lambda nt: nt[1].__code__.co_firstlineno)
        server = None
        try:
            db = harness.fresh_db(getattr(mod, "TEMPLATE", "empty"))
            if getattr(mod, "SERVER", True):
                server = harness.Server(db, getattr(mod, "SERVER_ARGS", ()))
        except Exception:
            print("FAIL %s (setup): %s" % (f, traceback.format_exc().strip().splitlines()[-1]))
            traceback.print_exc()
            failed += len(tests) or 1
            continue
        ctx = harness.Ctx(db, server)
        for name, fn in tests:
            t0 = time.time()
            try:
                fn(ctx)
                passed += 1
                print("ok   %s.%s (%.2fs)" % (f[:-3], name, time.time() - t0))
            except Exception as e:
                failed += 1
                print("FAIL %s.%s: %s" % (f[:-3], name, e))
                if not isinstance(e, harness.TestFailure):
                    traceback.print_exc()
            sys.stdout.flush()
        if server:
            rc = server.stop()
            if rc != 0:
                failed += 1
                print("FAIL %s: server exited %s on SIGTERM (log %s)" % (f, rc, server.log_path))
                with open(server.log_path) as lf:
                    print(lf.read()[-3000:])
            else:
                # Sanitizer reports end up in the log even when the exit is 0.
                with open(server.log_path) as lf:
                    log = lf.read()
                if "runtime error:" in log or "ERROR: AddressSanitizer" in log or \
                        "ERROR: LeakSanitizer" in log:
                    failed += 1
                    print("FAIL %s: sanitizer report in server log %s" % (f, server.log_path))
                    print(log[-5000:])
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
