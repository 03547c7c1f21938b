#!/usr/bin/env python3
"""Writes each shipped policy's training configuration into its policy file's metadata.

Policy files written by `gauntlet train` carry their training settings (`training` in the
`gauntlet` metadata: every key of the config with its value, defaults included). The shipped
policies were trained before that was recorded; each one's `policies/NAME.yaml` is the config
that trained it. This script checks that claim against the file's own provenance (the FNV-1a
hash of the config text, `config_hash`) and only then records the settings, as
`gauntlet train --config NAME.yaml --show-config` prints them (Gauntlet's own reading of the
config, so the defaults are Gauntlet's). Tensors are left byte for byte as they are;
only the safetensors header changes. `Tests/AgentsTests/ShippedPolicyProvenanceTests.swift`
checks the result against Gauntlet's own reading of each yaml.

Usage: python3 scripts/record-shipped-training-configs.py   (from the repository root, after
       swift build -c release --product gauntlet; GAUNTLET=PATH names another binary)
"""
import glob
import json
import os
import struct
import subprocess
import sys


def fnv1a_hex(text: str) -> str:
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return format(h, "x")


def to_json(value):
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    raise SystemExit(f"unexpected YAML value {value!r}")


def main() -> int:
    for config_path in sorted(glob.glob("policies/*.yaml")):
        policy_path = config_path[: -len(".yaml")] + ".safetensors"
        if not os.path.exists(policy_path):
            continue  # a policy still in training
        text = open(config_path, encoding="utf-8").read()
        data = open(policy_path, "rb").read()
        (length,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8 : 8 + length])
        description = json.loads(header["__metadata__"]["gauntlet"])
        recorded = description.get("provenance", {}).get("config_hash")
        if recorded != fnv1a_hex(text):
            print(f"{policy_path}: config_hash {recorded} is not the hash of {config_path} ({fnv1a_hex(text)}): left alone")
            continue
        settings = subprocess.run(
            [os.environ.get("GAUNTLET", ".build/release/gauntlet"), "train", "--config", config_path, "--show-config"],
            check=True, capture_output=True, text=True).stdout
        description["training"] = to_json(json.loads(settings))
        header["__metadata__"]["gauntlet"] = json.dumps(description, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        encoded = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        encoded += b" " * (-len(encoded) % 8)
        with open(policy_path, "wb") as out:
            out.write(struct.pack("<Q", len(encoded)) + encoded + data[8 + length :])
        print(f"{policy_path}: recorded {len(description['training'])} settings from {config_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
