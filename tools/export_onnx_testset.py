#!/usr/bin/env python3
"""Regenerate the weight-stripped ONNX test set in tests/data/onnx/.

THROWAWAY TOOL - documents how tests/data/onnx/ was produced.  It is NOT part
of the Tessera package and must never be imported by it (it needs torch,
which the project does not depend on).

Run it in a throwaway venv outside the repo, e.g.:

    python3.11 -m venv /tmp/torchvenv
    /tmp/torchvenv/bin/pip install torch==2.13.0 transformers onnx onnxscript
        (pin torch! the CPU wheel; unpinned `torch` pulls a multi-GB CUDA build;
         add `--find-links DIR` if the CPU wheel sits in a local directory)
    /tmp/torchvenv/bin/python tools/export_onnx_testset.py            # everything
    /tmp/torchvenv/bin/python tools/export_onnx_testset.py --only resnet18 hf_llama_decode

torchvision does not install beside the torch 2.13.0 CPU wheel, so `tv_swin_t` is exported
from a second venv (torch 2.14.1 with torchvision 0.29.1):

    python3.11 -m venv /tmp/tvvenv
    /tmp/tvvenv/bin/pip install torch==2.14.1 torchvision==0.29.1 onnx onnxscript
    /tmp/tvvenv/bin/python tools/export_onnx_testset.py --only tv_swin_t --no-bad

A run without --only skips the networks whose package is not installed and keeps their
manifest entries.

The CNNs and the first transformers (bert_base_2l ... llama_2l) are written in plain torch.nn
with standard layer configurations.  The hf_* networks are Hugging Face transformers models
built from their config classes (random weights, nothing downloaded), called through HFWrap;
the *_decode ones take a KV cache as past_key_values.<i>.key/.value inputs and return the
extended cache as present.<i>.key/.value.  tv_swin_t is torchvision's Swin-T.
Weights are random (seeded); only the graph structure and shapes matter.  Every network is
exported with the TorchScript exporter (dynamo=False, opset 17) and with the torch.export
exporter (dynamo=True, opset 18).  Weights are moved to an external-data file
that is then deleted, so only the graph protobuf is kept.  Integer tensors
and tensors < 1 KiB stay inline (shape subgraphs need them).

Reference MACs are counted with torch.utils.flop_counter.FlopCounterMode
(flops / 2) on the export input; for models that call
F.scaled_dot_product_attention the attention matmuls are added by hand if the
counter did not see them (and cross-checked against the same model run with
explicit matmul/softmax attention).  The hf_* models are counted on the same weights with
attn_implementation="eager" (explicit matmul attention), since the counter does not see
the sdpa kernel their exports trace.
"""
from __future__ import annotations

import argparse
import io
import json
import math
import os
import sys
import time
import traceback
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, external_data_helper, helper, numpy_helper
from torch.utils.flop_counter import FlopCounterMode

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, "tests", "data", "onnx")
INLINE_BYTES = 1024  # tensors smaller than this stay inside the .onnx file
INLINE_TYPES = {TensorProto.INT64, TensorProto.INT32, TensorProto.INT16, TensorProto.INT8,
                TensorProto.UINT8, TensorProto.BOOL}

# --------------------------------------------------------------------------
# Attention helper (explicit math or fused SDPA) + hand MAC accounting
# --------------------------------------------------------------------------
SDPA_HAND = {"macs": 0, "calls": []}


def attention(q, k, v, *, use_sdpa=False, mask=None, is_causal=False, scale=None):
    """q,k,v: (B, H, S, d).  mask is additive (broadcastable to B,H,S,S)."""
    d = q.shape[-1]
    scale = (1.0 / math.sqrt(d)) if scale is None else scale
    if use_sdpa:
        B, H, S, _ = q.shape  # only meaningful in eager runs; count_macs() resets it
        Sk = k.shape[-2]
        SDPA_HAND["macs"] += 2 * int(B) * int(H) * int(S) * int(Sk) * int(d)
        SDPA_HAND["calls"].append((int(B), int(H), int(S), int(Sk), int(d)))
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=is_causal, scale=scale)
    att = torch.matmul(q, k.transpose(-2, -1)) * scale
    if is_causal:
        S, Sk = q.shape[-2], k.shape[-2]
        causal = torch.ones(S, Sk, dtype=torch.bool, device=q.device).tril()
        att = att.masked_fill(~causal, float("-inf"))
    if mask is not None:
        att = att + mask
    att = torch.softmax(att, dim=-1)
    return torch.matmul(att, v)


# --------------------------------------------------------------------------
# CNNs
# --------------------------------------------------------------------------
def conv_bn(cin, cout, k, s=1, p=None, g=1, d=1, act=nn.ReLU):
    p = (k - 1) // 2 * d if p is None else p
    layers = [nn.Conv2d(cin, cout, k, s, p, dilation=d, groups=g, bias=False), nn.BatchNorm2d(cout)]
    if act is not None:
        layers.append(act(inplace=True) if act in (nn.ReLU, nn.ReLU6, nn.SiLU, nn.Hardswish) else act())
    return nn.Sequential(*layers)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin, planes, stride=1, dilation=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, dilation, dilation=dilation, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.down = None
        if stride != 1 or cin != planes:
            self.down = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        idt = x if self.down is None else self.down(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + idt)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, planes, stride=1, dilation=1):
        super().__init__()
        out = planes * 4
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, dilation, dilation=dilation, bias=False)  # v1.5
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.down = None
        if stride != 1 or cin != out:
            self.down = nn.Sequential(nn.Conv2d(cin, out, 1, stride, bias=False), nn.BatchNorm2d(out))

    def forward(self, x):
        idt = x if self.down is None else self.down(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + idt)


class ResNet(nn.Module):
    def __init__(self, block, layers, num_classes=1000, dilations=(1, 1, 1, 1), strides=(1, 2, 2, 2), head=True):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
                                  nn.MaxPool2d(3, 2, 1))
        cin = 64
        stages = []
        for i, (n, planes) in enumerate(zip(layers, (64, 128, 256, 512))):
            blocks = []
            for j in range(n):
                blocks.append(block(cin, planes, strides[i] if j == 0 else 1, dilations[i]))
                cin = planes * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.layers = nn.Sequential(*stages)
        self.out_channels = cin
        self.head = head
        if head:
            self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.layers(self.stem(x))
        if not self.head:
            return x
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


def make_divisible(v, divisor=8, min_value=None):
    min_value = min_value or divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = int(round(cin * expand))
        self.use_res = stride == 1 and cin == cout
        layers = []
        if expand != 1:
            layers.append(conv_bn(cin, hidden, 1, act=nn.ReLU6))
        layers += [conv_bn(hidden, hidden, 3, stride, g=hidden, act=nn.ReLU6), conv_bn(hidden, cout, 1, act=None)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res else self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        cfg = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]
        layers = [conv_bn(3, 32, 3, 2, act=nn.ReLU6)]
        cin = 32
        for t, c, n, s in cfg:
            for i in range(n):
                layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        layers.append(conv_bn(cin, 1280, 1, act=nn.ReLU6))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, num_classes))

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.features(x), 1).flatten(1)
        return self.classifier(x)


class SqueezeExcite(nn.Module):
    def __init__(self, c, squeeze, act=nn.ReLU, gate=nn.Hardsigmoid):
        super().__init__()
        self.fc1 = nn.Conv2d(c, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, c, 1)
        self.act = act()
        self.gate = gate()

    def forward(self, x):
        s = F.adaptive_avg_pool2d(x, 1)
        return x * self.gate(self.fc2(self.act(self.fc1(s))))


