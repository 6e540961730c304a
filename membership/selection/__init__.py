"""Proposing a slate: whom the secretariat might seat in a working group, and why.

The secretariat selects participants; the system proposes and explains, it never decides.
Import from the module that holds what you need:

- ``slate``: the plain data the method reads and returns (traits, applicants, seat holders,
  weights, the proposed slate);
- ``method``: the method itself, step by step in its docstring, and the hard rules applied to a
  slate while it is built;
- ``explanations``: the reasons in words, for each person proposed and each person not;
- ``verification``: checking a slate, or the set staff chose, against every hard rule;
- ``workbench``: the selection workbench's view model, read from the database for one group.

All but ``workbench`` are pure (no database, no clock): the bench (``bench/``) and the property
tests run them on thousands of synthetic applicants.
"""
