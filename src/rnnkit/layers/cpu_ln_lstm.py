"""The CPU engine's step for the layer-normalised LSTM (``ln-lstm``), forward and backward.

Dimension legend as in ``cpu_steps``: n rows alive at this step, H hidden units, 4 gate blocks i, f, g, o.
The input's half ``xp = g_ih * N(W_ih x) + b_ih + b_hh`` comes precomputed for all steps (``cpu_engine``);
a step normalises each gate block of ``m = W_hh h_{t-1}`` with ``torch.native_layer_norm`` (which also
returns the mean and 1/std its backward needs) and the memory cell with the cell's gain and bias:

    a = xp_t + g_hh * N(m)      i, f, o = σ(a_i, a_f, a_o)   g = tanh(a_g)
    c_t = f c_{t-1} + i g       y = g_c * N(c_t) + b_c       h_t = o tanh(y)
"""

from __future__ import annotations

import torch

from rnnkit.cells.ln_lstm import EPS
from rnnkit.layers.cpu_recurrence import Step
from rnnkit.layers.cpu_steps import big, sigmoid_grad, tanh_grad, tanh_into

layer_norm_grad = torch.ops.aten.native_layer_norm_backward


class LayerNormLSTMStep(Step):
    has_c = True
    gates = 4

    def __init__(self, cell, xp, h0, c0, params):
        super().__init__(cell, xp, h0, c0, params)
        T, B, H = self.T, self.B, self.H
        self.w_t, self.g_hh, self.g_c, self.b_c = params[0].t(), *params[1:]
        self.acts = torch.empty_like(xp)  # (T, B, 4H): the gates' activations
        self.ms = torch.empty_like(xp)  # (T, B, 4H): W_hh h_{t-1}
        self.mean_m, self.rstd_m = xp.new_empty(T, B, 4, 1), xp.new_empty(T, B, 4, 1)  # of each gate block of m
        self.mean_c, self.rstd_c = xp.new_empty(T, B, 1), xp.new_empty(T, B, 1)  # of c_t
        self.tys = torch.empty_like(self.hs[1:])  # (T, B, H): tanh(y_t)
        self.dead_rows += [self.ms, self.mean_m, self.rstd_m, self.mean_c, self.rstd_c]

    @staticmethod
    def params(cell):
        return (cell.weight_hh, cell.ln_gain_hh, cell.ln_gain_c, cell.ln_bias_c)

    def forward(self, t, n):
        H = self.H
        m = torch.mm(self.hs[t, :n], self.w_t, out=self.ms[t, :n])  # (n, 4H)
        nm, self.mean_m[t, :n], self.rstd_m[t, :n] = torch.native_layer_norm(m.view(n, 4, H), [H], None, None, EPS)
        a = torch.addcmul(self.xp[t, :n], self.g_hh, nm.view(n, 4 * H), out=self.acts[t, :n])
        g = a[:, 2 * H:3 * H]
        if big(g):  # tanh = 2 σ(2x) - 1: one sigmoid for the four gates (as the LSTM's step)
            g.mul_(2)
            a.sigmoid_()
            g.mul_(2).sub_(1)
        else:
            a[:, :2 * H].sigmoid_()
            a[:, 3 * H:].sigmoid_()
            g.tanh_()
        c = torch.mul(a[:, H:2 * H], self.cs[t, :n], out=self.cs[t + 1, :n]).addcmul_(a[:, :H], g)
        y, self.mean_c[t, :n], self.rstd_c[t, :n] = torch.native_layer_norm(c, [H], self.g_c, self.b_c, EPS)
        torch.mul(a[:, 3 * H:], tanh_into(y, self.tys[t, :n]), out=self.hs[t + 1, :n])

    def start_backward(self):
        super().start_backward()
        self.dys = torch.empty_like(self.hs[1:])  # (T, B, H): dL/dy_t
        self.dms = torch.empty_like(self.xp)  # (T, B, 4H): dL/dm_t
        self.dead_grad_rows += [self.dys, self.dms]

    def backward(self, t, n, dh, dc):
        H, a, d = self.H, self.acts[t, :n], self.dA[t, :n]
        i, f, g, o, ty, c_prev = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:], self.tys[t, :n], self.cs[t, :n]
        sigmoid_grad(dh * ty, o, grad_input=d[:, 3 * H:])
        dy = tanh_grad(dh * o, ty, grad_input=self.dys[t, :n])
        dc.add_(layer_norm_grad(dy, self.cs[t + 1, :n], [H], self.mean_c[t, :n], self.rstd_c[t, :n], self.g_c,
                                  self.b_c, [True, False, False])[0])  # dL/dc_t
        sigmoid_grad(dc * g, i, grad_input=d[:, :H])
        sigmoid_grad(dc * c_prev, f, grad_input=d[:, H:2 * H])
        tanh_grad(dc * i, g, grad_input=d[:, 2 * H:3 * H])
        dnm = (d * self.g_hh).view(n, 4, H)
        m = self.ms[t, :n].view(n, 4, H)
        dm = layer_norm_grad(dnm, m, [H], self.mean_m[t, :n], self.rstd_m[t, :n], None, None, [True, False, False])[0]
        self.dms[t, :n] = dm.view(n, 4 * H)
        return torch.mm(self.dms[t, :n], self.params[0], out=dh), dc.mul_(f)

    def grads(self):
        T, B, H = self.T, self.B, self.H
        dW = self.hh_weight_grad(self.dms, self.hs[:-1])
        # in place, in buffers the backward no longer needs (fresh ones would cost a pass of page faults)
        nm = self.ms.view(T, B, 4, H).sub_(self.mean_m).mul_(self.rstd_m).view(T, B, 4 * H)  # N(m_t)
        nc = torch.sub(self.cs[1:], self.mean_c, out=self.tys).mul_(self.rstd_c)  # N(c_t)
        return dW, nm.mul_(self.dA).sum((0, 1)), nc.mul_(self.dys).sum((0, 1)), self.dys.sum((0, 1))
