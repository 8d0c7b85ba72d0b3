"""The CPU engine's per-cell steps, forward and backward, one class per cell (``cpu_recurrence`` runs them).

Dimension legend: n rows alive at this step (a prefix of the batch), H hidden units; ``xp[t]`` is the
input's part of the gates at step t (with every bias that enters the gates directly already added),
``hs[t]``/``cs[t]`` the state before step t. Each forward step does the recurrent GEMM into a saved
buffer and the cell's element-wise work in place on it; each backward step writes the gradients of the
pre-activations (``dA[t]``, the gradient of ``xp[t]``) and returns the element-wise parts of dL/dh_{t-1}
and dL/dc_{t-1} plus ``dA W_hh``. The equations are those of ``rnnkit.cells`` (each cell's docstring);
``sigmoid'`` and ``tanh'`` are written with the activation's output (``aten.sigmoid_backward``...).
"""

from __future__ import annotations

import torch

from rnnkit.cells import MTRNNCell
from rnnkit.layers.cpu_recurrence import Step

sigmoid_grad = torch.ops.aten.sigmoid_backward.grad_input  # (grad, y, grad_input=out): grad * y * (1 - y)
tanh_grad = torch.ops.aten.tanh_backward.grad_input  # (grad, y, grad_input=out): grad * (1 - y^2)

#: from this many elements up, tanh is computed as 2 σ(2x) - 1: torch's CPU tanh costs ~5 sigmoids (measured
#: with AVX-512, 8,192 floats: tanh 22 µs, sigmoid 4 µs, a multiply 1.7 µs), below it the 3 extra calls cost more
TANH_VIA_SIGMOID = 4096


def big(x: torch.Tensor) -> bool:
    return x.numel() >= TANH_VIA_SIGMOID


def tanh_(x: torch.Tensor) -> torch.Tensor:
    """tanh in place."""
    return x.mul_(2).sigmoid_().mul_(2).sub_(1) if big(x) else x.tanh_()


