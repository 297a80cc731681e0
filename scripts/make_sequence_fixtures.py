#!/usr/bin/env python3
"""Writes the PyTorch fixtures of the sequence layers for the BackpropNN tests (issue #22).

Each file in Tests/BackpropNNTests/Fixtures/sequence/ holds, in float32:
- the module's state_dict under PyTorch's own names (so the test loads it by name, as a user would);
- its inputs (`input.*`), its outputs (`expected.*`) and, for a fixed scalar loss of the outputs
  (a sum of each output times a fixed random tensor, `loss.*`), the gradients with respect to every
  parameter and input (`grad.*`).

    python3 scripts/make_sequence_fixtures.py

Modules (torch.manual_seed(0) before each):
- rnn.safetensors:  nn.RNN(3, 4, num_layers=2, batch_first=True) (tanh), batch 2, 5 steps, given h0
- rnn_relu.safetensors: the same with nonlinearity='relu', no bias, one layer
- lstm.safetensors: nn.LSTM(3, 4, num_layers=2, batch_first=True), given (h0, c0)
- gru.safetensors:  nn.GRU(3, 4, num_layers=2, batch_first=True), given h0
- mha.safetensors: nn.MultiheadAttention(8, 2, batch_first=True), queries [2, 4, 8] attending to keys and
  values [2, 5, 8] with a key-padding mask (stored in PyTorch's float form: -inf at padding) and an additive
  mask; the output and the
  weights averaged over heads
- mha_causal.safetensors: the same module as self-attention over [2, 5, 8] with a causal mask
- transformer_block.safetensors: nn.TransformerEncoderLayer(8, 2, dim_feedforward=32, dropout=0,
  activation="gelu", batch_first=True, norm_first=True), causal, over [2, 5, 8]
- gelu.safetensors: gelu of 64 values in [-6, 6], exact and with approximate='tanh' (no parameters)
- char_transformer.safetensors, char_lstm.safetensors: the character language models of char_models.py
  (vocabulary 7; the Transformer with context 6, 2 layers, width 8, 2 heads; the LSTM with 2 layers of
  width 8), their logits for 2 rows of 6 tokens (`input.tokens`, as floats) and the gradients of a loss of them
"""
import os

import torch
from safetensors.torch import save_file

from char_models import CharRNN, CharTransformer

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "Tests", "BackpropNNTests", "Fixtures", "sequence")


def save(name, module, inputs, outputs, extra_grads=()):
    """Saves the state dict, the inputs, the outputs, and the gradients of sum(output * loss weight)."""
    tensors = {k: v.detach().contiguous() for k, v in module.state_dict().items()}
    loss = 0
    for key, value in outputs.items():
        weight = torch.randn(value.shape)
        tensors["loss." + key] = weight
        tensors["expected." + key] = value.detach().contiguous()
        loss = loss + (value * weight).sum()
    for key, value in inputs.items():
        tensors["input." + key] = value.detach().contiguous()
    parameters = dict(module.named_parameters())
    wrt = list(parameters.values()) + [v for v in inputs.values() if v.requires_grad]
    grads = torch.autograd.grad(loss, wrt)
    names = list(parameters.keys()) + ["input." + k for k, v in inputs.items() if v.requires_grad]
    for key, grad in zip(names, grads):
        tensors["grad." + key] = grad.contiguous()
    os.makedirs(FIXTURES, exist_ok=True)
    save_file(tensors, os.path.join(FIXTURES, name + ".safetensors"), metadata={"source": "make_sequence_fixtures.py"})
    print("wrote", os.path.normpath(os.path.join(FIXTURES, name + ".safetensors")))


