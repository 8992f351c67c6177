"""A Python grpcio client with API keys: which keys get in, and the rich error details of
a refused Send, decoded with google/rpc stubs generated from proto/ (no grpcio-status).

Usage: python_callers.py <proto_dir> <out_dir> <host:port> <phone> <name=key>...
For each name=key (key "-" sends none) prints what a Send (sent twice to <phone>) got.
Prints one JSON line.
"""
import json
import os
import sys

import grpc_tools
from grpc_tools import protoc

proto_dir, out_dir, target, phone = sys.argv[1:5]
keys = [arg.split("=", 1) for arg in sys.argv[5:]]
include = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
rc = protoc.main([
    "protoc", f"-I{proto_dir}", f"-I{include}",
    f"--python_out={out_dir}", f"--grpc_python_out={out_dir}",
    os.path.join(proto_dir, "voicecode/v1/voicecode.proto"),
    os.path.join(proto_dir, "google/rpc/status.proto"),
    os.path.join(proto_dir, "google/rpc/error_details.proto"),
])
if rc != 0:
    sys.exit(f"protoc failed: {rc}")
sys.path.insert(0, out_dir)

import grpc  # noqa: E402
from google.rpc import error_details_pb2, status_pb2  # noqa: E402
from voicecode.v1 import voicecode_pb2 as pb  # noqa: E402
from voicecode.v1 import voicecode_pb2_grpc as rpc  # noqa: E402


def details(err):
    """ErrorInfo and RetryInfo from grpc-status-details-bin, as grpc_status would read them."""
    out = {}
    for key, value in err.trailing_metadata() or ():
        if key != "grpc-status-details-bin":
            continue
        status = status_pb2.Status.FromString(value)
        out["status_code"] = status.code
        for detail in status.details:
            info = error_details_pb2.ErrorInfo()
            retry = error_details_pb2.RetryInfo()
            if detail.Unpack(info):
                out.update(reason=info.reason, domain=info.domain, metadata=dict(info.metadata))
            elif detail.Unpack(retry):
                out["retry_ms"] = retry.retry_delay.ToMilliseconds()
    return out


def attempt(stub, metadata):
    try:
        sent = stub.Send(pb.SendRequest(phone_number=phone, code="2468"), metadata=metadata, timeout=10)
        return {"code": "OK", "state": pb.CallState.Name(sent.state)}
    except grpc.RpcError as err:
        return {"code": err.code().name, "details": err.details(), **details(err)}


results = {}
with grpc.insecure_channel(target) as channel:
    stub = rpc.VoiceCodeStub(channel)
    for name, key in keys:
        metadata = () if key == "-" else (("authorization", f"Bearer {key}"),)
        results[name] = [attempt(stub, metadata), attempt(stub, metadata)]
print(json.dumps(results))
