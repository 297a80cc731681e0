"""The character language models of Backprop's `LanguageModelKind` written in PyTorch, with the same parameter
names, so a state_dict moves between the two by name (used by make_sequence_fixtures.py and peers_language.py).

- CharTransformer: token_embedding, position_embedding (an nn.Embedding over positions), blocks.N
  (nn.TransformerEncoderLayer(width, heads, 4*width, dropout, activation="gelu", batch_first=True,
  norm_first=True), masked causally), norm (nn.LayerNorm), head (nn.Linear).
- CharRNN: embedding, rnn (nn.LSTM / nn.GRU / nn.RNN, batch_first, `layers` layers), head.

`init_like_backprop` draws the initial weights from the same distributions as Backprop's
`TransformerLanguageModel` (GPT-2's: N(0, 0.02) with the residual projections scaled by 1/sqrt(2 layers),
zero biases); the recurrent models keep PyTorch's defaults, as Backprop's `RecurrentLanguageModel` does.
"""
import math

import torch
from torch import nn


class CharTransformer(nn.Module):
    def __init__(self, vocabulary, context=64, layers=2, width=128, heads=4, dropout=0.0):
        super().__init__()
        self.context = context
        self.token_embedding = nn.Embedding(vocabulary, width)
        self.position_embedding = nn.Embedding(context, width)
        self.blocks = nn.ModuleList([
            nn.TransformerEncoderLayer(width, heads, 4 * width, dropout, activation="gelu", batch_first=True,
                                       norm_first=True)
            for _ in range(layers)])
        self.dropout = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocabulary)

    def forward(self, tokens):
        steps = tokens.shape[1]
        x = self.token_embedding(tokens) + self.position_embedding(torch.arange(steps, device=tokens.device))
        x = self.dropout(x)
        mask = nn.Transformer.generate_square_subsequent_mask(steps, device=tokens.device)
        for block in self.blocks:
            x = block(x, src_mask=mask, is_causal=True)
        return self.head(self.norm(x))


class CharRNN(nn.Module):
    def __init__(self, vocabulary, kind="lstm", layers=2, width=256, dropout=0.0):
        super().__init__()
        self.embedding = nn.Embedding(vocabulary, width)
        cell = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[kind]
        self.rnn = cell(width, width, num_layers=layers, batch_first=True, dropout=dropout)
        self.head = nn.Linear(width, vocabulary)

    def forward(self, tokens):
        output, _ = self.rnn(self.embedding(tokens))
        return self.head(output)


def init_like_backprop(model):
    """GPT-2's initialisation for CharTransformer (as Backprop's TransformerLanguageModel); nothing for CharRNN."""
    if not isinstance(model, CharTransformer):
        return model
    residual = 0.02 / math.sqrt(2 * len(model.blocks))
    with torch.no_grad():
        nn.init.normal_(model.token_embedding.weight, 0, 0.02)
        nn.init.normal_(model.position_embedding.weight, 0, 0.02)
        for block in model.blocks:
            nn.init.normal_(block.self_attn.in_proj_weight, 0, 0.02)
            nn.init.zeros_(block.self_attn.in_proj_bias)
            nn.init.normal_(block.self_attn.out_proj.weight, 0, residual)
            nn.init.zeros_(block.self_attn.out_proj.bias)
            nn.init.normal_(block.linear1.weight, 0, 0.02)
            nn.init.zeros_(block.linear1.bias)
            nn.init.normal_(block.linear2.weight, 0, residual)
            nn.init.zeros_(block.linear2.bias)
        nn.init.normal_(model.head.weight, 0, 0.02)
        nn.init.zeros_(model.head.bias)
    return model
