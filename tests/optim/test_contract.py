"""The contract every deepzen optimizer keeps (OPTIMIZERS.md, "Rules every optimizer keeps"), checked
for every registry name from one table (``contract_cases.SPECS``).
"""

from __future__ import annotations

import math

import pytest
import torch

import deepzen._tensors as T
import deepzen.optim as dzo
from tests.optim.contract_cases import (
    ALL, EXPECTED_NAMES, WITH_LOOKAHEAD, Spec, clone_params, code_paths, each, grad_stream, lockstep, make_params,
    minimize, optimizer_class, quadratic, rosenbrock, same_state, saved_state_dict, set_grads, snapshot,
    step,
)

QUAD_STEPS = 200


def assert_same_params(a: list[torch.Tensor], b: list[torch.Tensor], *, exact: bool, what: str) -> None:
    for i, (x, y) in enumerate(zip(a, b)):
        if exact:
            assert torch.equal(x, y), f"{what}: param {i} differs (max abs diff {(x - y).abs().max()})"
        else:
            torch.testing.assert_close(x, y, rtol=1e-12, atol=1e-14, msg=lambda m: f"{what}: param {i}: {m}")


# ----------------------------------------------------------------------------- registry
def test_available_lists_all_names_with_descriptions() -> None:
    names = dzo.available()
    assert sorted(names) == sorted(EXPECTED_NAMES)
    for name, desc in names.items():
        assert isinstance(desc, str) and len(desc) > 10, f"{name}: missing description"


def test_create_unknown_name_suggests_close_names() -> None:
    with pytest.raises(ValueError, match="adam") as err:
        dzo.create("adamm", [torch.zeros(2, requires_grad=True)])
    assert "adamm" in str(err.value) and "did you mean" in str(err.value)


# ----------------------------------------------------------------------------- state per parameter
@each(ALL)
def test_none_grad_leaves_state_and_param_untouched(spec: Spec) -> None:
    params = make_params()
    opt = spec.make(params, lr=spec.lr)
    grads = grad_stream(0, [p.shape for p in params], 14)
    for t, g in enumerate(grads):
        absent = 4 <= t <= 10                     # param 1 has no gradient for 7 steps (spans k = 5, 6)
        if t == 4:
            before, value = snapshot(opt.state[params[1]]), params[1].detach().clone()
        set_grads(params, [None if (i == 1 and absent) else x for i, x in enumerate(g)])
        step(opt, spec, t)
        if absent:
            assert torch.equal(params[1], value), f"step {t}: param without gradient moved"
            assert same_state(opt.state[params[1]], before), f"step {t}: state of param without gradient changed"
    assert float(opt.state[params[1]]["step"]) == len(grads) - 7
    assert float(opt.state[params[0]]["step"]) == len(grads)


@each(ALL)
def test_late_parameter_starts_its_own_step_count(spec: Spec) -> None:
    late_start, steps = 6, 15
    params = make_params()
    alone = clone_params(params[1:2])
    opt, fresh = spec.make(params, lr=spec.lr), spec.make(alone, lr=spec.lr)
    for t, g in enumerate(grad_stream(1, [p.shape for p in params], steps)):
        started = t >= late_start
        set_grads(params, [g[0], g[1] if started else None, g[2]])
        step(opt, spec, t)
        if started:
            set_grads(alone, [g[1]])
            step(fresh, spec, t)
            assert float(opt.state[params[1]]["step"]) == t - late_start + 1
            if not spec.loss_state:
                assert_same_params(params[1:2], alone, exact=False, what=f"step {t}, late parameter")


@each(ALL)
def test_add_param_group_mid_run(spec: Spec) -> None:
    params = make_params()
    extra, bad = make_params(seed=5, shapes=[(4,), (2,)])
    alone = clone_params([extra])
    opt = spec.make(params[:2], lr=spec.lr)
    fresh = spec.make(alone, lr=spec.lr / 2)
    stream = grad_stream(2, [p.shape for p in [*params[:2], extra]], 12)
    for t, g in enumerate(stream):
        if t == 4:
            opt.add_param_group({"params": [extra], "lr": spec.lr / 2})
            with pytest.raises(ValueError, match="lr"):
                opt.add_param_group({"params": [bad], "lr": -1.0})
            assert len(opt.param_groups) == 2
        set_grads([*params[:2], extra], g if t >= 4 else [*g[:2], None])
        step(opt, spec, t)
        if t >= 4:
            set_grads(alone, g[2:])
            step(fresh, spec, t)
            if not spec.loss_state:
                assert_same_params([extra], alone, exact=False, what=f"step {t}, added group")
    assert not torch.equal(extra, make_params(seed=5, shapes=[(4,)])[0]), "the added group never moved"