class MBV3Block(nn.Module):
    def __init__(self, cin, k, exp, cout, se, act, stride):
        super().__init__()
        A = nn.Hardswish if act == "HS" else nn.ReLU
        self.use_res = stride == 1 and cin == cout
        layers = []
        if exp != cin:
            layers.append(conv_bn(cin, exp, 1, act=A))
        layers.append(conv_bn(exp, exp, k, stride, g=exp, act=A))
        if se:
            layers.append(SqueezeExcite(exp, make_divisible(exp // 4, 8)))
        layers.append(conv_bn(exp, cout, 1, act=None))
        self.block = nn.Sequential(*layers)

    def forward(self, x):
        y = self.block(x)
        return x + y if self.use_res else y


class MobileNetV3Small(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        cfg = [(16, 3, 16, 16, True, "RE", 2), (16, 3, 72, 24, False, "RE", 2), (24, 3, 88, 24, False, "RE", 1),
               (24, 5, 96, 40, True, "HS", 2), (40, 5, 240, 40, True, "HS", 1), (40, 5, 240, 40, True, "HS", 1),
               (40, 5, 120, 48, True, "HS", 1), (48, 5, 144, 48, True, "HS", 1), (48, 5, 288, 96, True, "HS", 2),
               (96, 5, 576, 96, True, "HS", 1), (96, 5, 576, 96, True, "HS", 1)]
        layers = [conv_bn(3, 16, 3, 2, act=nn.Hardswish)]
        layers += [MBV3Block(*c) for c in cfg]
        layers.append(conv_bn(96, 576, 1, act=nn.Hardswish))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Linear(576, 1024), nn.Hardswish(inplace=True), nn.Dropout(0.2),
                                        nn.Linear(1024, num_classes))

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.features(x), 1).flatten(1)
        return self.classifier(x)


class MBConv(nn.Module):
    def __init__(self, cin, cout, k, stride, expand):
        super().__init__()
        hidden = cin * expand
        self.use_res = stride == 1 and cin == cout
        layers = []
        if expand != 1:
            layers.append(conv_bn(cin, hidden, 1, act=nn.SiLU))
        layers += [conv_bn(hidden, hidden, k, stride, g=hidden, act=nn.SiLU),
                   SqueezeExcite(hidden, max(1, cin // 4), act=nn.SiLU, gate=nn.Sigmoid),
                   conv_bn(hidden, cout, 1, act=None)]
        self.block = nn.Sequential(*layers)

    def forward(self, x):
        y = self.block(x)
        return x + y if self.use_res else y


class EfficientNetB0(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        cfg = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
               (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)]
        layers = [conv_bn(3, 32, 3, 2, act=nn.SiLU)]
        for e, k, s, cin, cout, n in cfg:
            for i in range(n):
                layers.append(MBConv(cin if i == 0 else cout, cout, k, s if i == 0 else 1, e))
        layers.append(conv_bn(320, 1280, 1, act=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, num_classes))

    def forward(self, x):
        return self.classifier(F.adaptive_avg_pool2d(self.features(x), 1).flatten(1))


class LayerNorm2d(nn.LayerNorm):
    def forward(self, x):
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class ConvNeXtBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dw = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pw1 = nn.Linear(dim, 4 * dim)
        self.pw2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), 1e-6))

    def forward(self, x):
        y = self.dw(x).permute(0, 2, 3, 1)
        y = self.pw2(F.gelu(self.pw1(self.norm(y)))) * self.gamma
        return x + y.permute(0, 3, 1, 2)


class ConvNeXtTiny(nn.Module):
    def __init__(self, depths=(3, 3, 9, 3), dims=(96, 192, 384, 768), num_classes=1000):
        super().__init__()
        layers = [nn.Sequential(nn.Conv2d(3, dims[0], 4, 4), LayerNorm2d(dims[0], eps=1e-6))]
        for i, (d, c) in enumerate(zip(depths, dims)):
            if i > 0:
                layers.append(nn.Sequential(LayerNorm2d(dims[i - 1], eps=1e-6), nn.Conv2d(dims[i - 1], c, 2, 2)))
            layers += [ConvNeXtBlock(c) for _ in range(d)]
        self.features = nn.Sequential(*layers)
        self.norm = nn.LayerNorm(dims[-1], eps=1e-6)
        self.head = nn.Linear(dims[-1], num_classes)

    def forward(self, x):
        x = self.features(x).mean((2, 3))
        return self.head(self.norm(x))


class DenseLayer(nn.Module):
    def __init__(self, cin, growth, bn_size):
        super().__init__()
        self.norm1, self.conv1 = nn.BatchNorm2d(cin), nn.Conv2d(cin, bn_size * growth, 1, bias=False)
        self.norm2, self.conv2 = nn.BatchNorm2d(bn_size * growth), nn.Conv2d(bn_size * growth, growth, 3, 1, 1, bias=False)

    def forward(self, feats):
        x = torch.cat(feats, 1)
        x = self.conv1(F.relu(self.norm1(x)))
        return self.conv2(F.relu(self.norm2(x)))


class DenseNet(nn.Module):
    def __init__(self, growth=32, blocks=(6, 12, 24, 16), init=64, bn_size=4, num_classes=1000):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, init, 7, 2, 3, bias=False), nn.BatchNorm2d(init), nn.ReLU(inplace=True),
                                  nn.MaxPool2d(3, 2, 1))
        c = init
        self.blocks = nn.ModuleList()
        self.trans = nn.ModuleList()
        for i, n in enumerate(blocks):
            self.blocks.append(nn.ModuleList([DenseLayer(c + j * growth, growth, bn_size) for j in range(n)]))
            c += n * growth
            if i != len(blocks) - 1:
                self.trans.append(nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=True), nn.Conv2d(c, c // 2, 1, bias=False),
                                                nn.AvgPool2d(2, 2)))
                c //= 2
        self.norm = nn.BatchNorm2d(c)
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x):
        x = self.stem(x)
        for i, blk in enumerate(self.blocks):
            feats = [x]
            for layer in blk:
                feats.append(layer(feats))
            x = torch.cat(feats, 1)
            if i < len(self.trans):
                x = self.trans[i](x)
        x = F.relu(self.norm(x))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


class Inception(nn.Module):
    def __init__(self, cin, c1, c3r, c3, c5r, c5, pp):
        super().__init__()
        self.b1 = conv_bn(cin, c1, 1)
        self.b2 = nn.Sequential(conv_bn(cin, c3r, 1), conv_bn(c3r, c3, 3))
        self.b3 = nn.Sequential(conv_bn(cin, c5r, 1), conv_bn(c5r, c5, 5))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), conv_bn(cin, pp, 1))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


