"""README's "verify a user in three calls" in Python (grpcio), with stubs generated from proto/.

Usage: python_verify.py <proto_dir> <out_dir> <host:port> <phone>
1. Send with generate_code: the service draws the code and the phone speaks it.
2. The person types the code: read here from stdin (one line), after printing the call id.
3. Check it: a wrong code first (WRONG_CODE, attempts left), then the typed one.
Prints one JSON line per step.
"""
import json
import os
import sys

import grpc_tools
from grpc_tools import protoc

proto_dir, out_dir, target, phone = sys.argv[1:5]
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

with grpc.insecure_channel(target) as channel:
    stub = rpc.VoiceCodeStub(channel)
    # 1. Call the user; the service generates the code and keeps only its keyed hash.
    sent = stub.Send(pb.SendRequest(phone_number=phone, generate_code=True, client_reference="signup-py"), timeout=10)
    print(json.dumps({"call_id": sent.call_id, "state": pb.CallState.Name(sent.state)}), flush=True)
    # 2. The user types what they heard.
    typed = sys.stdin.readline().strip()
    wrong = "".join(str((int(d) + 1) % 10) for d in typed)
    # 3. Check it (by client_reference: the latest verification of that reference).
    first = stub.Check(pb.CheckRequest(client_reference="signup-py", code=wrong), timeout=10)
    second = stub.Check(pb.CheckRequest(client_reference="signup-py", code=typed), timeout=10)
    print(json.dumps({
        "wrong": {"result": pb.CheckResult.Name(first.result), "attempts_left": first.attempts_left},
        "right": {"result": pb.CheckResult.Name(second.result), "call_id": second.call_id},
    }))
