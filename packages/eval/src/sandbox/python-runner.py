"""xfer sandbox runner: runs ONE test of an untrusted Python program, then exits.

Started by `run-program.ts` as `/usr/bin/python3 -I python-runner.py <job-dir>` (inside fresh mount, network
and PID namespaces when the machine allows them). It:
  1. reads <job-dir>/control/config.json and the program (root-only files) before dropping privileges;
  2. when it owns a mount namespace, remounts every filesystem read-only except the throwaway work dir;
  3. sets resource limits (CPU, address space, processes, file size, open files, no core dumps);
  4. when running as root, drops to an unprivileged uid/gid chosen for this job;
  5. when no network namespace is available, installs an audit hook that refuses sockets;
  6. runs the program under one of three protocols and writes one JSON status line to fd 3:
     - `evalchemy` (the paper's harness, SkyThought `testing_util` as vendored by evalchemy): stdin programs
       exec'd in fresh globals with a StringIO stdin/stdout, `__name__ = "__main__"` prepended only when the
       text contains `__name__ == "__main__"`; functional tests call the first name before "(" in the code
       with the reference's argument parser; its `reliability_guard` applied;
     - `livecodebench` (official `lcb_runner` testing_util): stdin programs wrapped in a function after the
       import prelude; call-based programs as `Solution().<method>(*json_args)`;
     - `plain`: the file run as `__main__`.
stdout of the program goes to the real stdout; the caller compares it.
"""

import ast
import ctypes
import json
import os
import resource
import sys
import time

IMPORT_PRELUDE = (
    "from string import *\nfrom re import *\nfrom datetime import *\nfrom collections import *\n"
    "from heapq import *\nfrom bisect import *\nfrom copy import *\nfrom math import *\nfrom random import *\n"
    "from statistics import *\nfrom itertools import *\nfrom functools import *\nfrom operator import *\n"
    "from io import *\nfrom sys import *\nfrom json import *\nfrom builtins import *\nfrom typing import *\n"
    "import string\nimport re\nimport datetime\nimport collections\nimport heapq\nimport bisect\nimport copy\n"
    "import math\nimport random\nimport statistics\nimport itertools\nimport functools\nimport operator\n"
    "import io\nimport sys\nimport json\nsys.setrecursionlimit(50000)\n"
)

MS_RDONLY = 1
MS_NOSUID = 2
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18


def open_status_channel():
    try:
        return os.fdopen(3, "w", encoding="utf-8", closefd=True)
    except OSError:
        return None


STATUS = open_status_channel()


def report(payload):
    if STATUS is None:
        return
    try:
        STATUS.write(json.dumps(payload) + "\n")
        STATUS.flush()
    except Exception:
        pass


def mount_points():
    points = []
    with open("/proc/self/mountinfo", encoding="utf-8") as handle:
        for line in handle:
            fields = line.split()
            if len(fields) > 4:
                points.append(fields[4].replace("\\040", " "))
    return points


def make_read_only(work_dir):
    """Inside a private mount namespace: every mount read-only, the work dir writable."""
    libc = ctypes.CDLL(None, use_errno=True)

    def mount(source, target, flags):
        result = libc.mount(source, target.encode(), None, flags, None)
        if result != 0:
            raise OSError(ctypes.get_errno(), f"mount {target}")

    mount(b"none", "/", MS_REC | MS_PRIVATE)
    mount(work_dir.encode(), work_dir, MS_BIND)
    for point in sorted(set(mount_points()), key=len):
        if point == work_dir or point.startswith("/proc"):
            continue
        try:
            mount(None, point, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID)
        except OSError:
            if point in ("/", "/tmp", "/dev/shm", "/var/tmp", "/run"):
                raise
    mount(None, work_dir, MS_REMOUNT | MS_BIND | MS_NOSUID)