def recurrent():
    nn = torch.nn
    for name, make, has_cell in [
        ("rnn", lambda: nn.RNN(3, 4, num_layers=2, batch_first=True), False),
        ("rnn_relu", lambda: nn.RNN(3, 4, num_layers=1, nonlinearity="relu", bias=False, batch_first=True), False),
        ("lstm", lambda: nn.LSTM(3, 4, num_layers=2, batch_first=True), True),
        ("gru", lambda: nn.GRU(3, 4, num_layers=2, batch_first=True), False),
    ]:
        torch.manual_seed(0)
        module = make()
        layers = module.num_layers
        x = torch.randn(2, 5, 3, requires_grad=True)
        h0 = torch.randn(layers, 2, 4, requires_grad=True)
        if has_cell:
            c0 = torch.randn(layers, 2, 4, requires_grad=True)
            output, (h_n, c_n) = module(x, (h0, c0))
            save(name, module, {"x": x, "h0": h0, "c0": c0}, {"output": output, "h_n": h_n, "c_n": c_n})
        else:
            output, h_n = module(x, h0)
            save(name, module, {"x": x, "h0": h0}, {"output": output, "h_n": h_n})


def attention():
    nn = torch.nn
    torch.manual_seed(0)
    module = nn.MultiheadAttention(8, 2, batch_first=True)
    with torch.no_grad():
        module.in_proj_bias.normal_(0, 0.5)  # non-zero biases, so the test sees them used
        module.out_proj.bias.normal_(0, 0.5)
    query = torch.randn(2, 4, 8, requires_grad=True)
    key = torch.randn(2, 5, 8, requires_grad=True)
    value = torch.randn(2, 5, 8, requires_grad=True)
    padding = torch.tensor([[False, False, False, True, True], [False, False, False, False, False]])
    additive = torch.randn(4, 5) * 0.5
    hidden = torch.zeros(2, 5).masked_fill(padding, float("-inf"))  # the float form of the boolean mask
    output, weights = module(query, key, value, key_padding_mask=hidden, attn_mask=additive)
    save("mha", module, {"query": query, "key": key, "value": value,
                         "key_padding_mask": hidden, "attention_mask": additive},
         {"output": output, "weights": weights})

    x = torch.randn(2, 5, 8, requires_grad=True)
    causal = nn.Transformer.generate_square_subsequent_mask(5)
    output, weights = module(x, x, x, attn_mask=causal, is_causal=True)
    save("mha_causal", module, {"x": x}, {"output": output, "weights": weights})


def transformer_block():
    nn = torch.nn
    torch.manual_seed(0)
    module = nn.TransformerEncoderLayer(8, 2, dim_feedforward=32, dropout=0.0, activation="gelu",
                                        batch_first=True, norm_first=True)
    with torch.no_grad():
        for norm in (module.norm1, module.norm2):  # LayerNorm weights away from 1 and biases away from 0
            norm.weight.normal_(1, 0.3)
            norm.bias.normal_(0, 0.3)
        module.self_attn.in_proj_bias.normal_(0, 0.3)
    module.eval()
    x = torch.randn(2, 5, 8, requires_grad=True)
    causal = nn.Transformer.generate_square_subsequent_mask(5)
    output = module(x, src_mask=causal, is_causal=True)
    save("transformer_block", module, {"x": x}, {"output": output})


def gelu():
    x = torch.linspace(-6, 6, 64, requires_grad=True)
    exact = torch.nn.functional.gelu(x)
    approximate = torch.nn.functional.gelu(x, approximate="tanh")
    save("gelu", torch.nn.Module(), {"x": x}, {"exact": exact, "tanh": approximate})


def language_models():
    tokens = torch.tensor([[0, 3, 6, 2, 2, 1], [5, 4, 0, 0, 1, 6]])
    for name, make in [("char_transformer", lambda: CharTransformer(7, context=6, layers=2, width=8, heads=2)),
                       ("char_lstm", lambda: CharRNN(7, "lstm", layers=2, width=8))]:
        torch.manual_seed(0)
        module = make()
        with torch.no_grad():  # biases and normalisations away from their initial 0 and 1
            for key, value in module.named_parameters():
                if value.dim() == 1:
                    value.add_(torch.randn_like(value) * 0.3)
        module.eval()
        save(name, module, {"tokens": tokens.float()}, {"logits": module(tokens)})


def main():
    recurrent()
    attention()
    transformer_block()
    gelu()
    language_models()


if __name__ == "__main__":
    main()
