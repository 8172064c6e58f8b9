#!/usr/bin/env python3
"""Compiles or runs every fenced code block of README.md and docs/*.md, so
that the documentation cannot rot.

    python3 Tests/docs/check_docs.py [--list] [FILE.md ...]      (from anywhere; `make test-docs`)

What happens to a block depends on its language (the first word of the
info string after the opening fence):

  c            compiled with $CC and the strict flags (-std=c99 -Wall -Wextra
               -Werror -pedantic, or --cflags) against include/; a block with
               `int main(` is linked with build/lib/librecur.so (-pthread -lm)
               and run, and must exit with status 0. Each block is a whole
               translation unit.
  cpp, c++     the same with $CXX -std=c++17 -Wall -Wextra -Werror -pedantic,
               with bindings/cpp/ on the include path too.
  python, py   run in one Python process per document that shares one
               namespace (so a later block may use an earlier block's imports
               and variables). A block that imports torch,
               keras or matplotlib is skipped, with that reason, when the
               package is missing.
  sh, bash,    syntax-checked with `bash -n`. Run (bash -euo pipefail) when
  shell        the line before the fence is `<!-- run -->`.
  json         parsed; a fragment such as `"key": value` is parsed inside {}.
  swift        parsed with `swiftc -parse` (syntax only; skipped without swiftc).
  text, console, output, or no language: not code, not checked.

Any other language is an error: give the block a checker here, or mark it.

Marks, on the last non-blank line before the opening fence:
  <!-- skip: REASON -->  the block is not checked; the reason is required
                         and is printed in the summary.
  <!-- run -->           run an sh/bash block instead of only checking it.
  <!-- exit: N -->        a c/cpp program that must exit with status N, not 0
                         (a program that shows a failure on purpose).
A `c fragment` / `cpp fragment` info string also skips the block; it needs a
reason too, after the word (```c fragment: declarations only) or in a skip
mark.

Blocks run in document order, so a runnable sh block may use a file that
an earlier python block wrote, and the reverse. Where blocks run: a fresh temporary directory per document, holding a copy
of examples/models/ and symlinks `include` and `build` to the project's, so
the documented relative paths (examples/models/tiny_lstm.json, -Iinclude,
-Lbuild/lib) work and nothing is written into the checkout. Environment:
  RECUR_ROOT      the project root (absolute)
  RECUR_TESTDATA  the reference cases (--testdata, default Tests/testdata)
  RECUR_LIBRARY   build/lib/librecur.so (absolute)
  PYTHONPATH      bindings/python first, so `import recur` finds the checkout
  PATH            with `python` -> this interpreter first
Blocks may read these, e.g. os.environ["RECUR_TESTDATA"] in Python or
getenv("RECUR_TESTDATA") in C.

Links: every relative link [text](path#anchor) outside code blocks must
name an existing file, and an anchor into a markdown file must match one of
its headings (GitHub's rule: lower case, punctuation dropped, spaces to
hyphens). Links with a scheme (https:, mailto:) are not followed.

Exits 1 when any block or link fails, after checking all of them.
"""

import argparse
import json
import os
import pathlib
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
MARK = re.compile(r"^\s*<!--\s*(?P<kind>skip|run|exit)\s*(?::\s*(?P<reason>.*?))?\s*-->\s*$")
TEXT = {"", "text", "console", "output", "plaintext", "none"}
LANGUAGES = {"c": "c", "cpp": "cpp", "c++": "cpp", "cxx": "cpp", "python": "python", "py": "python",
             "python3": "python", "sh": "sh", "bash": "sh", "shell": "sh", "json": "json", "swift": "swift"}
OPTIONAL_MODULES = ("torch", "keras", "matplotlib")
TIMEOUT = 300


class Block:
    def __init__(self, document, line, info, code, mark):
        self.document, self.line, self.code = document, line, code
        words = info.strip().split(None, 1)
        self.language = words[0].lower() if words else ""
        self.attributes = words[1] if len(words) > 1 else ""
        self.kind = LANGUAGES.get(self.language, "text" if self.language in TEXT else None)
        self.skip_reason = None
        self.run = False
        self.exit_status = 0
        self.problem = None
        if mark and mark.group("kind") == "skip":
            self.skip_reason = (mark.group("reason") or "").strip()
            if not self.skip_reason:
                self.problem = "<!-- skip --> needs a reason: <!-- skip: why -->"
        elif mark and mark.group("kind") == "run":
            self.run = True
            if self.kind != "sh":
                self.problem = "<!-- run --> applies to sh/bash blocks only"
        elif mark and mark.group("kind") == "exit":
            status = re.match(r"\d+", mark.group("reason") or "")
            self.exit_status = int(status.group()) if status else None
            if self.exit_status is None or self.kind not in ("c", "cpp"):
                self.problem = "<!-- exit: N --> takes a number and applies to c/cpp blocks with a main"
        if self.attributes.startswith("fragment"):
            reason = self.attributes[len("fragment"):].strip(" :-—")
            self.skip_reason = self.skip_reason or reason
            if not self.skip_reason:
                self.problem = f"```{self.language} fragment needs a reason (```{self.language} fragment: why)"
        if self.kind is None and not self.skip_reason:
            self.problem = (f"no checker for ```{self.language} blocks: use a checked language, "
                            "```text, or <!-- skip: reason -->")

    @property
    def where(self):
        return f"{self.document}:{self.line}"