# ----------------------------------------------------------------------------- state_dict
@each(WITH_LOOKAHEAD)
def test_state_dict_round_trip_mid_run_is_bitwise(spec: Spec) -> None:
    params = make_params()
    opt = spec.make(params, lr=spec.lr)
    stream = grad_stream(3, [p.shape for p in params], 14)
    for t, g in enumerate(stream[:4]):
        set_grads(params, [g[0], g[1], g[2] if t >= 2 else None])
        step(opt, spec, t)
    loaded = saved_state_dict(opt)
    copies = clone_params(params)
    resumed = spec.make(copies, lr=spec.lr)
    resumed.load_state_dict(loaded)
    for t in lockstep(spec, [opt, resumed], [params, copies], stream[4:], start=4):
        assert_same_params(params, copies, exact=True, what=f"step {t} after resume")
    for p, q in zip(params, copies):
        assert same_state(opt.state[p], resumed.state[q])


# ----------------------------------------------------------------------------- step() and gradients
@each(ALL)
def test_closure_loss_is_returned(spec: Spec) -> None:
    params = make_params()
    opt = spec.make(params, lr=spec.lr)
    calls = []
    sentinel = torch.tensor(3.5, dtype=torch.float64)

    def closure() -> torch.Tensor:
        calls.append(torch.is_grad_enabled())
        set_grads(params, [torch.ones_like(p) for p in params])
        return sentinel

    assert opt.step(closure) is sentinel
    assert calls == [True], "the closure must run exactly once, with gradients enabled"


@each(ALL)
def test_grads_are_never_modified(spec: Spec) -> None:
    params = make_params()
    hp = {k: v for k, v in {"weight_decay": 0.1, "maximize": True}.items() if spec.accepts(k)}
    opt = spec.make(params, lr=spec.lr, **hp, **(spec.maximize_kwargs if "maximize" in hp else {}))
    for t, g in enumerate(grad_stream(4, [p.shape for p in params], 8)):
        set_grads(params, g)
        held = [p.grad for p in params]
        step(opt, spec, t)
        for i, p in enumerate(params):
            assert p.grad is held[i] and torch.equal(p.grad, g[i]), f"step {t}: grad of param {i} was modified"


#: a bad value for each hyperparameter name, where the optimizer takes that name
BAD_VALUES = {
    "lr": -1e-3, "eps": -1e-8, "weight_decay": -0.1, "momentum": -0.5, "betas": (1.0, 0.999),
    "rho": 1.5, "alpha": -0.5, "lr_decay": -0.1, "initial_accumulator_value": -1.0, "final_lr": -0.1,
    "gamma": -1.0, "nus": (1.5, 1.0), "beta3": 1.5, "c": -1.0, "trust_coefficient": -1.0, "k": 0,
    "dampening": -0.5, "momentum_decay": -0.1, "clamp_value": -1.0, "clip_exponent": -1.0, "threshold": -1.0,
    "eps_placement": "nowhere",
    **{flag: "yes" for flag in ("maximize", "nesterov", "centered", "amsgrad", "amsbound", "decoupled",
                                "bias_correction", "use_gc", "exclude_1d", "eps_inside_sqrt", "lr_in_buffer",
                                "fused")},
}


@each(ALL)
def test_bad_hyperparameters_raise_naming_the_argument(spec: Spec) -> None:
    taken = [k for k in BAD_VALUES if spec.accepts(k)]
    assert "lr" in taken
    for name in taken:
        with pytest.raises(ValueError) as err:
            spec.make(make_params(), **{name: BAD_VALUES[name]})
        assert name in str(err.value), f"{name}={BAD_VALUES[name]!r}: message does not name it: {err.value}"
    if spec.accepts("betas"):
        with pytest.raises(ValueError, match="betas"):
            spec.make(make_params(), betas=(0.9, -0.1))


# ----------------------------------------------------------------------------- LR schedulers
SCHED_SHAPES = [(3, 4), (5,)]


class _Scheduled:
    """Drives a torch scheduler and records the hyperparameters each step used."""

    def __init__(self, opt: torch.optim.Optimizer, kind: str) -> None:
        self.opt, self.sched, self.used = opt, SCHEDULERS[kind](opt), []

    def pre(self, t: int) -> None:
        group = self.opt.param_groups[0]
        self.used.append({k: group[k] for k in ("lr", "momentum", "betas") if k in group})

    def post(self, t: int) -> None:
        self.sched.step()