class GoogLeNet(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.stem = nn.Sequential(conv_bn(3, 64, 7, 2), nn.MaxPool2d(3, 2, ceil_mode=True), conv_bn(64, 64, 1),
                                  conv_bn(64, 192, 3), nn.MaxPool2d(3, 2, ceil_mode=True))
        self.body = nn.Sequential(
            Inception(192, 64, 96, 128, 16, 32, 32), Inception(256, 128, 128, 192, 32, 96, 64),
            nn.MaxPool2d(3, 2, ceil_mode=True),
            Inception(480, 192, 96, 208, 16, 48, 64), Inception(512, 160, 112, 224, 24, 64, 64),
            Inception(512, 128, 128, 256, 24, 64, 64), Inception(512, 112, 144, 288, 32, 64, 64),
            Inception(528, 256, 160, 320, 32, 128, 128),
            nn.MaxPool2d(2, 2, ceil_mode=True),
            Inception(832, 256, 160, 320, 32, 128, 128), Inception(832, 384, 192, 384, 48, 128, 128))
        self.fc = nn.Linear(1024, num_classes)

    def forward(self, x):
        x = self.body(self.stem(x))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


def channel_shuffle(x, groups):
    b, c, h, w = x.shape
    x = x.view(b, groups, c // groups, h, w).transpose(1, 2).contiguous()
    return x.view(b, c, h, w)


class ShuffleUnit(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.stride = stride
        bf = cout // 2
        if stride > 1:
            self.branch1 = nn.Sequential(conv_bn(cin, cin, 3, stride, g=cin, act=None), conv_bn(cin, bf, 1))
        self.branch2 = nn.Sequential(conv_bn(cin if stride > 1 else bf, bf, 1), conv_bn(bf, bf, 3, stride, g=bf, act=None),
                                     conv_bn(bf, bf, 1))

    def forward(self, x):
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = torch.cat((x1, self.branch2(x2)), 1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), 1)
        return channel_shuffle(out, 2)


class ShuffleNetV2(nn.Module):
    def __init__(self, repeats=(4, 8, 4), chans=(24, 116, 232, 464, 1024), num_classes=1000):
        super().__init__()
        self.stem = nn.Sequential(conv_bn(3, chans[0], 3, 2), nn.MaxPool2d(3, 2, 1))
        layers, cin = [], chans[0]
        for n, c in zip(repeats, chans[1:4]):
            layers += [ShuffleUnit(cin, c, 2)] + [ShuffleUnit(c, c, 1) for _ in range(n - 1)]
            cin = c
        self.stages = nn.Sequential(*layers)
        self.conv5 = conv_bn(cin, chans[4], 1)
        self.fc = nn.Linear(chans[4], num_classes)

    def forward(self, x):
        x = self.conv5(self.stages(self.stem(x)))
        return self.fc(x.mean((2, 3)))


class RegNetXBlock(nn.Module):
    def __init__(self, cin, cout, stride, group_width):
        super().__init__()
        self.a = conv_bn(cin, cout, 1)
        self.b = conv_bn(cout, cout, 3, stride, g=cout // group_width)
        self.c = conv_bn(cout, cout, 1, act=None)
        self.proj = conv_bn(cin, cout, 1, stride, act=None) if (stride != 1 or cin != cout) else None

    def forward(self, x):
        idt = x if self.proj is None else self.proj(x)
        return F.relu(idt + self.c(self.b(self.a(x))))


class RegNetX400MF(nn.Module):
    def __init__(self, depths=(1, 2, 7, 12), widths=(32, 64, 160, 400), group_width=16, num_classes=1000):
        super().__init__()
        self.stem = conv_bn(3, 32, 3, 2)
        layers, cin = [], 32
        for d, w in zip(depths, widths):
            for i in range(d):
                layers.append(RegNetXBlock(cin, w, 2 if i == 0 else 1, group_width))
                cin = w
        self.trunk = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        return self.fc(F.adaptive_avg_pool2d(self.trunk(self.stem(x)), 1).flatten(1))


class Fire(nn.Module):
    def __init__(self, cin, s, e1, e3):
        super().__init__()
        self.squeeze = nn.Conv2d(cin, s, 1)
        self.e1 = nn.Conv2d(s, e1, 1)
        self.e3 = nn.Conv2d(s, e3, 3, padding=1)

    def forward(self, x):
        x = F.relu(self.squeeze(x))
        return torch.cat([F.relu(self.e1(x)), F.relu(self.e3(x))], 1)


class SqueezeNet11(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 3, 2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, ceil_mode=True),
            Fire(64, 16, 64, 64), Fire(128, 16, 64, 64), nn.MaxPool2d(3, 2, ceil_mode=True),
            Fire(128, 32, 128, 128), Fire(256, 32, 128, 128), nn.MaxPool2d(3, 2, ceil_mode=True),
            Fire(256, 48, 192, 192), Fire(384, 48, 192, 192), Fire(384, 64, 256, 256), Fire(512, 64, 256, 256))
        self.classifier = nn.Sequential(nn.Dropout(0.5), nn.Conv2d(512, num_classes, 1), nn.ReLU(inplace=True),
                                        nn.AdaptiveAvgPool2d(1))

    def forward(self, x):
        return torch.flatten(self.classifier(self.features(x)), 1)


class VGG11(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        cfg = [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]
        layers, cin = [], 3
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(cin, v, 3, padding=1), nn.ReLU(inplace=True)]
                cin = v
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(),
                                        nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(), nn.Linear(4096, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


class AlexNet(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2))
        self.classifier = nn.Sequential(nn.Dropout(), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(True), nn.Dropout(),
                                        nn.Linear(4096, 4096), nn.ReLU(True), nn.Linear(4096, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


class ASPP(nn.Module):
    def __init__(self, cin, rates=(12, 24, 36), c=256):
        super().__init__()
        self.branches = nn.ModuleList([conv_bn(cin, c, 1)] + [conv_bn(cin, c, 3, d=r) for r in rates])
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(cin, c, 1, bias=False), nn.ReLU(inplace=True))
        self.project = nn.Sequential(conv_bn(c * (len(rates) + 2), c, 1), nn.Dropout(0.5))

    def forward(self, x):
        outs = [b(x) for b in self.branches]
        p = F.interpolate(self.pool(x), size=x.shape[-2:], mode="bilinear", align_corners=False)
        return self.project(torch.cat(outs + [p], 1))


class DeepLabV3ResNet18(nn.Module):
    def __init__(self, num_classes=21):
        super().__init__()
        # output stride 8: layer3/layer4 keep stride 1 and dilate (2, 4)
        self.backbone = ResNet(BasicBlock, (2, 2, 2, 2), dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1), head=False)
        self.head = nn.Sequential(ASPP(512), conv_bn(256, 256, 3), nn.Conv2d(256, num_classes, 1))

    def forward(self, x):
        size = x.shape[-2:]
        y = self.head(self.backbone(x))
        return F.interpolate(y, size=size, mode="bilinear", align_corners=False)


# --------------------------------------------------------------------------
# Transformers
# --------------------------------------------------------------------------
class ViTBlock(nn.Module):
    def __init__(self, dim, heads, mlp, use_sdpa):
        super().__init__()
        self.heads, self.use_sdpa = heads, use_sdpa
        self.ln1, self.ln2 = nn.LayerNorm(dim, eps=1e-6), nn.LayerNorm(dim, eps=1e-6)
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.fc1, self.fc2 = nn.Linear(dim, mlp), nn.Linear(mlp, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(self.ln1(x)).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        a = attention(qkv[0], qkv[1], qkv[2], use_sdpa=self.use_sdpa)
        x = x + self.proj(a.transpose(1, 2).reshape(B, N, C))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class ViTTiny(nn.Module):
    def __init__(self, img=224, patch=16, dim=192, depth=12, heads=3, mlp=768, num_classes=1000, use_sdpa=True):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, patch, patch)
        n = (img // patch) ** 2
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, n + 1, dim) * 0.02)
        self.blocks = nn.Sequential(*[ViTBlock(dim, heads, mlp, use_sdpa) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1) + self.pos
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0])