def blocks_of(path):
    """The fenced blocks of a markdown file, with the mark before each."""
    lines = path.read_text().split("\n")
    relative = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    found, i = [], 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, fence, info = match.group("indent"), match.group("fence"), match.group("info")
        start = i
        body, i = [], i + 1
        while i < len(lines):
            closing = re.match(r"^[ \t]*(" + re.escape(fence[0]) + r"{" + str(len(fence)) + r",})\s*$", lines[i])
            if closing:
                break
            line = lines[i]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            i += 1
        i += 1
        previous = start - 1
        while previous >= 0 and not lines[previous].strip():
            previous -= 1
        mark = MARK.match(lines[previous]) if previous >= 0 else None
        found.append(Block(relative, start + 1, info, "\n".join(body) + "\n", mark))
    return found


LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")


def slug(heading):
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path):
    """The anchors of a markdown file's headings (outside code blocks)."""
    found, inside, seen = set(), None, {}
    for line in path.read_text().split("\n"):
        fence = re.match(r"^\s*(`{3,}|~{3,})", line)
        if fence:
            inside = None if inside and fence.group(1)[0] == inside else (inside or fence.group(1)[0])
            continue
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading and not inside:
            base = slug(heading.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def broken_links(path):
    """(line, target, why) for each relative link of `path` that leads nowhere."""
    problems, inside = [], None
    for number, line in enumerate(path.read_text().split("\n"), 1):
        fence = re.match(r"^\s*(`{3,}|~{3,})", line)
        if fence:
            inside = None if inside and fence.group(1)[0] == inside else (inside or fence.group(1)[0])
            continue
        if inside:
            continue
        for match in LINK.finditer(re.sub(r"`[^`]*`", "", line)):
            target = match.group(1) or match.group(2)
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue
            file_part, _, anchor = target.partition("#")
            destination = (path.parent / file_part).resolve() if file_part else path
            if not destination.exists():
                problems.append((number, target, "no such file"))
            elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
                problems.append((number, target, f"no heading with the anchor #{anchor} in {destination.name}"))
    return problems


class Checker:
    def __init__(self, args):
        self.args = args
        self.results = []          # (block, status, detail): status ok | FAIL | skip | text
        self.testdata = pathlib.Path(args.testdata).resolve()
        self.library_dir = ROOT / "build" / "lib"
        shims = pathlib.Path(tempfile.mkdtemp(prefix="recur-docs-bin-"))
        (shims / "python").symlink_to(sys.executable)
        (shims / "python3").symlink_to(sys.executable)
        self.shims = shims
        self.environment = dict(
            os.environ,
            RECUR_ROOT=str(ROOT),
            RECUR_TESTDATA=str(self.testdata),
            RECUR_LIBRARY=str(self.library_dir / "librecur.so"),
            PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "bindings" / "python"),
                                                     os.environ.get("PYTHONPATH")])),
            PATH=f"{shims}{os.pathsep}{os.environ.get('PATH', '')}",
        )
        self.environment.setdefault("KERAS_BACKEND", "torch")

    def record(self, block, status, detail=""):
        self.results.append((block, status, detail))
        if status == "FAIL" or self.args.verbose or status == "skip":
            what = "link" if block.language == "link" else f"```{block.language}"
            print(f"{status:4s}  {block.where} {what}  {detail.splitlines()[0] if detail else ''}")
            if status == "FAIL" and detail.count("\n"):
                print("      " + "\n      ".join(detail.splitlines()[1:60]))
        sys.stdout.flush()

    def workdir(self, document):
        directory = pathlib.Path(tempfile.mkdtemp(prefix="recur-docs-"))
        shutil.copytree(ROOT / "examples" / "models", directory / "examples" / "models")
        for name in ("include", "build"):
            (directory / name).symlink_to(ROOT / name)
        return directory

    def check_document(self, path):
        """Every block of one document, in order (python blocks share one session)."""
        relative = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        for line, target, why in broken_links(path):
            link = Block(relative, line, "link", "", None)
            self.record(link, "FAIL", f"link ({target}): {why}")
        work = self.workdir(path)
        session = None
        try:
            for block in blocks_of(path):
                if block.problem:
                    self.record(block, "FAIL", block.problem)
                elif block.skip_reason:
                    self.record(block, "skip", block.skip_reason)
                elif block.kind == "text":
                    self.record(block, "text")
                elif block.kind == "python":
                    session = session or PythonSession(self.environment, work)
                    self.record(block, *session.run(block))
                else:
                    getattr(self, "check_" + block.kind)(block, work)
        finally:
            if session:
                session.close()
            shutil.rmtree(work, ignore_errors=True)

    # -- languages -------------------------------------------------------------

    def run(self, command, cwd, timeout=TIMEOUT, stdin=None):
        try:
            result = subprocess.run(command, cwd=cwd, env=self.environment, capture_output=True, text=True,
                                    timeout=timeout, input=stdin)
        except subprocess.TimeoutExpired:
            return 124, f"timed out after {timeout} s"
        return result.returncode, (result.stdout + result.stderr).strip()

    def check_c(self, block, work):
        self.compile_and_run(block, work, ".c", [self.args.cc] + self.args.cflags.split())

    def check_cpp(self, block, work):
        flags = ["-std=c++17", "-Wall", "-Wextra", "-Werror", "-pedantic", f"-I{ROOT / 'bindings' / 'cpp'}"]
        self.compile_and_run(block, work, ".cpp", [self.args.cxx] + flags)

    def compile_and_run(self, block, work, suffix, compiler):
        name = f"block_{block.line}"
        source = work / (name + suffix)
        source.write_text(block.code)
        has_main = re.search(r"\bint\s+main\s*\(", block.code) is not None
        command = compiler + [f"-I{ROOT / 'include'}", str(source)]
        if has_main:
            command += ["-o", str(work / name), f"-L{self.library_dir}", "-lrecur", "-pthread", "-lm",
                        f"-Wl,-rpath,{self.library_dir}"]
        else:
            command += ["-c", "-o", str(work / (name + ".o"))]
        status, output = self.run(command, work)
        if status != 0:
            return self.record(block, "FAIL", f"does not compile: {' '.join(command)}\n{output}")
        if not has_main:
            return self.record(block, "ok", "compiled (no main)")
        status, output = self.run([str(work / name)], work)
        if status != block.exit_status:
            return self.record(block, "FAIL", f"exited with status {status}, expected {block.exit_status}\n{output}")
        self.record(block, "ok", "compiled and ran" + (f" (exit status {status}, as marked)" if status else ""))

    def check_swift(self, block, work):
        """Swift (the library's own sources, in development.md): parsed with swiftc -parse."""
        swiftc = shutil.which("swiftc")
        if not swiftc:
            return self.record(block, "skip", "swiftc not found: the Swift block was not parsed")
        source = work / f"block_{block.line}.swift"
        source.write_text(block.code)
        status, output = self.run([swiftc, "-parse", str(source)], work)
        if status != 0:
            return self.record(block, "FAIL", f"swiftc -parse: {output}")
        self.record(block, "ok", "parsed (swiftc -parse)")

    def check_sh(self, block, work):
        script = work / f"block_{block.line}.sh"
        script.write_text(block.code)
        status, output = self.run(["bash", "-n", str(script)], work)
        if status != 0:
            return self.record(block, "FAIL", f"bash -n: {output}")
        if not block.run:
            return self.record(block, "ok", "syntax checked")
        status, output = self.run(["bash", "-euo", "pipefail", str(script)], work)
        if status != 0:
            return self.record(block, "FAIL", f"exited with status {status}\n{output}")
        self.record(block, "ok", "ran")

    def check_json(self, block, work):
        try:
            json.loads(block.code)
        except ValueError as error:
            try:
                json.loads("{" + block.code + "}")
            except ValueError:
                return self.record(block, "FAIL", f"not JSON (nor a JSON object's members): {error}")
        self.record(block, "ok", "parsed")