class _Replayed:
    """Sets given hyperparameters by hand before each step."""

    def __init__(self, opt: torch.optim.Optimizer, used: list[dict]) -> None:
        self.opt, self.used = opt, used

    def pre(self, t: int) -> None:
        for group in self.opt.param_groups:
            group.update(self.used[t])

    def post(self, t: int) -> None:
        pass


def _run_hooked(spec: Spec, hook_for, seed: int = 7) -> tuple[list[torch.Tensor], object]:  # type: ignore[no-untyped-def]
    params = make_params(seed=seed, shapes=SCHED_SHAPES)
    opt = spec.make(params, lr=spec.lr)
    hook = hook_for(opt)
    for t, g in enumerate(grad_stream(5, SCHED_SHAPES, 12)):
        hook.pre(t)
        set_grads(params, g)
        step(opt, spec, t)
        hook.post(t)
    return params, hook


def _one_cycle(opt: torch.optim.Optimizer) -> torch.optim.lr_scheduler.OneCycleLR:
    group = opt.param_groups[0]       # a group with momentum or betas must be cyclable (torch's default)
    cycles = "momentum" in group or "betas" in group
    return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=12, cycle_momentum=cycles)


SCHEDULERS = {
    "step": lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.3),
    "cosine": lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=1e-4),
    "onecycle": _one_cycle,
}


@each(WITH_LOOKAHEAD)
@pytest.mark.parametrize("kind", list(SCHEDULERS))
def test_lr_schedulers_drive_the_step(spec: Spec, kind: str) -> None:
    scheduled, recorder = _run_hooked(spec, lambda o: _Scheduled(o, kind))
    used = recorder.used  # type: ignore[attr-defined]
    assert len({u["lr"] for u in used}) > 2, "the scheduler did not change lr"
    replayed, _ = _run_hooked(spec, lambda o: _Replayed(o, used))
    assert_same_params(scheduled, replayed, exact=False, what=f"{kind}: scheduler vs the same lr set by hand")
    constant, _ = _run_hooked(spec, lambda o: _Replayed(o, [{**u, "lr": used[0]["lr"]} for u in used]))
    assert any(not torch.allclose(a, b) for a, b in zip(scheduled, constant)), "the scheduled lr was not used"
    key = next((k for k in ("momentum", "betas") if k in used[0]), None)
    if kind != "onecycle" or key is None:
        return
    momenta = [u[key][0] if key == "betas" else u[key] for u in used]
    assert max(momenta) - min(momenta) > 0.05, f"OneCycleLR did not cycle {key}"
    fixed, _ = _run_hooked(spec, lambda o: _Replayed(o, [{**u, key: used[0][key]} for u in used]))
    assert any(not torch.allclose(a, b) for a, b in zip(scheduled, fixed)), \
        f"the cycled {key} made no difference: the optimizer ignores param_groups[...]['{key}']"


# ----------------------------------------------------------------------------- dtypes, problems
@each(ALL)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["float32", "bfloat16"])
def test_low_precision_runs_and_descends(spec: Spec, dtype: torch.dtype) -> None:
    params = make_params(seed=8, dtype=dtype)
    opt = spec.make(params, lr=spec.lr)
    losses = minimize(opt, spec, params, lambda: quadratic(params), 60)
    assert all(p.dtype == dtype for p in params)
    assert all(bool(torch.isfinite(p).all()) for p in params) and math.isfinite(losses[-1])
    for state in opt.state.values():
        assert all(bool(torch.isfinite(v).all()) for v in state.values() if isinstance(v, torch.Tensor))
    if dtype == torch.float32:
        assert losses[-1] < 0.5 * losses[0], f"float32 quadratic: {losses[0]:.4g} -> {losses[-1]:.4g}"
    else:
        assert losses[-1] != losses[0]


@each(ALL)
def test_converges_on_a_quadratic(spec: Spec) -> None:
    params = make_params(seed=9)
    opt = spec.make(params, lr=spec.lr)
    losses = minimize(opt, spec, params, lambda: quadratic(params), QUAD_STEPS)
    assert losses[-1] < 1e-2 * losses[0], f"quadratic: {losses[0]:.4g} -> {losses[-1]:.4g}"


