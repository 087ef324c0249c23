"""The generic tests over the optimizer table (``table.py``): every implementation of every registry
name, for every reference config, against the float64 reference and against the eager rule."""

from __future__ import annotations

import deepzen.optim as dzo
from tests.optim.contract_cases import EXPECTED_NAMES
from tests.optim.harness import Case, run_against_implementation, run_case
from tests.optim.table import GLOBAL_REFERENCE, IMPLEMENTATIONS, RUNS, TABLE, Entry, each_run


def test_one_entry_per_registry_name_with_configs_and_its_implementations() -> None:
    assert sorted(TABLE) == sorted(dzo.available()) == sorted(EXPECTED_NAMES)
    for name, entry in TABLE.items():
        assert entry.configs or name in GLOBAL_REFERENCE, f"{name}: no reference configs (CASES in its test module)"
        assert entry.implementations[0] == "eager", name
        assert set(entry.implementations) <= set(IMPLEMENTATIONS), name
        if dzo.get_class(name).rule is not None:           # every rule compiles (fused=True)
            assert {"fused", "torch-fused"} & set(entry.implementations), f"{name}: no fused=True implementation"
        run = {impl for e, impl, _ in RUNS if e is entry}
        assert run == set(entry.implementations) or not entry.configs, f"{name}: implementations without a config: {run}"


@each_run(RUNS)
def test_implementation_matches_reference(entry: Entry, implementation: str, case: Case) -> None:
    kwargs = entry.kwargs(implementation)
    run_case(case.__class__(**{**case.__dict__, "kwargs": {**case.kwargs, **kwargs}}),
             ref_factory=lambda **hp: case.ref(**{k: v for k, v in hp.items() if k != "fused"}))


@each_run([r for r in RUNS if r[1] != "eager"])
def test_implementation_matches_the_eager_rule(entry: Entry, implementation: str, case: Case) -> None:
    run_against_implementation(case, entry.kwargs(implementation))
