"""What pylint sees of astroid's process-wide cache of built modules, state by state.

astroid keeps every module it builds for the life of the process (so a worker builds
``typing`` or ``numpy`` once, not once per state), and pylint runs each state against those
modules. Three context managers, entered around one state's check
(:meth:`~lintseq.oracle.pylint_oracle.PylintLinter.raw_messages`), decide what the state may
see and what it may leave behind:

* :func:`stdlib_only`: imports beyond the standard library stay unresolved (``hybrid-stdlib``);
* :func:`own_attribute_assignments`: an imported module is built without the attribute
  assignments it makes on names it imports (the hybrid);
* :func:`cache_mutations_undone`: whatever the state adds to a cached module is taken back
  after it, so each state is judged as if it came first (every pylint oracle).
"""

from __future__ import annotations

import contextlib
import sys

STDLIB = frozenset(sys.stdlib_module_names) | {"__future__", "builtins"}


@contextlib.contextmanager
def stdlib_only(own: str):
    """While active, astroid resolves only standard-library imports (and module ``own``): an
    import of anything else is unresolvable, so pylint infers nothing through it and builds no
    third-party module. Building those (parsing, brain transforms, inferring their attribute
    assignments) was over 90% of pylint's time on real code; what it decides (import errors,
    members and signatures of imported names) depends on what is installed where the linter
    runs. The paper's oracle (``--linter pylint``) never enters this."""
    from astroid.exceptions import AstroidImportError
    from astroid.manager import AstroidManager

    # patched on the class: astroid asks fresh AstroidManager() instances (they share state)
    build = AstroidManager.ast_from_module_name

    def ast_from_module_name(self, modname, context_file=None, use_cache=True):
        if modname and modname.split(".")[0] not in STDLIB and modname != own:
            raise AstroidImportError(f"lintseq: {modname!r} left out (standard library only)")
        return build(self, modname, context_file, use_cache)

    AstroidManager.ast_from_module_name = ast_from_module_name
    try:
        yield
    finally:
        AstroidManager.ast_from_module_name = build


_PARTIAL: set[str] = set()  # modules built with assignments left out by own_attribute_assignments


@contextlib.contextmanager
def own_attribute_assignments(own: str):
    """While active, astroid building an imported module skips the attribute assignments it
    makes on names that module imports (``X.attr = v`` where an import binds ``X`` there: code
    that patches another module's class, as tqdm's ``pandas()`` sets ``DataFrame.progress_apply``).
    Recording one means inferring ``X``, which builds that other module and, through the brain's
    and its own attribute assignments, much of its package: on 100 real-world programs the
    assignments of one tqdm program built pandas, half of all the module building. What the
    module does to its own classes and instances (``self.x = ...``, ``Cls.x = ...``) is kept,
    and the state (module ``own``) is built in full. On the 400 real-world programs, s = 1, every
    sequence is the same with it and without it. The exact oracle never enters this, and drops
    the modules that left something out from astroid's cache before it runs
    (:meth:`PylintLinter.raw_messages`): built again on demand, they patch as pylint's do."""
    from astroid import nodes
    from astroid.builder import AstroidBuilder

    record = AstroidBuilder.delayed_assattr

    def delayed_assattr(self, node):
        if node.root().name != own:
            expr = node.expr
            while isinstance(expr, nodes.Attribute):
                expr = expr.expr
            if isinstance(expr, nodes.Name) and any(
                    isinstance(a, (nodes.Import, nodes.ImportFrom)) for a in expr.lookup(expr.name)[1]):
                _PARTIAL.add(node.root().name)
                return None
        return record(self, node)

    AstroidBuilder.delayed_assattr = delayed_assattr
    try:
        yield
    finally:
        AstroidBuilder.delayed_assattr = record