def set_limits(limits):
    cpu = int(limits["cpuSeconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    memory = int(limits["memoryBytes"])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_NPROC, (int(limits["processes"]), int(limits["processes"])))
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(limits["fileSizeBytes"]), int(limits["fileSizeBytes"])))
    resource.setrlimit(resource.RLIMIT_NOFILE, (int(limits["openFiles"]), int(limits["openFiles"])))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def install_audit_hook(block_network, work_dir):
    """Fallback guards where namespaces are unavailable (an audit hook is not a security boundary)."""
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC

    realpath, fsdecode, join, isabs = os.path.realpath, os.fsdecode, os.path.join, os.path.isabs

    def is_outside(path):
        try:
            text = fsdecode(path)
            # Relative paths are relative to the work dir (the cwd); resolving them without os.getcwd keeps the
            # hook working after the evalchemy guard removed it.
            resolved = realpath(text if isabs(text) else join(work_dir, text))
        except Exception:
            return True
        return not (resolved == work_dir or resolved.startswith(work_dir + os.sep)) and resolved != "/dev/null"

    def hook(event, args):
        if block_network and event.startswith("socket.") and event not in ("socket.gethostname",):
            raise PermissionError(f"network access is disabled in the sandbox ({event})")
        if work_dir is None:
            return
        if event == "open" and args and isinstance(args[0], (str, bytes)):
            mode, flags = args[1], args[2]
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or bool(flags & write_flags)
            if writing and is_outside(args[0]):
                raise PermissionError(f"writing outside the sandbox directory is disabled ({args[0]!r})")
        elif event in ("os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.symlink", "os.link", "os.truncate",
                       "os.chmod", "os.chown", "shutil.rmtree", "shutil.move", "shutil.copyfile"):
            if args and isinstance(args[0], (str, bytes)) and is_outside(args[0]):
                raise PermissionError(f"{event} outside the sandbox directory is disabled")

    sys.addaudithook(hook)


def clean_if_name(code):
    try:
        tree = ast.parse(code)
        last = tree.body[-1]
        if isinstance(last, ast.If) and ast.unparse(last.test).strip() == "__name__ == '__main__'":
            code = ast.unparse(tree.body[:-1]) + "\n" + ast.unparse(last.body)
    except Exception:
        pass
    return code


def make_function(code):
    try:
        tree = ast.parse(code)
        imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
        others = [node for node in tree.body if not isinstance(node, (ast.Import, ast.ImportFrom))]
        function = ast.FunctionDef(
            name="wrapped_function",
            args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]),
            body=others or [ast.Pass()],
            decorator_list=[],
            lineno=-1,
        )
        return IMPORT_PRELUDE + "\n" + ast.unparse(imports) + "\n" + ast.unparse(function)
    except Exception:
        return code