@pytest.mark.slow
@each(ALL)
def test_converges_on_rosenbrock(spec: Spec) -> None:
    xy = torch.tensor([0.0, 0.0], dtype=torch.float64, requires_grad=True)
    opt = spec.make([xy], **{"lr": spec.rosen_lr, **spec.rosen_kwargs})
    losses = minimize(opt, spec, [xy], lambda: rosenbrock(xy), spec.rosen_steps)
    distance = float((xy.detach() - 1).norm())
    assert losses[-1] < 0.1 and distance < 0.1, f"ended at {xy.tolist()}, f = {losses[-1]:.4g}"


@each(ALL)
def test_maximize_ascends(spec: Spec) -> None:
    params = make_params(seed=10)
    opt = spec.make(params, lr=spec.lr, maximize=True, **spec.maximize_kwargs)
    gains = minimize(opt, spec, params, lambda: 100.0 - quadratic(params), 100)  # concave, max 100 at the centres
    assert gains[-1] > gains[0] + 0.9 * (100.0 - gains[0]), f"maximize: {gains[0]:.4g} -> {gains[-1]:.4g}"


# ----------------------------------------------------------------------------- complex, big tensors
@each(ALL)
def test_complex_parameters_behave_as_real_pairs(spec: Spec) -> None:
    gen = torch.Generator().manual_seed(11)
    z = torch.randn(6, 2, generator=gen, dtype=torch.complex128).requires_grad_()
    r = torch.view_as_real(z.detach()).clone().requires_grad_()           # (6, 2, 2)
    opt = spec.make([z], lr=spec.lr)
    grads = [torch.randn(6, 2, generator=gen, dtype=torch.complex128) for _ in range(8)]
    z.grad = grads[0].clone()
    step(opt, spec, 0)
    twin = spec.make([r], lr=spec.lr)
    r.grad = torch.view_as_real(grads[0]).clone()
    step(twin, spec, 0)
    for t, g in enumerate(grads[1:], start=1):
        z.grad, r.grad = g.clone(), torch.view_as_real(g).clone()
        step(opt, spec, t)
        step(twin, spec, t)
        torch.testing.assert_close(torch.view_as_real(z.detach()), r.detach(), rtol=1e-12, atol=1e-14)


def _run_flat(spec: Spec, sizes: list[int], hp: dict, steps: int = 6) -> torch.Tensor:
    """Run on parameters of ``sizes`` (pieces of one seeded flat vector); return the concatenated result."""
    gen = torch.Generator().manual_seed(12)
    total = sum(sizes)
    init = torch.randn(total, generator=gen, dtype=torch.float64)
    stream = [torch.randn(total, generator=gen, dtype=torch.float64) for _ in range(steps)]
    params = [x.clone().requires_grad_() for x in init.split(sizes)]
    opt = spec.make(params, lr=spec.lr, **hp)
    for t, g in enumerate(stream):
        set_grads(params, list(g.split(sizes)))
        step(opt, spec, t)
    return torch.cat([p.detach() for p in params])


@each(ALL)
def test_big_tensor_path_equals_many_small_tensors(spec: Spec, monkeypatch: pytest.MonkeyPatch) -> None:
    # Thresholds scaled down (same code paths, a fraction of the time): many chunks and blocks.
    monkeypatch.setattr(T, "BIG_TENSOR_NUMEL", 4096)
    monkeypatch.setattr(T, "CHUNK_NUMEL", 1000)
    big = 2 * T.BIG_TENSOR_NUMEL + 1237                  # chunked path, with a ragged last chunk
    for hp in code_paths(spec):
        one = _run_flat(spec, [big], hp)
        cls = optimizer_class(spec)                     # per-layer norms, per-tensor math: pieces differ
        if not (getattr(cls.rule, "rows", False) or getattr(cls, "per_tensor", False)):
            pieces = [100] * (big // 100) + [big % 100]      # all below BIG_TENSOR_NUMEL: one packed buffer
            torch.testing.assert_close(one, _run_flat(spec, pieces, hp), rtol=1e-13, atol=1e-15)
        mixed = [big, 7, T.BIG_TENSOR_NUMEL, 300]
        default = _run_flat(spec, mixed, hp)
        with monkeypatch.context() as patch:           # the same tensors, all in one packed buffer
            patch.setattr(T, "BIG_TENSOR_NUMEL", 1 << 40)
            forced = _run_flat(spec, mixed, hp)
        torch.testing.assert_close(default, forced, rtol=1e-13, atol=1e-15)