@contextlib.contextmanager
def cache_mutations_undone(own: str):
    """While active, what checking the state (module ``own``) adds to the modules astroid keeps
    built for the whole process is recorded, and taken back when the block ends, so that each
    state is judged as if it came first. Two kinds of addition outlived their state before:

    * an attribute the state assigns on an object of another module: ``f.zzz = 1`` (with
      ``f = logging.Formatter()``) adds ``zzz`` to the cached ``logging`` module's class, and a
      later state reading ``logging.Formatter().zzz`` lost the E1101 that pylint gives it alone;
    * names that inference adds to a module's own namespace after it was built: each time a state's class
      derives from ``typing.NamedTuple``, astroid's brain builds a class whose parent sits in
      the ``typing`` module, and it joins that module's ``NamedTuple`` entries (30 after 400
      programs). Inference on the name grew ambiguous, and a state's missing NamedTuple field
      went unreported (real case: 1 of the 400 real-world programs came out differently at one
      worker and at two, and alone).

    A module's construction is kept: what it binds and what its brains add while it is built,
    and the members astroid gives a class of it on first need (the methods of builtins'
    ``generator``: taking those back made ``os.walk(...)`` non-iterable in the next state).
    Within the state every addition counts, as in a fresh pylint."""
    from astroid import MANAGER
    from astroid.builder import AstroidBuilder
    from astroid.nodes.scoped_nodes.mixin import LocalsDictNodeNG
    from astroid.raw_building import InspectBuilder

    ready = {id(m) for m in MANAGER.astroid_cache.values()}  # complete: nothing is being built now
    added: list[tuple[dict, str, object]] = []
    originals = [(AstroidBuilder, "delayed_assattr"), (LocalsDictNodeNG, "set_local"),
                 (AstroidBuilder, "file_build"), (AstroidBuilder, "string_build"),
                 (InspectBuilder, "inspect_build")]
    originals = [(cls, name, cls.__dict__[name]) for cls, name in originals]
    record, set_local = AstroidBuilder.delayed_assattr, LocalsDictNodeNG.set_local

    building = [0]  # builds of modules other than the state in progress

    def watched_set_local(self, name, stmt):
        set_local(self, name, stmt)
        if building[0]:
            return  # part of another module's construction: it stays built, and so does this
        # a module's own names only: classes of a built module get members lazily (astroid
        # builds the methods of builtins' generator, function, ... on first need), which a later
        # state must find again
        if self.parent is None and id(self) in ready and self.name != own:
            added.append((self.locals, name, stmt))

    def built(build, modname_at):
        def wrapper(*args, **kwargs):
            modname = kwargs.get("modname", args[modname_at] if len(args) > modname_at else None)
            other = modname != own
            building[0] += other
            try:
                module = build(*args, **kwargs)
            finally:
                building[0] -= other
            ready.add(id(module))  # constructed: later additions are inference's
            return module
        return wrapper

    def delayed_assattr(self, node):
        if node.root().name != own:
            return record(self, node)
        seen: list = []  # what astroid infers the target's owner to be (no second inference)
        expr = node.expr
        infer = expr.infer

        def watched(*args, **kwargs):
            for value in infer(*args, **kwargs):
                seen.append(value)
                yield value

        expr.infer = watched
        try:
            return record(self, node)
        finally:
            del expr.infer
            for value in seen:  # where astroid may have put it: instance_attrs or locals
                for holder in (getattr(value, "_proxied", None), value):
                    for attrs in (getattr(holder, "instance_attrs", None), getattr(holder, "locals", None)):
                        if (isinstance(attrs, dict) and node in attrs.get(node.attrname, ())
                                and holder.root().name != own):
                            added.append((attrs, node.attrname, node))

    AstroidBuilder.delayed_assattr = delayed_assattr
    LocalsDictNodeNG.set_local = watched_set_local
    # (self, path or data or module, modname): where each build takes the module's name
    AstroidBuilder.file_build = built(AstroidBuilder.file_build, 2)
    AstroidBuilder.string_build = built(AstroidBuilder.string_build, 2)
    InspectBuilder.inspect_build = built(InspectBuilder.inspect_build, 2)
    try:
        yield
    finally:
        for cls, name, function in originals:
            setattr(cls, name, function)
        for attrs, name, node in reversed(added):
            values = attrs.get(name)
            if values is not None and node in values:
                values.remove(node)
                if not values:
                    del attrs[name]
