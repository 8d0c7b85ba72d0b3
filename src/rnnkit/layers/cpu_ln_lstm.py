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

    def __init__(self, cell, xp, h0, c0, params, sizes):
        super().__init__(cell, xp, h0, c0, params, sizes)
        T, B, H = self.T, self.B, self.H
        self.w_t, self.g_hh, self.g_c, self.b_c = params[0].t(), *params[1:]
        self.acts = torch.empty_like(xp)  # (T, B, 4H): the gates' activations
        self.ms = torch.empty_like(xp)  # (T, B, 4H): W_hh h_{t-1}
        self.mean_m, self.rstd_m = xp.new_empty(T, B, 4, 1), xp.new_empty(T, B, 4, 1)  # of each gate block of m
        self.mean_c, self.rstd_c = xp.new_empty(T, B, 1), xp.new_empty(T, B, 1)  # of c_t
        self.tys = torch.empty_like(self.hs[1:])  # (T, B, H): tanh(y_t)
        self.dead_rows += [self.ms, self.mean_m, self.rstd_m, self.mean_c, self.rstd_c]
        each, acts = self.per_step, self.acts
        self.XP, self.A, self.M, self.HP, self.HN = each(xp), each(acts), each(self.ms), each(self.hs), each(self.hs, 1)
        self.CP, self.CN, self.TY = each(self.cs), each(self.cs, 1), each(self.tys)
        self.MEAN_M, self.RSTD_M, self.MEAN_C, self.RSTD_C = (each(b) for b in (self.mean_m, self.rstd_m, self.mean_c,
                                                                                self.rstd_c))
        self.I, self.F, self.G, self.O = (each(acts[..., k * H:(k + 1) * H]) for k in range(4))
        self.IF = each(acts[..., :2 * H])

    @staticmethod
    def params(cell):
        return (cell.weight_hh, cell.ln_gain_hh, cell.ln_gain_c, cell.ln_bias_c)

    def forward(self, t, n):
        H = self.H
        m = torch.mm(self.HP[t], self.w_t, out=self.M[t])  # (n, 4H)
        nm, mean, rstd = torch.native_layer_norm(m.view(n, 4, H), [H], None, None, EPS)
        self.MEAN_M[t].copy_(mean)
        self.RSTD_M[t].copy_(rstd)
        a = torch.addcmul(self.XP[t], self.g_hh, nm.view(n, 4 * H), out=self.A[t])
        g, o = self.G[t], self.O[t]
        if big(g):  # tanh = 2 σ(2x) - 1: one sigmoid for the four gates (as the LSTM's step)
            g.mul_(2)
            a.sigmoid_()
            g.mul_(2).sub_(1)
        else:
            self.IF[t].sigmoid_()
            o.sigmoid_()
            g.tanh_()
        c = torch.mul(self.F[t], self.CP[t], out=self.CN[t]).addcmul_(self.I[t], g)
        y, mean, rstd = torch.native_layer_norm(c, [H], self.g_c, self.b_c, EPS)
        self.MEAN_C[t].copy_(mean)
        self.RSTD_C[t].copy_(rstd)
        torch.mul(o, tanh_into(y, self.TY[t]), out=self.HN[t])

    def start_backward(self):
        super().start_backward()
        self.dys = torch.empty_like(self.hs[1:])  # (T, B, H): dL/dy_t
        self.dms = torch.empty_like(self.xp)  # (T, B, 4H): dL/dm_t
        self.dead_grad_rows += [self.dys, self.dms]
        each, dA, H = self.per_step, self.dA, self.H
        self.D, self.DY, self.DM = each(dA), each(self.dys), each(self.dms)
        self.DI, self.DF, self.DG, self.DO = (each(dA[..., k * H:(k + 1) * H]) for k in range(4))

    def backward(self, t, n, dh, dc):
        H = self.H
        i, f, g, o, ty, c_prev = self.I[t], self.F[t], self.G[t], self.O[t], self.TY[t], self.CP[t]
        sigmoid_grad(dh * ty, o, grad_input=self.DO[t])
        dy = tanh_grad(dh * o, ty, grad_input=self.DY[t])
        dc.add_(layer_norm_grad(dy, self.CN[t], [H], self.MEAN_C[t], self.RSTD_C[t], self.g_c, self.b_c,
                                [True, False, False])[0])  # dL/dc_t
        sigmoid_grad(dc * g, i, grad_input=self.DI[t])
        sigmoid_grad(dc * c_prev, f, grad_input=self.DF[t])
        tanh_grad(dc * i, g, grad_input=self.DG[t])
        dnm = (self.D[t] * self.g_hh).view(n, 4, H)
        dm = layer_norm_grad(dnm, self.M[t].view(n, 4, H), [H], self.MEAN_M[t], self.RSTD_M[t], None, None,
                             [True, False, False])[0]
        dm = self.DM[t].copy_(dm.view(n, 4 * H))
        return torch.mm(dm, self.params[0], out=dh), dc.mul_(f)

    def grads(self):
        T, B, H = self.T, self.B, self.H
        dW = self.hh_weight_grad(self.dms, self.hs[:-1])
        # in place, in buffers the backward no longer needs (fresh ones would cost a pass of page faults)
        nm = self.ms.view(T, B, 4, H).sub_(self.mean_m).mul_(self.rstd_m).view(T, B, 4 * H)  # N(m_t)
        nc = torch.sub(self.cs[1:], self.mean_c, out=self.tys).mul_(self.rstd_c)  # N(c_t)
        return dW, nm.mul_(self.dA).sum((0, 1)), nc.mul_(self.dys).sum((0, 1)), self.dys.sum((0, 1))