class SwinBlock(nn.Module):
    def __init__(self, dim, heads, window, shift, res):
        super().__init__()
        self.heads, self.window = heads, window
        self.shift = 0 if res <= window else shift
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.fc1, self.fc2 = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)
        self.rel_table = nn.Parameter(torch.randn((2 * window - 1) ** 2, heads) * 0.02)
        coords = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")).flatten(1)
        rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (window - 1)
        self.register_buffer("rel_index", (rel[..., 0] * (2 * window - 1) + rel[..., 1]).flatten(), persistent=False)
        if self.shift:
            img = torch.zeros(res, res)
            cnt = 0
            for hs in (slice(0, -window), slice(-window, -self.shift), slice(-self.shift, None)):
                for ws in (slice(0, -window), slice(-window, -self.shift), slice(-self.shift, None)):
                    img[hs, ws] = cnt
                    cnt += 1
            win = img.view(res // window, window, res // window, window).permute(0, 2, 1, 3).reshape(-1, window * window)
            m = win[:, None, :] - win[:, :, None]
            self.register_buffer("attn_mask", m.masked_fill(m != 0, -100.0).masked_fill(m == 0, 0.0), persistent=False)
        else:
            self.attn_mask = None

    def forward(self, x):  # x: (B, H, W, C)
        B, H, W, C = x.shape
        w, s, nh = self.window, self.shift, self.heads
        y = self.norm1(x)
        if s:
            y = torch.roll(y, shifts=(-s, -s), dims=(1, 2))
        y = y.view(B, H // w, w, W // w, w, C).permute(0, 1, 3, 2, 4, 5).reshape(-1, w * w, C)
        nW = (H // w) * (W // w)
        qkv = self.qkv(y).reshape(y.shape[0], w * w, 3, nh, C // nh).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        att = torch.matmul(q * (C // nh) ** -0.5, k.transpose(-2, -1))
        bias = self.rel_table[self.rel_index].view(w * w, w * w, nh).permute(2, 0, 1)
        att = att + bias.unsqueeze(0)
        if s:
            att = att.view(B, nW, nh, w * w, w * w) + self.attn_mask.unsqueeze(1).unsqueeze(0)
            att = att.view(-1, nh, w * w, w * w)
        y = torch.matmul(torch.softmax(att, -1), v).transpose(1, 2).reshape(-1, w * w, C)
        y = self.proj(y)
        y = y.view(B, H // w, W // w, w, w, C).permute(0, 1, 3, 2, 4, 5).reshape(B, H, W, C)
        if s:
            y = torch.roll(y, shifts=(s, s), dims=(1, 2))
        x = x + y
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class PatchMerging(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm = nn.LayerNorm(4 * dim)
        self.red = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x):
        x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], -1)
        return self.red(self.norm(x))


class SwinTiny(nn.Module):
    def __init__(self, depths=(2, 2, 6, 2), heads=(3, 6, 12, 24), dim=96, window=7, img=224, num_classes=1000):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, 4, 4)
        self.pnorm = nn.LayerNorm(dim)
        layers, res = [], img // 4
        for i, (d, h) in enumerate(zip(depths, heads)):
            if i > 0:
                layers.append(PatchMerging(dim))
                dim, res = dim * 2, res // 2
            layers += [SwinBlock(dim, h, window, 0 if j % 2 == 0 else window // 2, res) for j in range(d)]
        self.layers = nn.Sequential(*layers)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):
        x = self.pnorm(self.patch(x).permute(0, 2, 3, 1))
        x = self.norm(self.layers(x))
        return self.head(x.mean((1, 2)))


class BertLayer(nn.Module):
    def __init__(self, d, heads, ff):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(d, eps=1e-12), nn.LayerNorm(d, eps=1e-12)
        self.fc1, self.fc2 = nn.Linear(d, ff), nn.Linear(ff, d)

    def forward(self, x, mask):
        B, S, D = x.shape
        sp = lambda t: t.view(B, S, self.heads, D // self.heads).transpose(1, 2)
        a = attention(sp(self.q(x)), sp(self.k(x)), sp(self.v(x)), mask=mask)
        x = self.ln1(x + self.o(a.transpose(1, 2).reshape(B, S, D)))
        return self.ln2(x + self.fc2(F.gelu(self.fc1(x))))


class BertEncoder(nn.Module):
    def __init__(self, vocab=30522, d=768, heads=12, ff=3072, layers=2, max_pos=512):
        super().__init__()
        self.word, self.pos, self.tok_type = nn.Embedding(vocab, d), nn.Embedding(max_pos, d), nn.Embedding(2, d)
        self.ln = nn.LayerNorm(d, eps=1e-12)
        self.layers = nn.ModuleList([BertLayer(d, heads, ff) for _ in range(layers)])
        self.pooler = nn.Linear(d, d)

    def forward(self, input_ids, attention_mask):
        S = input_ids.shape[1]
        pos = torch.arange(S, device=input_ids.device).unsqueeze(0)
        x = self.ln(self.word(input_ids) + self.pos(pos) + self.tok_type(torch.zeros_like(input_ids)))
        mask = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -10000.0
        for layer in self.layers:
            x = layer(x, mask)
        return x, torch.tanh(self.pooler(x[:, 0]))


class GPT2Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.c_attn, self.c_proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc, self.proj = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x, causal_bias):
        B, S, D = x.shape
        q, k, v = self.c_attn(self.ln1(x)).split(D, dim=2)
        sp = lambda t: t.view(B, S, self.heads, D // self.heads).transpose(1, 2)
        a = attention(sp(q), sp(k), sp(v), mask=causal_bias)
        x = x + self.c_proj(a.transpose(1, 2).reshape(B, S, D))
        return x + self.proj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class GPT2(nn.Module):
    def __init__(self, vocab=50257, d=768, heads=12, layers=2, n_ctx=1024):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(n_ctx, d)
        self.blocks = nn.ModuleList([GPT2Block(d, heads) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(d)

    def forward(self, input_ids):
        S = input_ids.shape[1]
        pos = torch.arange(S, device=input_ids.device)
        x = self.wte(input_ids) + self.wpe(pos)
        causal = torch.ones(S, S, dtype=torch.bool, device=x.device).tril()
        bias = torch.zeros(S, S, dtype=x.dtype).masked_fill(~causal, torch.finfo(x.dtype).min)
        for b in self.blocks:
            x = b(x, bias)
        return torch.matmul(self.ln_f(x), self.wte.weight.t())  # tied LM head


class T5LayerNorm(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.weight, self.eps = nn.Parameter(torch.ones(d)), eps

    def forward(self, x):
        var = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(var + self.eps))


class T5Layer(nn.Module):
    def __init__(self, d, heads, dkv, ff):
        super().__init__()
        self.heads, self.dkv = heads, dkv
        self.ln1, self.ln2 = T5LayerNorm(d), T5LayerNorm(d)
        inner = heads * dkv
        self.q, self.k, self.v = (nn.Linear(d, inner, bias=False) for _ in range(3))
        self.o = nn.Linear(inner, d, bias=False)
        self.wi, self.wo = nn.Linear(d, ff, bias=False), nn.Linear(ff, d, bias=False)

    def forward(self, x, bias):
        B, S, _ = x.shape
        h = self.ln1(x)
        sp = lambda t: t.view(B, S, self.heads, self.dkv).transpose(1, 2)
        a = attention(sp(self.q(h)), sp(self.k(h)), sp(self.v(h)), mask=bias, scale=1.0)  # T5: no 1/sqrt(d)
        x = x + self.o(a.transpose(1, 2).reshape(B, S, -1))
        return x + self.wo(F.relu(self.wi(self.ln2(x))))


class T5Encoder(nn.Module):
    def __init__(self, vocab=32128, d=512, heads=8, dkv=64, ff=2048, layers=2, seq=128):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        # relative position bias simplified to a learned (1, H, S, S) tensor shared by all layers
        self.pos_bias = nn.Parameter(torch.randn(1, heads, seq, seq) * 0.02)
        self.layers = nn.ModuleList([T5Layer(d, heads, dkv, ff) for _ in range(layers)])
        self.ln_f = T5LayerNorm(d)

    def forward(self, input_ids, attention_mask):
        x = self.embed(input_ids)
        bias = self.pos_bias + (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        for layer in self.layers:
            x = layer(x, bias)
        return self.ln_f(x)


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.weight, self.eps = nn.Parameter(torch.ones(d)), eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class LlamaLayer(nn.Module):
    def __init__(self, d, heads, kv_heads, ff, use_sdpa):
        super().__init__()
        self.h, self.kv, self.hd, self.use_sdpa = heads, kv_heads, d // heads, use_sdpa
        self.q = nn.Linear(d, heads * self.hd, bias=False)
        self.k = nn.Linear(d, kv_heads * self.hd, bias=False)
        self.v = nn.Linear(d, kv_heads * self.hd, bias=False)
        self.o = nn.Linear(heads * self.hd, d, bias=False)
        self.gate, self.up, self.down = nn.Linear(d, ff, bias=False), nn.Linear(d, ff, bias=False), nn.Linear(ff, d, bias=False)
        self.n1, self.n2 = RMSNorm(d), RMSNorm(d)

    def forward(self, x, cos, sin):
        B, S, D = x.shape
        h = self.n1(x)
        q = self.q(h).view(B, S, self.h, self.hd).transpose(1, 2)
        k = self.k(h).view(B, S, self.kv, self.hd).transpose(1, 2)
        v = self.v(h).view(B, S, self.kv, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = self.h // self.kv  # grouped-query attention
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        a = attention(q, k, v, use_sdpa=self.use_sdpa, is_causal=True)
        x = x + self.o(a.transpose(1, 2).reshape(B, S, D))
        h = self.n2(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class LlamaTiny(nn.Module):
    def __init__(self, vocab=32000, d=512, heads=8, kv_heads=2, ff=1536, layers=2, theta=10000.0, use_sdpa=True):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList([LlamaLayer(d, heads, kv_heads, ff, use_sdpa) for _ in range(layers)])
        self.norm = RMSNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)
        hd = d // heads
        self.register_buffer("inv_freq", 1.0 / theta ** (torch.arange(0, hd, 2).float() / hd), persistent=False)

    def forward(self, input_ids):
        S = input_ids.shape[1]
        pos = torch.arange(S, device=input_ids.device).float()
        freqs = pos[:, None] * self.inv_freq[None, :]  # rotary tables computed in-graph
        emb = torch.cat((freqs, freqs), -1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]
        x = self.embed(input_ids)
        for layer in self.layers:
            x = layer(x, cos, sin)
        return self.lm_head(self.norm(x))


# --------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------
IMG = lambda b=1, hw=224: (torch.randn(b, 3, hw, hw),)
IDS = lambda b=1, s=128, vocab=30000: (torch.randint(0, vocab, (b, s)),)
IDS_MASK = lambda b=1, s=128, vocab=30000: (torch.randint(0, vocab, (b, s)), torch.ones(b, s, dtype=torch.int64))

# name: (constructor, example-input fn, input names, output names, source, dynamic-batch?)
NETS = {
    "resnet18": (lambda **k: ResNet(BasicBlock, (2, 2, 2, 2)), IMG, ["x"], ["logits"],
                 "ResNet-18 per He et al. 2016, torchvision layout (plain torch.nn)", True),
    "resnet50": (lambda **k: ResNet(Bottleneck, (3, 4, 6, 3)), IMG, ["x"], ["logits"],
                 "ResNet-50 v1.5 (stride on 3x3) per He et al. 2016, torchvision layout", False),
    "mobilenet_v2": (lambda **k: MobileNetV2(), IMG, ["x"], ["logits"],
                     "MobileNetV2 width 1.0 res 224 per Sandler et al. 2018, torchvision layout", False),
    "mobilenet_v3_small": (lambda **k: MobileNetV3Small(), IMG, ["x"], ["logits"],
                           "MobileNetV3-Small per Howard et al. 2019, torchvision bneck config (SE+hardswish)", False),
    "efficientnet_b0": (lambda **k: EfficientNetB0(), IMG, ["x"], ["logits"],
                        "EfficientNet-B0 per Tan & Le 2019, torchvision MBConv config (SE, SiLU), no stochastic depth", False),
    "convnext_tiny": (lambda **k: ConvNeXtTiny(), IMG, ["x"], ["logits"],
                      "ConvNeXt-T per Liu et al. 2022, full depth (3,3,9,3) dims (96..768), facebookresearch block layout", False),
    "densenet121": (lambda **k: DenseNet(), IMG, ["x"], ["logits"],
                    "DenseNet-121 per Huang et al. 2017 (growth 32, blocks 6/12/24/16), torchvision layout", False),
    "googlenet": (lambda **k: GoogLeNet(), IMG, ["x"], ["logits"],
                  "GoogLeNet/Inception-v1 per Szegedy et al. 2015 (conv+BN+ReLU, true 5x5 branch, ceil_mode pools, no aux heads)", False),
    "shufflenet_v2_x1_0": (lambda **k: ShuffleNetV2(), IMG, ["x"], ["logits"],
                           "ShuffleNetV2 x1.0 per Ma et al. 2018, torchvision layout (chunk + channel shuffle)", False),
    "regnetx_400mf": (lambda **k: RegNetX400MF(), IMG, ["x"], ["logits"],
                      "RegNetX-400MF per Radosavovic et al. 2020 (depths 1/2/7/12, widths 32/64/160/400, group width 16)", False),
    "squeezenet1_1": (lambda **k: SqueezeNet11(), IMG, ["x"], ["logits"],
                      "SqueezeNet 1.1 per Iandola et al. 2016, torchvision layout", False),
    "vgg11": (lambda **k: VGG11(), IMG, ["x"], ["logits"],
              "VGG-11 (config A, no BN) per Simonyan & Zisserman 2014, torchvision layout", False),
    "alexnet": (lambda **k: AlexNet(), IMG, ["x"], ["logits"],
                "AlexNet, torchvision single-tower variant (64/192/384/256/256)", False),
    "deeplabv3_resnet18": (lambda **k: DeepLabV3ResNet18(), IMG, ["x"], ["out"],
                           "DeepLabv3 per Chen et al. 2017 on a ResNet-18 backbone, output stride 8 (dilation 2/4), ASPP rates 12/24/36 + image pooling, bilinear Resize to input; 21 classes", False),
    "vit_tiny": (lambda use_sdpa=True: ViTTiny(use_sdpa=use_sdpa), IMG, ["x"], ["logits"],
                 "ViT-Ti/16 per Dosovitskiy et al. 2021 / DeiT-Ti (224, patch 16, 12 layers, dim 192, 3 heads, MLP 768), attention via F.scaled_dot_product_attention", False),
    "swin_tiny": (lambda **k: SwinTiny(), IMG, ["x"], ["logits"],
                  "Swin-T per Liu et al. 2021, full depth (2,2,6,2), window 7, shifted windows via torch.roll + mask, relative position bias, explicit attention", False),
    "bert_base_2l": (lambda **k: BertEncoder(), lambda b=1: IDS_MASK(b, 128, 30522), ["input_ids", "attention_mask"],
                     ["last_hidden_state", "pooler_output"],
                     "BERT-base encoder per Devlin et al. 2019 (hidden 768, 12 heads, FF 3072) reduced to 2 layers, seq 128, explicit attention", True),
    "gpt2_2l": (lambda **k: GPT2(), lambda b=1: IDS(b, 128, 50257), ["input_ids"], ["logits"],
                "GPT-2 small decoder per Radford et al. 2019 (768, 12 heads) reduced to 2 layers, seq 128, causal mask, tied LM head, explicit attention", False),
    "t5_encoder_2l": (lambda **k: T5Encoder(), lambda b=1: IDS_MASK(b, 128, 32128), ["input_ids", "attention_mask"],
                      ["last_hidden_state"],
                      "T5-small encoder per Raffel et al. 2020 (d 512, 8 heads, d_kv 64, FF 2048 ReLU, RMS LayerNorm, unscaled attention) reduced to 2 layers, seq 128; relative bias simplified to a learned (1,8,128,128) tensor", False),
    "llama_2l": (lambda use_sdpa=True: LlamaTiny(use_sdpa=use_sdpa), lambda b=1: IDS(b, 64, 32000), ["input_ids"], ["logits"],
                 "Llama-style decoder (Touvron et al. 2023): 2 layers, hidden 512, 8 heads, 2 KV heads (GQA via repeat_interleave), RMSNorm, in-graph RoPE sin/cos, SwiGLU FF 1536, vocab 32000, seq 64, causal F.scaled_dot_product_attention", False),
}
SDPA_NETS = {"vit_tiny", "llama_2l"}


# --------------------------------------------------------------------------
# Hugging Face transformers models: built from configs (random weights, nothing downloaded)
# --------------------------------------------------------------------------
class HFWrap(nn.Module):
    """Calls a transformers model with keyword inputs and returns plain tensors, so both
    exporters see positional inputs with stable names.  With `past` layers of KV cache the
    inputs end with past_key_values.<i>.key/.value [B, kv_heads, P, d] and the outputs with
    present.<i>.key/.value [B, kv_heads, P + S, d] (the Optimum layout); the model appends the
    new tokens' keys and values to the cache with a Concat on the sequence axis."""

    def __init__(self, model, names, outs, past=0):
        super().__init__()
        self.model, self.names, self.outs, self.past = model, names, outs, past

    def forward(self, *args):
        kw = dict(zip(self.names, args))
        cache = None
        if self.past:
            from transformers import DynamicCache
            flat = args[len(self.names):]
            cache = DynamicCache(ddp_cache_data=[(flat[2 * i], flat[2 * i + 1]) for i in range(self.past)])
            kw.update(past_key_values=cache, use_cache=True)
        out = self.model(**kw)
        result = tuple(getattr(out, o) for o in self.outs)
        if self.past:
            result += tuple(t for layer in cache.layers for t in (layer.keys, layer.values))
        return result


def hf_net(model, config, names, outs, past=0, **cfg):
    """A NETS constructor: transformers class `model` (a name in `transformers`, or a dotted
    path) built from `config`(**cfg) with random weights, wrapped by HFWrap.  `attn` picks the
    attention implementation: the export uses the default (sdpa), the MAC reference eager."""
    def make(attn="sdpa", **_):
        import importlib

        import transformers
        module, _, cls = model.rpartition(".")
        model_cls = getattr(importlib.import_module(module) if module else transformers, cls)
        c = getattr(transformers, config)(**cfg)
        c._attn_implementation = attn
        return HFWrap(model_cls(c), names, outs, past)
    return make


def decoder_inputs(vocab, past_layers, kv_heads, head_dim, past_len, new=1):
    """input_ids [1, new], attention_mask [1, past_len + new], then the past K/V tensors."""
    def make(b=1):
        g = torch.Generator().manual_seed(7)
        ids = torch.randint(0, vocab, (b, new), generator=g)
        mask = torch.ones(b, past_len + new, dtype=torch.int64)
        past = [torch.randn(b, kv_heads, past_len, head_dim, generator=g) for _ in range(2 * past_layers)]
        return (ids, mask, *past)
    return make


def past_names(layers):
    return [f"past_key_values.{i}.{kv}" for i in range(layers) for kv in ("key", "value")]


def present_names(layers):
    return [f"present.{i}.{kv}" for i in range(layers) for kv in ("key", "value")]


AUDIO = lambda b=1, n=16000: (torch.randn(b, n),)
MEL = lambda b=1, frames=200: (torch.randn(b, 80, frames),)

_LM = dict(num_hidden_layers=2, hidden_size=256, num_attention_heads=8, num_key_value_heads=2,
           intermediate_size=704, vocab_size=8192, max_position_embeddings=1024)
_GPT2 = dict(n_layer=2, n_embd=256, n_head=4, vocab_size=8192, n_positions=1024, bos_token_id=0, eos_token_id=0)
_PAST = 63  # cached tokens of the decode-step exports

HF_NETS = {
    "hf_bert": (hf_net("BertModel", "BertConfig", ["input_ids", "attention_mask"], ["last_hidden_state", "pooler_output"],
                       num_hidden_layers=2, hidden_size=256, num_attention_heads=4, intermediate_size=1024),
                lambda b=1: IDS_MASK(b, 64, 30522), ["input_ids", "attention_mask"], ["last_hidden_state", "pooler_output"],
                "transformers BertModel (Devlin et al. 2019) from BertConfig: 2 layers, hidden 256, 4 heads, FF 1024, seq 64, padding mask", False),
    "hf_distilbert": (hf_net("DistilBertModel", "DistilBertConfig", ["input_ids", "attention_mask"], ["last_hidden_state"],
                             n_layers=2, dim=256, n_heads=4, hidden_dim=1024),
                      lambda b=1: IDS_MASK(b, 64, 30522), ["input_ids", "attention_mask"], ["last_hidden_state"],
                      "transformers DistilBertModel (Sanh et al. 2019) from DistilBertConfig: 2 layers, dim 256, 4 heads, FF 1024, seq 64", False),
    "hf_gpt2": (hf_net("GPT2LMHeadModel", "GPT2Config", ["input_ids", "attention_mask"], ["logits"], **_GPT2),
                lambda b=1: IDS_MASK(b, 64, 8192), ["input_ids", "attention_mask"], ["logits"],
                "transformers GPT2LMHeadModel (Radford et al. 2019) from GPT2Config: 2 layers, 256 wide, 4 heads, vocab 8192, prompt of 64 tokens, causal + padding mask", False),
    "hf_gpt2_decode": (hf_net("GPT2LMHeadModel", "GPT2Config", ["input_ids", "attention_mask"], ["logits"], past=2, **_GPT2),
                       decoder_inputs(8192, 2, 4, 64, _PAST), ["input_ids", "attention_mask", *past_names(2)],
                       ["logits", *present_names(2)],
                       f"transformers GPT2LMHeadModel as hf_gpt2, one decode step: 1 new token against a KV cache of {_PAST} tokens (past_key_values inputs, present outputs)", False),
    "hf_llama": (hf_net("LlamaForCausalLM", "LlamaConfig", ["input_ids", "attention_mask"], ["logits"], **_LM),
                 lambda b=1: IDS_MASK(b, 64, 8192), ["input_ids", "attention_mask"], ["logits"],
                 "transformers LlamaForCausalLM (Touvron et al. 2023) from LlamaConfig: 2 layers, hidden 256, 8 heads, 2 KV heads (GQA), FF 704 SwiGLU, RoPE, vocab 8192, prompt of 64 tokens", False),
    "hf_llama_decode": (hf_net("LlamaForCausalLM", "LlamaConfig", ["input_ids", "attention_mask"], ["logits"], past=2, **_LM),
                        decoder_inputs(8192, 2, 2, 32, _PAST), ["input_ids", "attention_mask", *past_names(2)],
                        ["logits", *present_names(2)],
                        f"transformers LlamaForCausalLM as hf_llama, one decode step: 1 new token against a KV cache of {_PAST} tokens (GQA: 2 KV heads)", False),
    "hf_mistral": (hf_net("MistralForCausalLM", "MistralConfig", ["input_ids", "attention_mask"], ["logits"], sliding_window=32, **_LM),
                   lambda b=1: IDS_MASK(b, 64, 8192), ["input_ids", "attention_mask"], ["logits"],
                   "transformers MistralForCausalLM (Jiang et al. 2023) from MistralConfig: as hf_llama with a sliding window of 32 tokens, prompt of 64 tokens", False),
    "hf_mistral_decode": (hf_net("MistralForCausalLM", "MistralConfig", ["input_ids", "attention_mask"], ["logits"], past=2,
                                 sliding_window=32, **_LM),
                          decoder_inputs(8192, 2, 2, 32, _PAST), ["input_ids", "attention_mask", *past_names(2)],
                          ["logits", *present_names(2)],
                          f"transformers MistralForCausalLM as hf_mistral, one decode step: 1 new token against a KV cache of {_PAST} tokens", False),
    "hf_qwen2": (hf_net("Qwen2ForCausalLM", "Qwen2Config", ["input_ids", "attention_mask"], ["logits"], **_LM),
                 lambda b=1: IDS_MASK(b, 64, 8192), ["input_ids", "attention_mask"], ["logits"],
                 "transformers Qwen2ForCausalLM (Qwen team 2024) from Qwen2Config: as hf_llama with Q/K/V biases, prompt of 64 tokens", False),
    "hf_qwen2_decode": (hf_net("Qwen2ForCausalLM", "Qwen2Config", ["input_ids", "attention_mask"], ["logits"], past=2, **_LM),
                        decoder_inputs(8192, 2, 2, 32, _PAST), ["input_ids", "attention_mask", *past_names(2)],
                        ["logits", *present_names(2)],
                        f"transformers Qwen2ForCausalLM as hf_qwen2, one decode step: 1 new token against a KV cache of {_PAST} tokens", False),
    "hf_t5_encoder": (hf_net("T5EncoderModel", "T5Config", ["input_ids", "attention_mask"], ["last_hidden_state"],
                             num_layers=2, d_model=256, d_kv=32, num_heads=8, d_ff=1024, vocab_size=32128),
                      lambda b=1: IDS_MASK(b, 64, 32128), ["input_ids", "attention_mask"], ["last_hidden_state"],
                      "transformers T5EncoderModel (Raffel et al. 2020) from T5Config: 2 layers, d_model 256, 8 heads of 32, FF 1024 ReLU, bucketed relative position bias computed in-graph, seq 64", False),
    "hf_whisper_encoder": (hf_net("transformers.models.whisper.modeling_whisper.WhisperEncoder", "WhisperConfig",
                                  ["input_features"], ["last_hidden_state"], d_model=256, encoder_layers=2, encoder_attention_heads=4, encoder_ffn_dim=1024,
                                           num_mel_bins=80, max_source_positions=100),
                           MEL, ["input_features"], ["last_hidden_state"],
                           "transformers WhisperEncoder (Radford et al. 2022) from WhisperConfig: 2 conv1d (k3, the second stride 2) + 2 layers, d_model 256, 4 heads, FF 1024, 80 mel bins x 200 frames", False),
    "hf_wav2vec2": (hf_net("Wav2Vec2Model", "Wav2Vec2Config", ["input_values"], ["last_hidden_state"],
                           num_hidden_layers=2, hidden_size=256, num_attention_heads=4, intermediate_size=1024,
                           conv_dim=(128,) * 7, num_conv_pos_embeddings=128, num_conv_pos_embedding_groups=16),
                    AUDIO, ["input_values"], ["last_hidden_state"],
                    "transformers Wav2Vec2Model (Baevski et al. 2020) from Wav2Vec2Config: 7-layer conv1d feature encoder (128 channels, GroupNorm), grouped positional conv (k128, 16 groups), 2 layers, hidden 256, 4 heads; 1 s of 16 kHz audio", False),
    "hf_vit": (hf_net("ViTForImageClassification", "ViTConfig", ["pixel_values"], ["logits"],
                      num_hidden_layers=2, hidden_size=192, num_attention_heads=3, intermediate_size=768),
               IMG, ["pixel_values"], ["logits"],
               "transformers ViTForImageClassification (Dosovitskiy et al. 2021) from ViTConfig: patch 16 at 224, 2 layers, hidden 192, 3 heads, MLP 768", False),
    "hf_swin": (hf_net("SwinForImageClassification", "SwinConfig", ["pixel_values"], ["logits"],
                       embed_dim=96, depths=[2, 2, 2, 2], num_heads=[3, 6, 12, 24], window_size=7),
                IMG, ["pixel_values"], ["logits"],
                "transformers SwinForImageClassification (Liu et al. 2021) from SwinConfig: Swin-T widths (embed 96, heads 3/6/12/24, window 7) at 224 with 2 blocks per stage (a plain and a shifted one), window padding and shift masks built in-graph", False),
}
NETS.update(HF_NETS)


def torchvision_model(name):
    """A torchvision model with random weights (torchvision needs its own venv: see the
    module docstring)."""
    def make(**_):
        import torchvision
        return getattr(torchvision.models, name)(weights=None)
    return make


NETS["tv_swin_t"] = (torchvision_model("swin_t"), IMG, ["x"], ["logits"],
                     "torchvision.models.swin_t (Liu et al. 2021), random weights: Swin-T (depths 2/2/6/2, heads 3/6/12/24, window 7) at 224, window padding via F.pad, shift masks built in-graph", False)


def randomize_(model):
    """Perturb every parameter and BN statistic so no two tensors are identical, as in a trained
    model.  (Default inits leave e.g. all BN/LayerNorm biases at 0; the TorchScript exporter then
    de-duplicates those equal initializers and emits hundreds of Identity nodes.)"""
    g = torch.Generator().manual_seed(1234)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.01)
        for mod in model.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.add_(torch.randn(mod.running_mean.shape, generator=g) * 0.1)
                mod.running_var.mul_(torch.rand(mod.running_var.shape, generator=g) * 0.2 + 0.9)
    return model


def build(name, **kw):
    torch.manual_seed(0)
    return randomize_(NETS[name][0](**kw).eval())


# --------------------------------------------------------------------------
# Weight stripping
# --------------------------------------------------------------------------
def _iter_tensors(graph):
    for t in graph.initializer:
        yield t, "initializer"
    for n in graph.node:
        for a in n.attribute:
            if a.type == onnx.AttributeProto.TENSOR:
                yield a.t, f"attr:{n.op_type}"
            elif a.type == onnx.AttributeProto.GRAPH:
                yield from _iter_tensors(a.g)
            elif a.type == onnx.AttributeProto.GRAPHS:
                for g in a.graphs:
                    yield from _iter_tensors(g)


def _all_tensors(model):
    yield from _iter_tensors(model.graph)
    for f in model.functions:
        for n in f.node:
            for a in n.attribute:
                if a.type == onnx.AttributeProto.TENSOR:
                    yield a.t, f"fn-attr:{n.op_type}"


def _drop_node_metadata(graph):
    # the torch.export exporter attaches stack traces / fx-node text (with local paths) to every
    # node; they are ~80% of the file and carry no structure, so drop them
    for n in graph.node:
        del n.metadata_props[:]
        n.doc_string = ""
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                _drop_node_metadata(a.g)
            elif a.type == onnx.AttributeProto.GRAPHS:
                for g in a.graphs:
                    _drop_node_metadata(g)


def strip_and_save(model, path):
    """Move float tensors >= INLINE_BYTES to <file>.data, save, then delete the .data file."""
    _drop_node_metadata(model.graph)
    for f in model.functions:
        _drop_node_metadata(f)
    loc = os.path.basename(path) + ".data"
    moved = kept = 0
    for t, _where in _all_tensors(model):
        if t.data_location == TensorProto.EXTERNAL:
            raise RuntimeError(f"tensor {t.name} already external")
        if t.data_type in INLINE_TYPES or t.data_type == TensorProto.STRING:
            kept += 1
            continue
        arr = numpy_helper.to_array(t)
        if arr.nbytes < INLINE_BYTES:
            kept += 1
            continue
        if not t.HasField("raw_data"):
            new = numpy_helper.from_array(arr, t.name)
            t.CopyFrom(new)
        external_data_helper.set_external_data(t, loc)
        moved += 1
    onnx.save_model(model, path)  # writes the moved tensors' bytes to loc and clears raw_data
    data = os.path.join(os.path.dirname(path), loc)
    if os.path.exists(data):
        os.remove(data)
    return moved, kept


def verify_saved(path):
    m = onnx.load(path, load_external_data=False)
    bad = []
    for t, where in _all_tensors(m):
        if t.data_type == TensorProto.INT64 and t.data_location == TensorProto.EXTERNAL:
            bad.append(f"{where}:{t.name}")
    if bad:
        raise RuntimeError(f"{path}: int64 tensors not inline: {bad[:5]}")
    # structural checks that need no weights
    onnx.shape_inference.infer_shapes(m, strict_mode=False)
    return m


def graph_input_shapes(m):
    inits = {t.name for t in m.graph.initializer}
    out = {}
    for vi in m.graph.input:
        if vi.name in inits:
            continue
        dims = []
        for d in vi.type.tensor_type.shape.dim:
            dims.append(d.dim_value if d.HasField("dim_value") else (d.dim_param or "?"))
        out[vi.name] = dims
    return out


# --------------------------------------------------------------------------
# MACs
# --------------------------------------------------------------------------
def count_hf_macs(name, inputs):
    """transformers models: FlopCounterMode on the same weights with eager (explicit matmul)
    attention, since the export's sdpa attention is not counted by FlopCounterMode on CPU."""
    eager = build(name, attn="eager")
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        eager(*inputs)
    counts = {str(k): v // 2 for k, v in fc.get_flop_counts().get("Global", {}).items()}
    total = fc.get_total_flops() // 2
    with torch.no_grad(), FlopCounterMode(display=False) as fc2:
        build(name)(*inputs)
    sdpa = fc2.get_total_flops() // 2
    note = ("FlopCounterMode flops/2 on the same weights with attn_implementation='eager' (explicit Q*K^T and P*V "
            "matmuls, as the exported graph computes them) by op: "
            + ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
            + f". The exported sdpa model counts {sdpa} (attention products not seen by FlopCounterMode on CPU).")
    return total, note


def count_macs(name, inputs):
    if name in HF_NETS:
        return count_hf_macs(name, inputs)
    is_sdpa = name in SDPA_NETS
    model = build(name, use_sdpa=True) if is_sdpa else build(name)
    SDPA_HAND["macs"], SDPA_HAND["calls"] = 0, []
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        model(*inputs)
    counts = {str(k): v // 2 for k, v in fc.get_flop_counts().get("Global", {}).items()}
    fc_macs = fc.get_total_flops() // 2
    note = "FlopCounterMode flops/2 by op: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
    if not is_sdpa:
        return fc_macs, note
    hand = SDPA_HAND["macs"]
    calls = SDPA_HAND["calls"]
    sdpa_seen = any("attention" in k for k in counts)
    # cross-check against explicit matmul/softmax attention
    ref = NETS[name][0](use_sdpa=False).eval()  # weights copied below
    ref.load_state_dict(model.state_dict())
    with torch.no_grad(), FlopCounterMode(display=False) as fc2:
        ref(*inputs)
    explicit = fc2.get_total_flops() // 2
    B, H, S, Sk, d = calls[0]
    if sdpa_seen:
        total = fc_macs
        note += (f". FlopCounterMode DID count scaled_dot_product_attention on CPU; nothing added by hand"
                 f" (hand formula would give {hand}).")
    else:
        total = fc_macs + hand
        note += (f". FlopCounterMode did NOT count F.scaled_dot_product_attention on CPU (reported 0 for it), so "
                 f"{hand} MACs were added by hand: {len(calls)} SDPA calls x (Q*K^T B*H*S*Sk*d + P*V B*H*S*Sk*d) with "
                 f"B={B} H={H} S={S} Sk={Sk} d={d} = {len(calls)} x 2 x {B * H * S * Sk * d}"
                 + (" (causal: full S*S counted, as the exported graph does dense MatMuls)" if name == "llama_2l" else "")
                 + ".")
    note += f" Cross-check: same weights with explicit matmul attention counts {explicit}"
    note += " (match)." if explicit == total else " (MISMATCH!)."
    return total, note


# --------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------
def export_one(name, exporter, out_dir, dynbatch=False):
    ctor, mk_in, in_names, out_names, source, _ = NETS[name]
    model = build(name)
    batch = 2 if dynbatch else 1
    inputs = mk_in(batch)
    tag = ("dynbatch." if dynbatch else "") + ("ts17" if exporter == "torchscript" else "dyn18")
    fname = f"{name}.{tag}.onnx"
    path = os.path.join(out_dir, fname)
    t0 = time.time()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        if exporter == "torchscript":
            kw = {}
            if dynbatch:
                kw["dynamic_axes"] = {n: {0: "batch"} for n in list(in_names) + list(out_names)}
            buf = io.BytesIO()
            torch.onnx.export(model, inputs, buf, dynamo=False, opset_version=17, input_names=in_names,
                              output_names=out_names, do_constant_folding=True, **kw)
            proto = onnx.load_from_string(buf.getvalue())
        else:
            kw = {}
            if dynbatch:
                bdim = torch.export.Dim("batch", min=1, max=1024)
                kw["dynamic_shapes"] = {n: {0: bdim} for n in in_names}
            prog = torch.onnx.export(model, inputs, dynamo=True, opset_version=18, input_names=in_names,
                                     output_names=out_names, verbose=False, **kw)
            proto = prog.model_proto
    moved, kept = strip_and_save(proto, path)
    m = verify_saved(path)
    macs, note = count_macs(name, inputs)
    if dynbatch:
        note = (f"Counted on the export example input with batch={batch}; MACs scale linearly with batch "
                f"(per-sample {macs // batch}). ") + note
    opset = next((o.version for o in m.opset_import if o.domain in ("", "ai.onnx")), None)
    entry = {
        "file": fname,
        "network": name,
        "exporter": "torchscript (dynamo=False)" if exporter == "torchscript" else "torch.export (dynamo=True)",
        "opset": opset,
        "input_shapes": graph_input_shapes(m),
        "reference_macs": int(macs),
        "macs_note": note,
        "source": source,
        "dynamic_batch": dynbatch,
        "export_batch": batch,
        "nodes": len(m.graph.node),
        "tensors_stripped": moved,
        "tensors_inline": kept,
    }
    print(f"  ok {fname}: {os.path.getsize(path)} B, {len(m.graph.node)} nodes, {moved} stripped, "
          f"{time.time() - t0:.1f}s, MACs={macs}", flush=True)
    return entry


# --------------------------------------------------------------------------
# Bad inputs
# --------------------------------------------------------------------------
def make_bad(out_dir, small_src):
    bad = os.path.join(out_dir, "bad")
    os.makedirs(bad, exist_ok=True)
    rng = np.random.default_rng(0)
    entries = []

    # (a1) Conv -> Reshape -> TopK
    w = numpy_helper.from_array(rng.standard_normal((8, 3, 3, 3)).astype(np.float32), "conv0.weight")
    shp = numpy_helper.from_array(np.array([1, -1], dtype=np.int64), "flat_shape")
    k = numpy_helper.from_array(np.array([5], dtype=np.int64), "k")
    g = helper.make_graph(
        [helper.make_node("Conv", ["x", "conv0.weight"], ["c"], name="conv0", pads=[1, 1, 1, 1]),
         helper.make_node("Reshape", ["c", "flat_shape"], ["flat"], name="flatten0"),
         helper.make_node("TopK", ["flat", "k"], ["values", "indices"], name="topk0", axis=-1)],
        "conv_topk", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("values", TensorProto.FLOAT, [1, 5]),
         helper.make_tensor_value_info("indices", TensorProto.INT64, [1, 5])], [w, shp, k])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="tessera-testset")
    onnx.checker.check_model(m, full_check=True)
    onnx.save_model(m, os.path.join(bad, "conv_topk.onnx"))
    entries.append({"file": "bad/conv_topk.onnx", "kind": "unsupported_op",
                    "description": "Valid ONNX (opset 17, passes onnx.checker full_check): Conv -> Reshape -> TopK. "
                                   "TopK is data-dependent selection an accelerator simulator cannot model.",
                    "expected_error": {"op_type": "TopK", "node_name": "topk0"}})

    # (a2) Conv heads -> NonMaxSuppression
    wb = numpy_helper.from_array(rng.standard_normal((4, 3, 1, 1)).astype(np.float32), "box_head.weight")
    ws = numpy_helper.from_array(rng.standard_normal((1, 3, 1, 1)).astype(np.float32), "score_head.weight")
    bshape = numpy_helper.from_array(np.array([1, 4, 64], dtype=np.int64), "box_shape")
    sshape = numpy_helper.from_array(np.array([1, 1, 64], dtype=np.int64), "score_shape")
    perm_nodes = [
        helper.make_node("Conv", ["x", "box_head.weight"], ["b4"], name="box_head"),
        helper.make_node("Reshape", ["b4", "box_shape"], ["b3"], name="box_reshape"),
        helper.make_node("Transpose", ["b3"], ["boxes"], name="box_transpose", perm=[0, 2, 1]),
        helper.make_node("Conv", ["x", "score_head.weight"], ["s4"], name="score_head"),
        helper.make_node("Sigmoid", ["s4"], ["s4s"], name="score_sigmoid"),
        helper.make_node("Reshape", ["s4s", "score_shape"], ["scores"], name="score_reshape"),
    ]
    consts = [numpy_helper.from_array(np.array([10], dtype=np.int64), "max_out"),
              numpy_helper.from_array(np.array([0.5], dtype=np.float32), "iou_thr"),
              numpy_helper.from_array(np.array([0.05], dtype=np.float32), "score_thr")]
    g = helper.make_graph(
        perm_nodes + [helper.make_node("NonMaxSuppression", ["boxes", "scores", "max_out", "iou_thr", "score_thr"],
                                       ["selected"], name="nms0", center_point_box=0)],
        "conv_nms", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("selected", TensorProto.INT64, ["num_selected", 3])],
        [wb, ws, bshape, sshape] + consts)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="tessera-testset")
    onnx.checker.check_model(m, full_check=True)
    onnx.save_model(m, os.path.join(bad, "conv_nms.onnx"))
    entries.append({"file": "bad/conv_nms.onnx", "kind": "unsupported_op",
                    "description": "Valid ONNX (opset 17, passes onnx.checker full_check): two 1x1 Conv heads -> "
                                   "NonMaxSuppression with a data-dependent output shape ('num_selected').",
                    "expected_error": {"op_type": "NonMaxSuppression", "node_name": "nms0"}})

    # (b) truncated
    with open(small_src, "rb") as f:
        head = f.read(100)
    tpath = os.path.join(bad, "truncated.onnx")
    with open(tpath, "wb") as f:
        f.write(head)
    try:
        onnx.load(tpath, load_external_data=False)
        err = "onnx.load did NOT raise"
    except Exception as e:  # noqa: BLE001
        err = f"{type(e).__name__}: {e}"
    entries.append({"file": "bad/truncated.onnx", "kind": "truncated",
                    "description": f"First 100 bytes of {os.path.basename(small_src)}.",
                    "expected_error": {"message": "protobuf parse failure (truncated message)",
                                       "onnx_load_raises": err}})

    # (c) text file
    npath = os.path.join(bad, "notonnx.onnx")
    with open(npath, "w") as f:
        f.write("This is a plain text file, not an ONNX model.\nIt exists to test the loader's error path.\n")
    try:
        onnx.load(npath, load_external_data=False)
        err = "onnx.load did NOT raise"
    except Exception as e:  # noqa: BLE001
        err = f"{type(e).__name__}: {e}"
    entries.append({"file": "bad/notonnx.onnx", "kind": "not_onnx",
                    "description": "Plain ASCII text with an .onnx extension.",
                    "expected_error": {"message": "protobuf parse failure (not an ONNX protobuf)",
                                       "onnx_load_raises": err}})
    with open(os.path.join(out_dir, "manifest_bad.json"), "w") as f:
        json.dump(entries, f, indent=2)
        f.write("\n")


# --------------------------------------------------------------------------
def _entry_key(e):
    """(network, exporter, dynbatch) for a manifest entry (success or failure)."""
    if "file" in e:
        return e["network"], ("torchscript" if ".ts17." in e["file"] else "dynamo"), ".dynbatch." in e["file"]
    return e["network"], e["exporter"].split()[0], e["exporter"].endswith("dynbatch")


def _installed(name):
    """Whether the package a network is built from is importable here (torchvision needs its
    own venv)."""
    import importlib.util
    package = {"tv_": "torchvision", "hf_": "transformers"}.get(name[:3])
    if package is None or importlib.util.find_spec(package) is not None:
        return True
    print(f"[{name}] skipped: {package} is not installed (manifest entries kept)", flush=True)
    return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--only", nargs="*", help="subset of networks (manifest entries for others are kept)")
    ap.add_argument("--exporters", nargs="*", default=["torchscript", "dynamo"], choices=["torchscript", "dynamo"])
    ap.add_argument("--no-bad", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    for n in args.only or ():
        if n not in NETS:
            sys.exit(f"unknown network {n}; known: {', '.join(NETS)}")
    names = args.only or [n for n in NETS if _installed(n)]

    regen = {(n, e, dyn) for n in names for e in args.exporters for dyn in ((False, True) if NETS[n][5] else (False,))}
    man_path = os.path.join(args.out, "manifest.json")
    old = []
    if os.path.exists(man_path):  # entries of networks not exported in this run are kept
        with open(man_path) as f:
            old = [e for e in json.load(f) if _entry_key(e) not in regen and e["network"] in NETS]
    entries = []
    for name in names:
        variants = [(e, False) for e in args.exporters]
        if NETS[name][5]:
            variants += [(e, True) for e in args.exporters]
        for exporter, dyn in variants:
            print(f"[{name}] {exporter}{' dynbatch' if dyn else ''}", flush=True)
            try:
                entries.append(export_one(name, exporter, args.out, dyn))
            except Exception as e:  # noqa: BLE001
                msg = f"{type(e).__name__}: {e}"
                lines = [ln for ln in msg.splitlines() if ln.strip()]
                short = "\n".join(lines[:12])[:2000]
                print(f"  FAILED: {short}", flush=True)
                traceback.print_exc(file=sys.stderr)
                entries.append({"network": name, "exporter": exporter + (" dynbatch" if dyn else ""), "error": short})
    order = {n: i for i, n in enumerate(NETS)}
    allent = sorted(old + entries, key=lambda e: (order.get(e["network"], 99), e.get("file", "~" + e["exporter"])))
    with open(man_path, "w") as f:
        json.dump(allent, f, indent=2)
        f.write("\n")
    if not args.no_bad:
        src = os.path.join(args.out, "squeezenet1_1.ts17.onnx")
        if os.path.exists(src):
            make_bad(args.out, src)
    print("done", flush=True)


if __name__ == "__main__":
    main()