def tanh_into(x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """``out = tanh(x)``."""
    return torch.mul(x, 2, out=out).sigmoid_().mul_(2).sub_(1) if big(x) else torch.tanh(x, out=out)


def act_grad(name: str, grad: torch.Tensor, u: torch.Tensor, out: torch.Tensor) -> None:
    """d act / d pre * grad, written with the activation's output ``u``, into ``out``."""
    if name == "tanh":
        tanh_grad(grad, u, grad_input=out)
    elif name == "sigmoid":
        sigmoid_grad(grad, u, grad_input=out)
    elif name == "relu":
        torch.ops.aten.threshold_backward.grad_input(grad, u, 0.0, grad_input=out)  # u > 0 exactly where pre > 0
    else:
        raise ValueError(f"no CPU step for the activation {name!r}")


class ElmanStep(Step):
    """Elman: ``h_t = act(xp_t + W_hh h_{t-1})``; MTRNN: ``h_t = (1 - α) h_{t-1} + α u_t``, u_t that act, α = 1/τ."""

    def __init__(self, cell, xp, h0, c0, params, sizes):
        super().__init__(cell, xp, h0, c0, params, sizes)
        self.act, self.leaky = cell.activation, isinstance(cell, MTRNNCell)
        self.w_t = params[0].t()  # (H, H)
        if self.leaky:
            self.alpha = (1.0 / cell.tau).to(xp.dtype)  # (H,)
            self.us = torch.empty_like(xp)  # (T, B, H): u_t
        else:
            self.us = self.hs[1:]  # u_t is h_t

    def forward(self, t, n):
        u = torch.addmm(self.xp[t, :n], self.hs[t, :n], self.w_t, out=self.us[t, :n])
        tanh_(u) if self.act == "tanh" else getattr(u, self.act + "_")()
        if self.leaky:
            torch.lerp(self.hs[t, :n], u, self.alpha, out=self.hs[t + 1, :n])

    def backward(self, t, n, dh, dc):
        d = self.dA[t, :n]  # (n, H)
        act_grad(self.act, dh * self.alpha if self.leaky else dh, self.us[t, :n], d)
        if self.leaky:
            return torch.addmm(dh * (1 - self.alpha), d, self.params[0]), None
        return torch.mm(d, self.params[0], out=dh), None

    def grads(self):
        return (self.hh_weight_grad(self.dA, self.hs[:-1]),)


class SimpleLSTMStep(Step):
    """The course's simple LSTM: ``s_t = tanh(xp_t + W_hh h_{t-1})``, ``c_t = c_{t-1} + s_t``, ``h_t = tanh(c_t)``."""

    has_c = True

    def __init__(self, cell, xp, h0, c0, params, sizes):
        super().__init__(cell, xp, h0, c0, params, sizes)
        self.w_t, self.ss = params[0].t(), torch.empty_like(xp)  # (H, H), (T, B, H)

    def forward(self, t, n):
        s = tanh_(torch.addmm(self.xp[t, :n], self.hs[t, :n], self.w_t, out=self.ss[t, :n]))
        c = torch.add(self.cs[t, :n], s, out=self.cs[t + 1, :n])
        tanh_into(c, self.hs[t + 1, :n])

    def backward(self, t, n, dh, dc):
        dc.add_(tanh_grad(dh, self.hs[t + 1, :n], grad_input=torch.empty_like(dh)))  # dL/dc_t = dL/dc_{t-1}
        d = tanh_grad(dc, self.ss[t, :n], grad_input=self.dA[t, :n])
        return torch.mm(d, self.params[0], out=dh), dc

    def grads(self):
        return (self.hh_weight_grad(self.dA, self.hs[:-1]),)


class LSTMStep(Step):
    """The LSTM, its peephole and its coupled variant. Gate blocks i, f, g, o (coupled: f, g, o, i = 1 - f):

        i, f = σ(xp + W_hh h_{t-1} [+ w_ci c_{t-1}, w_cf c_{t-1}])      g = tanh(...)
        c_t = f c_{t-1} + i g          o = σ(... [+ w_co c_t])          h_t = o tanh(c_t)
    """

    has_c = True

    def __init__(self, cell, xp, h0, c0, params, sizes):
        super().__init__(cell, xp, h0, c0, params, sizes)
        self.peep, self.coupled = cell.peephole, cell.coupled
        H = self.H
        k = 1 if self.coupled else 2  # gates before g, all sigmoid: (f) or (i, f)
        self.sig, self.g, self.o = slice(0, k * H), slice(k * H, (k + 1) * H), slice((k + 1) * H, (k + 2) * H)
        self.f = slice(0, H) if self.coupled else slice(H, 2 * H)
        self.w_t = params[0].t()  # (H, G*H)
        if self.peep:
            self.w_in, self.w_co = torch.stack(params[1:-1]), params[-1]  # (k, H): w_ci, w_cf (or w_cf); (H,)
        self.acts = torch.empty_like(xp)  # (T, B, G*H): the gates' activations
        self.tcs = torch.empty_like(self.hs[1:])  # (T, B, H): tanh(c_t)
        each, acts, T, B = self.per_step, self.acts, self.T, self.B
        self.XP, self.A, self.HP, self.HN = each(xp), each(acts), each(self.hs), each(self.hs, 1)
        self.CP, self.CN, self.TC = each(self.cs), each(self.cs, 1), each(self.tcs)
        self.I, self.F, self.G, self.O = (each(acts[..., s]) for s in (slice(0, H), self.f, self.g, self.o))
        self.SIG, self.SIG_G = each(acts[..., self.sig]), each(acts[..., :self.g.stop])
        if self.peep:
            self.SIG3 = each(acts.view(T, B, -1, H)[:, :, :k])  # (n, k, H): the gates that see c_{t-1}
            self.CP3 = each(self.cs.unsqueeze(2))  # (n, 1, H): c_{t-1}

    @staticmethod
    def params(cell):
        names = ("w_cf", "w_co") if cell.coupled else ("w_ci", "w_cf", "w_co")
        return (cell.weight_hh, *(getattr(cell, n) for n in names)) if cell.peephole else (cell.weight_hh,)

    def forward(self, t, n):
        a = torch.addmm(self.XP[t], self.HP[t], self.w_t, out=self.A[t])  # (n, G*H)
        c_prev, c, g, f, o = self.CP[t], self.CN[t], self.G[t], self.F[t], self.O[t]
        if self.peep:  # i and f see c_{t-1}
            self.SIG3[t].addcmul_(self.CP3[t], self.w_in)
        if big(g):  # g = tanh(p_g) = 2 σ(2 p_g) - 1: one sigmoid for every gate that can take it now
            g.mul_(2)
            (self.SIG_G[t] if self.peep else a).sigmoid_()
            g.mul_(2).sub_(1)
        else:
            self.SIG[t].sigmoid_()
            g.tanh_()
        if self.coupled:  # c = f c_{t-1} + (1 - f) g
            torch.lerp(g, c_prev, f, out=c)
        else:
            torch.mul(f, c_prev, out=c).addcmul_(self.I[t], g)
        if self.peep:  # o sees c_t
            o.addcmul_(c, self.w_co).sigmoid_()
        elif not big(g):
            o.sigmoid_()
        torch.mul(o, tanh_into(c, self.TC[t]), out=self.HN[t])

    def start_backward(self):
        super().start_backward()
        each, dA = self.per_step, self.dA
        self.D, self.DI, self.DF, self.DG, self.DO = (each(dA[..., s]) for s in (slice(None), slice(0, self.H), self.f,
                                                                              self.g, self.o))

    def backward(self, t, n, dh, dc):
        g, f, o, tc, c_prev = self.G[t], self.F[t], self.O[t], self.TC[t], self.CP[t]
        dpo = sigmoid_grad(dh * tc, o, grad_input=self.DO[t])
        dc.add_(tanh_grad(dh * o, tc, grad_input=torch.empty_like(dh)))  # dL/dc_t
        if self.peep:
            dc.addcmul_(dpo, self.w_co)
        if self.coupled:  # df = dc (c_{t-1} - g), dg = dc (1 - f)
            dpf = sigmoid_grad(dc * (c_prev - g), f, grad_input=self.DF[t])
            tanh_grad(dc * (1 - f), g, grad_input=self.DG[t])
        else:
            i = self.I[t]
            dpi = sigmoid_grad(dc * g, i, grad_input=self.DI[t])
            dpf = sigmoid_grad(dc * c_prev, f, grad_input=self.DF[t])
            tanh_grad(dc * i, g, grad_input=self.DG[t])
        dc_prev = dc.mul_(f)
        if self.peep:
            dc_prev.addcmul_(dpf, self.w_in[-1])
            if not self.coupled:
                dc_prev.addcmul_(dpi, self.w_in[0])
        return torch.mm(self.D[t], self.params[0], out=dh), dc_prev

    def grads(self):
        dW = self.hh_weight_grad(self.dA, self.hs[:-1])
        if not self.peep:
            return (dW,)
        c_prev, c, tmp = self.cs[:-1], self.cs[1:], self.tcs  # tanh(c_t) is no longer needed: its buffer holds products
        gates = [(s, c_prev) for s in ([self.f] if self.coupled else [slice(0, self.H), self.f])] + [(self.o, c)]
        return (dW, *(torch.mul(self.dA[..., s], cell, out=tmp).sum((0, 1)) for s, cell in gates))


class GRUStep(Step):
    """The reset-after GRU (``gru``): a = W_hh h_{t-1} + b_hh, r, z = σ(xp + a), n = tanh(xp_n + r a_n),
    h_t = (1 - z) n + z h_{t-1}. ``b_hh`` is a parameter here: its n block is gated by r."""

    def __init__(self, cell, xp, h0, c0, params, sizes):
        super().__init__(cell, xp, h0, c0, params, sizes)
        self.w_t, self.b_hh = params[0].t(), params[1]
        self.acts, self.hh = torch.empty_like(xp), torch.empty_like(xp)  # (T, B, 3H): r, z, n; W_hh h + b_hh

    @staticmethod
    def params(cell):
        return (cell.weight_hh, cell.bias_hh)

    def forward(self, t, n):
        H, xp, a = self.H, self.xp[t, :n], self.acts[t, :n]
        hh = torch.addmm(self.b_hh, self.hs[t, :n], self.w_t, out=self.hh[t, :n])
        torch.add(xp[:, :2 * H], hh[:, :2 * H], out=a[:, :2 * H]).sigmoid_()
        cand = tanh_(torch.addcmul(xp[:, 2 * H:], a[:, :H], hh[:, 2 * H:], out=a[:, 2 * H:]))
        torch.lerp(cand, self.hs[t, :n], a[:, H:2 * H], out=self.hs[t + 1, :n])

    def start_backward(self):
        super().start_backward()
        self.dhn = torch.empty_like(self.hs[1:])  # (T, B, H): the gradient of a_n (the xp_n one, times r)
        self.dead_grad_rows.append(self.dhn)

    def backward(self, t, n, dh, dc):
        H, a, d, W = self.H, self.acts[t, :n], self.dA[t, :n], self.params[0]
        r, z, cand, h_prev = a[:, :H], a[:, H:2 * H], a[:, 2 * H:], self.hs[t, :n]
        sigmoid_grad(dh * (h_prev - cand), z, grad_input=d[:, H:2 * H])
        dpn = tanh_grad(dh * (1 - z), cand, grad_input=d[:, 2 * H:])
        sigmoid_grad(dpn * self.hh[t, :n, 2 * H:], r, grad_input=d[:, :H])
        dhn = torch.mul(dpn, r, out=self.dhn[t, :n])
        return (dh * z).addmm_(d[:, :2 * H], W[:2 * H]).addmm_(dhn, W[2 * H:]), None

    def grads(self):
        rz, h_prev = self.dA[..., :2 * self.H], self.hs[:-1]
        dW = torch.cat([self.hh_weight_grad(rz, h_prev), self.hh_weight_grad(self.dhn, h_prev)])
        return dW, torch.cat([rz.sum((0, 1)), self.dhn.sum((0, 1))])


class GRUCourseStep(Step):
    """The course's GRU (``gru-course``): r, z = σ(xp + W_h{r,z} h_{t-1}), n = tanh(xp_n + W_hn (r h_{t-1})),
    h_t = (1 - z) n + z h_{t-1}: two GEMMs a step (the candidate's needs r), the same work as one."""

    def __init__(self, cell, xp, h0, c0, params, sizes):
        super().__init__(cell, xp, h0, c0, params, sizes)
        self.w_t = params[0].t()  # (H, 3H)
        self.acts, self.rhs = torch.empty_like(xp), torch.empty_like(self.hs[1:])  # (T, B, 3H), (T, B, H): r h
        self.dead_rows.append(self.rhs)

    def forward(self, t, n):
        H, xp, a, h_prev = self.H, self.xp[t, :n], self.acts[t, :n], self.hs[t, :n]
        torch.addmm(xp[:, :2 * H], h_prev, self.w_t[:, :2 * H], out=a[:, :2 * H]).sigmoid_()
        rh = torch.mul(a[:, :H], h_prev, out=self.rhs[t, :n])
        cand = tanh_(torch.addmm(xp[:, 2 * H:], rh, self.w_t[:, 2 * H:], out=a[:, 2 * H:]))
        torch.lerp(cand, h_prev, a[:, H:2 * H], out=self.hs[t + 1, :n])

    def backward(self, t, n, dh, dc):
        H, a, d, W = self.H, self.acts[t, :n], self.dA[t, :n], self.params[0]
        r, z, cand, h_prev = a[:, :H], a[:, H:2 * H], a[:, 2 * H:], self.hs[t, :n]
        sigmoid_grad(dh * (h_prev - cand), z, grad_input=d[:, H:2 * H])
        dpn = tanh_grad(dh * (1 - z), cand, grad_input=d[:, 2 * H:])
        drh = torch.mm(dpn, W[2 * H:])  # dL/d(r h_{t-1})
        sigmoid_grad(drh * h_prev, r, grad_input=d[:, :H])
        return (dh * z).addcmul_(drh, r).addmm_(d[:, :2 * H], W[:2 * H]), None

    def grads(self):
        H = self.H
        return (torch.cat([self.hh_weight_grad(self.dA[..., :2 * H], self.hs[:-1]),
                           self.hh_weight_grad(self.dA[..., 2 * H:], self.rhs)]),)
