"""A Python grpcio client calling voicecode over TLS (and mTLS with a client certificate).

Usage: python_tls.py <proto_dir> <out_dir> <host:port> <ca_file> [<cert_file> <key_file>]
Prints one JSON line: {"call_id": ...} or {"error": <status code name>}.
"""
import json
import os
import sys

import grpc_tools
from grpc_tools import protoc

proto_dir, out_dir, target, ca_file = sys.argv[1:5]
client = sys.argv[5:7]
include = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
rc = protoc.main([
    "protoc", f"-I{proto_dir}", f"-I{include}",
    f"--python_out={out_dir}", f"--grpc_python_out={out_dir}",
    os.path.join(proto_dir, "voicecode/v1/voicecode.proto"),
])
if rc != 0:
    sys.exit(f"protoc failed: {rc}")
sys.path.insert(0, out_dir)

import grpc  # noqa: E402
from voicecode.v1 import voicecode_pb2 as pb  # noqa: E402
from voicecode.v1 import voicecode_pb2_grpc as rpc  # noqa: E402


def read(path):
    with open(path, "rb") as f:
        return f.read()


credentials = grpc.ssl_channel_credentials(
    root_certificates=read(ca_file),
    private_key=read(client[1]) if client else None,
    certificate_chain=read(client[0]) if client else None,
)
# The test certificate names localhost and 127.0.0.1; the override makes the check explicit.
with grpc.secure_channel(target, credentials, options=[("grpc.ssl_target_name_override", "localhost")]) as channel:
    stub = rpc.VoiceCodeStub(channel)
    try:
        sent = stub.Send(pb.SendRequest(phone_number="+8613711112222", code="2468"), timeout=10)
        print(json.dumps({"call_id": sent.call_id}))
    except grpc.RpcError as err:
        print(json.dumps({"error": err.code().name}))