def short(value, length=300):
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= length else text[: length // 2] + "...(truncated)..." + text[-length // 2 :]


def compile_or_report(code):
    try:
        return compile(code, "solution.py", "exec")
    except (SyntaxError, ValueError) as error:
        report({"status": "compile_error", "error": short(repr(error), 500)})
        return None


def run_stdin_program(code, protocol):
    if protocol == "livecodebench":
        code = make_function(clean_if_name(code))
    compiled = compile_or_report(code)
    if compiled is None:
        return
    namespace = {"__name__": "__main__" if protocol != "livecodebench" else "tmp_sol", "__builtins__": __builtins__}
    started = time.perf_counter()
    try:
        try:
            exec(compiled, namespace)
            if protocol == "livecodebench":
                function = namespace.get("wrapped_function")
                if function is None:
                    report({"status": "runtime_error", "error": "wrapped_function missing", "type": "NameError"})
                    return
                function()
        except SystemExit:
            pass
        sys.stdout.flush()
    except BaseException as error:  # noqa: BLE001 - every failure of the program is a runtime error
        report({"status": "runtime_error", "error": short(repr(error), 500), "type": type(error).__name__})
        return
    report({"status": "ok", "executionMs": (time.perf_counter() - started) * 1000})


def run_call_based(code, config):
    compiled = compile_or_report(IMPORT_PRELUDE + "\n\n" + code)
    if compiled is None:
        return
    started = time.perf_counter()
    try:
        module = {"__name__": "tmp_sol", "__builtins__": __builtins__}
        exec(compiled, module)
        target = module["Solution"]() if "class Solution" in code else None
        name = config["functionName"]
        if target is not None:
            method = getattr(target, name, None)
        else:
            method = module.get(name)
        if method is None:
            report({"status": "runtime_error", "error": f"function {name} not found", "type": "AttributeError"})
            return
        arguments = [json.loads(line) for line in config["input"].split("\n")]
        expected = json.loads(config["expectedOutput"])
        started = time.perf_counter()
        prediction = method(*arguments)
        elapsed = (time.perf_counter() - started) * 1000
        if isinstance(prediction, tuple):
            prediction = list(prediction)
        passed = prediction == expected
        report({"status": "ok", "passed": bool(passed), "output": short(prediction), "executionMs": elapsed})
    except BaseException as error:  # noqa: BLE001
        report({"status": "runtime_error", "error": short(repr(error), 500), "type": type(error).__name__})


def evalchemy_reliability_guard():
    """The guard of the paper's harness (evalchemy / SkyThought `testing_util.reliability_guard`)."""
    import builtins
    import shutil
    import subprocess

    builtins.exit = None
    builtins.quit = None
    os.environ["OMP_NUM_THREADS"] = "1"
    for name in (
        "kill", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir", "setuid", "fork", "forkpty",
        "killpg", "rename", "renames", "truncate", "replace", "unlink", "fchmod", "fchown", "chmod", "chown",
        "chroot", "lchflags", "lchmod", "lchown", "getcwd", "chdir",
    ):
        setattr(os, name, None)
    shutil.rmtree = None
    shutil.move = None
    shutil.chown = None
    subprocess.Popen = None
    for name in ("ipdb", "joblib", "resource", "psutil", "tkinter"):
        sys.modules[name] = None


def evalchemy_functional_arguments(test_input, test_output):
    """`prepare_test_input_output_functional(test_case, is_extracted=True)` of the paper's harness."""
    expected_text = test_output.strip()
    inputs = []
    if "=" in test_input:
        parts = test_input.split(",") if "," in test_input else [test_input]
        for part in parts:
            key, value = map(str.strip, part.split("="))
            try:
                value = int(value)
            except ValueError:
                try:
                    value = float(value)
                except ValueError:
                    value = value.strip('"')
            inputs.append(value)
    else:
        for line in test_input.split("\n"):
            line = line.strip()
            if not line:
                continue
            if line.startswith('"') and line.endswith('"'):
                inputs.append(line.strip('"'))
                continue
            if line.startswith("[") and line.endswith("]"):
                inputs.append(json.loads(line))
                continue
            try:
                inputs.append(int(line))
            except ValueError:
                try:
                    inputs.append(float(line))
                except ValueError:
                    inputs.append(line)
    try:
        expected = json.loads(expected_text)
    except json.JSONDecodeError:
        expected = expected_text.strip()
    return inputs, expected


def run_evalchemy(code, config):
    """One test as the paper's evalchemy `lcb_run` runs it (stdout compared by the caller for stdin tests)."""
    import io

    real_stdout = sys.stdout
    if config["mode"] == "stdin":
        source = ('__name__ = "__main__"\n' + code) if '__name__ == "__main__"' in code else code
    else:
        source = code
    compiled = compile_or_report(source)
    if compiled is None:
        return
    try:
        if config["mode"] == "call":
            arguments, expected = evalchemy_functional_arguments(config["input"], config["expectedOutput"])
    except BaseException as error:  # noqa: BLE001 - the reference counts this test as failed
        report({"status": "runtime_error", "error": short(repr(error), 500), "type": type(error).__name__})
        return
    evalchemy_reliability_guard()
    captured = io.StringIO()
    started = time.perf_counter()
    try:
        if config["mode"] == "stdin":
            sys.stdin = io.StringIO(config["input"])
            sys.stdout = captured
            exec(compiled, {})
            sys.stdout = real_stdout
            real_stdout.write(captured.getvalue())
            report({"status": "ok", "executionMs": (time.perf_counter() - started) * 1000})
            return
        namespace = {}
        exec(compiled, namespace)
        function_name = code.split("(")[0].split()[-1]
        sys.stdout = captured
        result = namespace[function_name](*arguments)
        sys.stdout = real_stdout
        elapsed = (time.perf_counter() - started) * 1000
        report({"status": "ok", "passed": bool(result == expected), "output": short(result), "executionMs": elapsed})
    except BaseException as error:  # noqa: BLE001 - SystemExit too: it ends the reference's worker, a failure
        sys.stdout = real_stdout
        report({"status": "runtime_error", "error": short(repr(error), 500), "type": type(error).__name__})


def main():
    job_dir = sys.argv[1]
    control = os.path.join(job_dir, "control")
    with open(os.path.join(control, "config.json"), encoding="utf-8") as handle:
        config = json.load(handle)
    with open(os.path.join(control, "program.py"), encoding="utf-8") as handle:
        code = handle.read()
    work_dir = os.path.join(job_dir, "work")
    if config.get("readOnlyMounts"):
        make_read_only(work_dir)
    set_limits(config["limits"])
    if config.get("dropPrivileges"):
        uid = int(config["uid"])
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    if not config.get("networkNamespace") or not config.get("readOnlyMounts"):
        install_audit_hook(not config.get("networkNamespace"), None if config.get("readOnlyMounts") else work_dir)
    os.chdir(work_dir)

    protocol = config.get("protocol", "evalchemy")
    if protocol == "evalchemy":
        run_evalchemy(code, config)
    elif config["mode"] == "stdin":
        run_stdin_program(code, protocol)
    else:
        run_call_based(code, config)
    try:
        sys.stdout.flush()
    except Exception:
        pass
    os._exit(0)


if __name__ == "__main__":
    main()
