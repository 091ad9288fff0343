"""A safetensors file written by hand (8-byte little-endian header length,
JSON header padded to 8 bytes, raw little-endian tensors), so tests need
neither torch nor the safetensors package. tensors: name -> array (F32) or
name -> (dtype, array)."""
import json
import struct

import numpy as np


def write(path, tensors):
    hdr, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        dt, a = t if isinstance(t, tuple) else ("F32", np.asarray(t, dtype="<f4"))
        raw = np.ascontiguousarray(a).tobytes()
        hdr[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        off += len(raw)
        blobs.append(raw)
    h = json.dumps(hdr).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