class PythonSession:
    """One Python process per document: blocks are sent to it one by one, in
    order, and run in one namespace. Requests go in on its stdin (a JSON line
    each), outcomes come back on a pipe; the blocks' own output goes to a log."""

    def __init__(self, environment, work):
        read_end, write_end = os.pipe()
        self.log_path = work / "python_session.log"
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, str(pathlib.Path(__file__).resolve()), "--python-session", str(write_end)],
            cwd=work, env=environment, stdin=subprocess.PIPE, stdout=self.log, stderr=subprocess.STDOUT,
            pass_fds=(write_end,), text=True)
        os.close(write_end)
        self.replies = os.fdopen(read_end)
        self.failed = None

    def run(self, block):
        if self.failed:
            return "FAIL", f"not run: the block at {self.failed} failed before it"
        try:
            self.process.stdin.write(json.dumps({"name": block.where, "code": block.code}) + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            pass
        readable, _, _ = select.select([self.replies], [], [], TIMEOUT)
        line = self.replies.readline() if readable else ""
        if not line:
            self.failed = block.where
            self.process.kill()
            self.log.flush()
            tail = self.log_path.read_text()[-3000:]
            return "FAIL", ("timed out after %d s" % TIMEOUT if not readable else "the Python session died") + "\n" + tail
        outcome = json.loads(line)
        if outcome["status"] == "FAIL":
            self.failed = block.where
        return outcome["status"], outcome["detail"]

    def close(self):
        try:
            self.process.stdin.close()
        except BrokenPipeError:
            pass
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.replies.close()
        self.log.close()


def python_session(reply_fd):
    """The child process of a PythonSession: exec each block it is sent, in one namespace."""
    import contextlib
    import importlib
    import io
    import traceback

    replies = os.fdopen(reply_fd, "w")
    namespace = {"__name__": "__docs__"}
    available = {}

    def importable(name):
        if name not in available:
            try:
                importlib.import_module(name)
                available[name] = True
            except Exception:
                available[name] = False
        return available[name]

    for line in sys.stdin:
        block = json.loads(line)
        missing = [name for name in OPTIONAL_MODULES
                   if re.search(rf"^\s*(import|from)\s+{name}\b", block["code"], re.M) and not importable(name)]
        if missing:
            outcome = {"status": "skip", "detail": f"{', '.join(missing)} not installed"}
        else:
            captured = io.StringIO()
            started = time.perf_counter()
            try:
                with contextlib.redirect_stdout(captured):
                    exec(compile(block["code"], block["name"], "exec"), namespace)
            except BaseException:
                outcome = {"status": "FAIL", "detail": "raised\n" + traceback.format_exc(limit=-3)
                           + captured.getvalue()[-2000:]}
            else:
                outcome = {"status": "ok", "detail": f"ran ({time.perf_counter() - started:.1f} s)"}
            sys.stdout.write(captured.getvalue())
            sys.stdout.flush()
        replies.write(json.dumps(outcome) + "\n")
        replies.flush()


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--python-session":
        python_session(int(sys.argv[2]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=pathlib.Path,
                        help="markdown files (default: README.md and docs/*.md)")
    parser.add_argument("--list", action="store_true", help="list the blocks and what would be done")
    parser.add_argument("--verbose", "-v", action="store_true", help="a line for every block")
    parser.add_argument("--cc", default=os.environ.get("CC", "cc"))
    parser.add_argument("--cxx", default=os.environ.get("CXX", "g++"))
    parser.add_argument("--cflags", default="-std=c99 -Wall -Wextra -Werror -pedantic")
    parser.add_argument("--testdata", default=str(ROOT / "Tests" / "testdata"))
    args = parser.parse_args()
    files = [f.resolve() for f in args.files] or [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))

    if args.list:
        for path in files:
            for block in blocks_of(path):
                what = (f"FAIL: {block.problem}" if block.problem else f"skip: {block.skip_reason}"
                        if block.skip_reason else block.kind + (" (run)" if block.run else ""))
                print(f"{block.where:32s} ```{block.language:8s} {what}")
        return 0

    if not (ROOT / "build" / "lib" / "librecur.so").exists():
        sys.exit("build/lib/librecur.so not found: run `make lib` first")
    started = time.perf_counter()
    checker = Checker(args)
    try:
        for path in files:
            checker.check_document(path)
    finally:
        shutil.rmtree(checker.shims, ignore_errors=True)

    counts = {}
    for block, status, _ in checker.results:
        counts.setdefault(status, {}).setdefault(block.kind or block.language, 0)
        counts[status][block.kind or block.language] += 1
    summary = {status: ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
               for status, kinds in counts.items()}
    print(f"check_docs: {len(files)} files, {len(checker.results)} blocks in {time.perf_counter() - started:.0f} s: "
          f"ok: {summary.get('ok', 'none')}; skipped: {summary.get('skip', 'none')}; "
          f"text (not code): {summary.get('text', 'none')}; failed: {summary.get('FAIL', 'none')}")
    return 1 if "FAIL" in counts else 0


if __name__ == "__main__":
    sys.exit(main())
