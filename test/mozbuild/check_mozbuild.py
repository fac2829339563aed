#!/usr/bin/python3
"""Executes moz.build in a small sandbox of the moz.build variables (as
mozbuild's reader does) and checks that

  * every file it names exists, and
  * every source file of the tree (idl/*.idl, src/**.c, components/**.c/.cpp,
    components/*.manifest) is named by it under at least one configuration.

Prints one line per check and exits non-zero on any failure."""
import os
import sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


class StrictList(list):
    """moz.build lists only grow with +=; plain assignment of a str is a bug."""

    def __iadd__(self, other):
        if isinstance(other, str):
            raise TypeError("moz.build: += of a str, not a list: %r" % other)
        return super().__iadd__(other)


class FilesTree:
    """FINAL_TARGET_FILES.components += [...] style hierarchical lists."""

    def __init__(self):
        self.__dict__["_children"] = {}
        self.__dict__["_files"] = StrictList()

    def __getattr__(self, name):
        return self._children.setdefault(name, FilesTree())

    def __setattr__(self, name, value):
        if name == "_files":
            self.__dict__["_files"] = value
        elif isinstance(value, FilesTree):
            self._children[name] = value
        else:
            raise TypeError("moz.build: cannot assign %s" % name)

    def __iadd__(self, other):
        self._files.extend(other)
        return self

    def all(self):
        out = list(self._files)
        for child in self._children.values():
            out.extend(child.all())
        return out


def run(config):
    sandbox = {
        "CONFIG": config,
        "XPIDL_SOURCES": StrictList(),
        "XPIDL_MODULE": None,
        "SOURCES": StrictList(),
        "UNIFIED_SOURCES": StrictList(),
        "EXPORTS": FilesTree(),
        "FINAL_TARGET_FILES": FilesTree(),
        "FINAL_TARGET_PP_FILES": FilesTree(),
        "LOCAL_INCLUDES": StrictList(),
        "OS_LIBS": StrictList(),
        "FINAL_LIBRARY": None,
        "LIBRARY_NAME": None,
        "SHARED_LIBRARY_NAME": None,
        "DEFINES": {},
        "__builtins__": {"True": True, "False": False, "None": None,
                         "sorted": sorted, "len": len},
    }
    path = os.path.join(TOP, "moz.build")
    with open(path) as f:
        code = compile(f.read(), path, "exec")
    exec(code, sandbox)
    named = set()
    for var in ("XPIDL_SOURCES", "SOURCES", "UNIFIED_SOURCES"):
        named.update(sandbox[var])
    named.update(sandbox["EXPORTS"].all())
    named.update(sandbox["FINAL_TARGET_FILES"].all())
    named.update(sandbox["FINAL_TARGET_PP_FILES"].all())
    return sandbox, named


def tree_sources():
    out = set()
    for sub, exts in (("idl", (".idl",)), ("src", (".c", ".cpp")),
                      ("components", (".c", ".cpp", ".manifest", ".manifest.in"))):
        for root, _dirs, files in os.walk(os.path.join(TOP, sub)):
            for name in files:
                if name.endswith(exts):
                    out.add(os.path.relpath(os.path.join(root, name), TOP))
    return out


def main():
    failures = 0
    all_named = set()
    for config in ({"WSCHANNEL_OWN_XPCOM": True}, {"WSCHANNEL_OWN_XPCOM": False}):
        try:
            sandbox, named = run(config)
        except Exception as e:  # noqa: BLE001 - report any sandbox error
            print("FAIL: moz.build does not execute with %r: %s" % (config, e))
            return 1
        if not sandbox["XPIDL_MODULE"]:
            print("FAIL: XPIDL_MODULE is not set")
            failures += 1
        for rel in sorted(named):
            if not os.path.isfile(os.path.join(TOP, rel)):
                print("FAIL: moz.build names %s, which does not exist" % rel)
                failures += 1
        all_named |= named
    for rel in sorted(tree_sources() - all_named):
        print("FAIL: %s is not named in moz.build" % rel)
        failures += 1
    print("%s: moz.build names %d files" % ("FAIL" if failures else "PASS", len(all_named)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
