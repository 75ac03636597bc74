#!/usr/bin/env python3
"""Writes small TorchScript models, as a PyTorch user would export them, for the CLI tests of
`mlc register --artifact`.

Usage: make_torchscript.py OUT.pt [OUT2.pt ...] [--features N] [--classes N] [--two-inputs]

Each file is a different model (seeded by its position), a linear classifier from N features
(default 4) to N classes (default 3); --two-inputs gives forward(x, y).
"""
import argparse

import torch


class Linear(torch.nn.Module):
    def __init__(self, features, classes):
        super().__init__()
        self.fc = torch.nn.Linear(features, classes)

    def forward(self, x):
        return self.fc(x)


class TwoInputs(torch.nn.Module):
    def __init__(self, features, classes):
        super().__init__()
        self.fc = torch.nn.Linear(features, classes)

    def forward(self, x, y):
        return self.fc(x + y)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out", nargs="+")
    parser.add_argument("--features", type=int, default=4)
    parser.add_argument("--classes", type=int, default=3)
    parser.add_argument("--two-inputs", action="store_true")
    args = parser.parse_args()
    for seed, out in enumerate(args.out):
        torch.manual_seed(seed)
        kind = TwoInputs if args.two_inputs else Linear
        torch.jit.script(kind(args.features, args.classes)).save(out)


if __name__ == "__main__":
    main()
