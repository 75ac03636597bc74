#include "recurrent_layers.hpp"

#include <torch/csrc/autograd/custom_function.h>

namespace mlc::compute {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::Variable;
using torch::autograd::variable_list;

// The input's gate pre-activations for all steps at once: [steps, batch, gates].
torch::Tensor input_gates(const torch::Tensor& x, const torch::Tensor& w_ih, const torch::Tensor& bias) {
  const int64_t steps = x.size(0);
  const int64_t batch = x.size(1);
  return torch::addmm(bias, x.reshape({steps * batch, x.size(2)}), w_ih.t()).view({steps, batch, w_ih.size(0)});
}

// The gradients every layer returns from the gates' gradients [steps, batch, gates]: for x (when
// it needs one), w_ih and the input-side bias; and w_hh from the hidden states before each step.
struct GateGradients {
  torch::Tensor x, w_ih, b_ih, w_hh, b_hh;
};

GateGradients gate_gradients(const torch::Tensor& x, const torch::Tensor& w_ih, const torch::Tensor& w_hh,
                             const torch::Tensor& d_input_gates, const torch::Tensor& d_hidden_gates,
                             const torch::Tensor& previous, bool x_needs_grad) {
  const int64_t rows = x.size(0) * x.size(1);
  const torch::Tensor d_in = d_input_gates.view({rows, w_ih.size(0)});
  const torch::Tensor d_hid = d_hidden_gates.view({rows, w_hh.size(0)});
  GateGradients grads;
  grads.w_ih = torch::mm(d_in.t(), x.reshape({rows, x.size(2)}));
  grads.b_ih = d_in.sum(0);
  grads.w_hh = torch::mm(d_hid.t(), previous.reshape({rows, w_hh.size(1)}));
  grads.b_hh = d_hid.sum(0);
  if (x_needs_grad) grads.x = torch::mm(d_in, w_ih).view(x.sizes());
  return grads;
}

struct LstmLayer : public torch::autograd::Function<LstmLayer> {
  static Variable forward(AutogradContext* ctx, const Variable& x, const Variable& w_ih, const Variable& w_hh,
                          const Variable& b_ih, const Variable& b_hh) {
    const int64_t steps = x.size(0);
    const int64_t batch = x.size(1);
    const int64_t hidden = w_hh.size(1);
    // Pre-activations, then in place each step's i, f, g, o.
    const torch::Tensor gates = input_gates(x, w_ih, b_ih + b_hh);
    const torch::Tensor states = torch::zeros({steps + 1, batch, hidden});  // h before each step
    const torch::Tensor cells = torch::zeros({steps + 1, batch, hidden});   // c likewise
    const torch::Tensor cell_tanh = torch::empty({steps, batch, hidden});
    for (int64_t t = 0; t < steps; ++t) {
      torch::Tensor g = gates[t];
      g.addmm_(states[t], w_hh.t());
      g.narrow(1, 0, 2 * hidden).sigmoid_();
      g.narrow(1, 2 * hidden, hidden).tanh_();
      g.narrow(1, 3 * hidden, hidden).sigmoid_();
      const float* gate = g.data_ptr<float>();
      const float* c_before = cells[t].data_ptr<float>();
      float* c = cells[t + 1].data_ptr<float>();
      for (int64_t b = 0; b < batch; ++b) {
        const float* row = gate + b * 4 * hidden;
        for (int64_t j = 0; j < hidden; ++j) {
          const int64_t k = b * hidden + j;
          c[k] = row[hidden + j] * c_before[k] + row[j] * row[2 * hidden + j];
        }
      }
      torch::Tensor tanh_of_c = cell_tanh[t];
      torch::tanh_out(tanh_of_c, cells[t + 1]);
      const float* tc = tanh_of_c.data_ptr<float>();
      float* h = states[t + 1].data_ptr<float>();
      for (int64_t b = 0; b < batch; ++b) {
        const float* out_gate = gate + b * 4 * hidden + 3 * hidden;
        for (int64_t j = 0; j < hidden; ++j) h[b * hidden + j] = out_gate[j] * tc[b * hidden + j];
      }
    }
    ctx->save_for_backward({x, w_ih, w_hh, gates, states, cells, cell_tanh});
    return states.narrow(0, 1, steps);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const variable_list saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &w_ih = saved[1], &w_hh = saved[2], &gates = saved[3], &states = saved[4],
                        &cells = saved[5], &cell_tanh = saved[6];
    const int64_t steps = x.size(0);
    const int64_t batch = x.size(1);
    const int64_t hidden = w_hh.size(1);
    const torch::Tensor grad_out = grad_outputs[0].contiguous();
    const torch::Tensor d_gates = torch::empty_like(gates);
    torch::Tensor dh = torch::zeros({batch, hidden});
    const torch::Tensor dc = torch::zeros({batch, hidden});
    float* dc_data = dc.data_ptr<float>();
    for (int64_t t = steps - 1; t >= 0; --t) {
      const float* gate = gates[t].data_ptr<float>();
      const float* c_before = cells[t].data_ptr<float>();
      const float* tc = cell_tanh[t].data_ptr<float>();
      const float* go = grad_out[t].data_ptr<float>();
      const float* dh_data = dh.data_ptr<float>();
      float* d = d_gates[t].data_ptr<float>();
      for (int64_t b = 0; b < batch; ++b) {
        const float* row = gate + b * 4 * hidden;
        float* d_row = d + b * 4 * hidden;
        for (int64_t j = 0; j < hidden; ++j) {
          const int64_t k = b * hidden + j;
          const float i = row[j], f = row[hidden + j], g = row[2 * hidden + j], o = row[3 * hidden + j];
          const float dh_k = dh_data[k] + go[k];
          const float dc_k = dc_data[k] + dh_k * o * (1 - tc[k] * tc[k]);
          d_row[j] = dc_k * g * i * (1 - i);
          d_row[hidden + j] = dc_k * c_before[k] * f * (1 - f);
          d_row[2 * hidden + j] = dc_k * i * (1 - g * g);
          d_row[3 * hidden + j] = dh_k * tc[k] * o * (1 - o);
          dc_data[k] = dc_k * f;
        }
      }
      if (t > 0) dh = torch::mm(d_gates[t], w_hh);
    }
    const GateGradients grads =
        gate_gradients(x, w_ih, w_hh, d_gates, d_gates, states.narrow(0, 0, steps), ctx->needs_input_grad(0));
    return {grads.x, grads.w_ih, grads.w_hh, grads.b_ih, grads.b_hh};
  }
};

struct GruLayer : public torch::autograd::Function<GruLayer> {
  static Variable forward(AutogradContext* ctx, const Variable& x, const Variable& w_ih, const Variable& w_hh,
                          const Variable& b_ih, const Variable& b_hh) {
    const int64_t steps = x.size(0);
    const int64_t batch = x.size(1);
    const int64_t hidden = w_hh.size(1);
    const torch::Tensor x_gates = input_gates(x, w_ih, b_ih);
    const torch::Tensor h_gates = torch::empty({steps, batch, 3 * hidden});
    const torch::Tensor gates = torch::empty({steps, batch, 3 * hidden});  // r, z, n
    const torch::Tensor states = torch::zeros({steps + 1, batch, hidden});
    for (int64_t t = 0; t < steps; ++t) {
      torch::Tensor hg_t = h_gates[t];
      torch::addmm_out(hg_t, b_hh, states[t], w_hh.t());
      const float* xg = x_gates[t].data_ptr<float>();
      const float* hg = hg_t.data_ptr<float>();
      float* g = gates[t].data_ptr<float>();
      for (int64_t k = 0; k < batch * 3 * hidden; ++k) g[k] = xg[k] + hg[k];
      const torch::Tensor rz = gates[t].narrow(1, 0, 2 * hidden);
      rz.sigmoid_();
      for (int64_t b = 0; b < batch; ++b) {
        const int64_t row = b * 3 * hidden;
        for (int64_t j = 0; j < hidden; ++j) {
          g[row + 2 * hidden + j] = xg[row + 2 * hidden + j] + g[row + j] * hg[row + 2 * hidden + j];
        }
      }
      gates[t].narrow(1, 2 * hidden, hidden).tanh_();
      const float* h_before = states[t].data_ptr<float>();
      float* h = states[t + 1].data_ptr<float>();
      for (int64_t b = 0; b < batch; ++b) {
        const float* row = g + b * 3 * hidden;
        for (int64_t j = 0; j < hidden; ++j) {
          const int64_t k = b * hidden + j;
          const float n = row[2 * hidden + j];
          h[k] = n + row[hidden + j] * (h_before[k] - n);
        }
      }
    }
    ctx->save_for_backward({x, w_ih, w_hh, h_gates, gates, states});
    return states.narrow(0, 1, steps);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const variable_list saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &w_ih = saved[1], &w_hh = saved[2], &h_gates = saved[3], &gates = saved[4],
                        &states = saved[5];
    const int64_t steps = x.size(0);
    const int64_t batch = x.size(1);
    const int64_t hidden = w_hh.size(1);
    const torch::Tensor grad_out = grad_outputs[0].contiguous();
    const torch::Tensor d_x_gates = torch::empty_like(gates);
    const torch::Tensor d_h_gates = torch::empty_like(gates);
    torch::Tensor dh = torch::zeros({batch, hidden});
    for (int64_t t = steps - 1; t >= 0; --t) {
      const float* g = gates[t].data_ptr<float>();
      const float* hg = h_gates[t].data_ptr<float>();
      const float* h_before = states[t].data_ptr<float>();
      const float* go = grad_out[t].data_ptr<float>();
      float* dh_data = dh.data_ptr<float>();  // becomes the direct part of the next dh
      float* dxg = d_x_gates[t].data_ptr<float>();
      float* dhg = d_h_gates[t].data_ptr<float>();
      for (int64_t b = 0; b < batch; ++b) {
        const int64_t row = b * 3 * hidden;
        for (int64_t j = 0; j < hidden; ++j) {
          const int64_t k = b * hidden + j;
          const float r = g[row + j], z = g[row + hidden + j], n = g[row + 2 * hidden + j];
          const float dh_k = dh_data[k] + go[k];
          const float da_n = dh_k * (1 - z) * (1 - n * n);
          const float da_r = da_n * hg[row + 2 * hidden + j] * r * (1 - r);
          const float da_z = dh_k * (h_before[k] - n) * z * (1 - z);
          dxg[row + j] = dhg[row + j] = da_r;
          dxg[row + hidden + j] = dhg[row + hidden + j] = da_z;
          dxg[row + 2 * hidden + j] = da_n;
          dhg[row + 2 * hidden + j] = da_n * r;
          dh_data[k] = dh_k * z;
        }
      }
      if (t > 0) dh.addmm_(d_h_gates[t], w_hh);
    }
    const GateGradients grads =
        gate_gradients(x, w_ih, w_hh, d_x_gates, d_h_gates, states.narrow(0, 0, steps), ctx->needs_input_grad(0));
    return {grads.x, grads.w_ih, grads.w_hh, grads.b_ih, grads.b_hh};
  }
};

}  // namespace

torch::Tensor fused_lstm_layer(const torch::Tensor& x, const torch::Tensor& w_ih, const torch::Tensor& w_hh,
                               const torch::Tensor& b_ih, const torch::Tensor& b_hh) {
  return LstmLayer::apply(x, w_ih, w_hh, b_ih, b_hh);
}

torch::Tensor fused_gru_layer(const torch::Tensor& x, const torch::Tensor& w_ih, const torch::Tensor& w_hh,
                              const torch::Tensor& b_ih, const torch::Tensor& b_hh) {
  return GruLayer::apply(x, w_ih, w_hh, b_ih, b_hh);
}

}  // namespace mlc::compute
