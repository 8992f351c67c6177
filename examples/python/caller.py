"""A minimal Python caller with grpcio: Send with an API key, watch the call to its end
(resuming after a broken stream), then GetCall.

Stubs are generated from proto/ (grpcio-tools; Debian: python3-grpcio python3-grpc-tools):

    python3 -m grpc_tools.protoc -Iproto --python_out=gen-py --grpc_python_out=gen-py \
        proto/voicecode/v1/voicecode.proto

This script does that itself, into a temporary directory, so it runs from a checkout:

    VOICECODE_ADDR=voicecode.voicecode.svc:50051 VOICECODE_API_KEY=vck_... \
        python3 examples/python/caller.py +8613711112222

Prints one JSON line.
"""
import atexit
import json
import os
import shutil
import sys
import tempfile
import time

import grpc_tools
from grpc_tools import protoc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROTO = os.path.join(ROOT, "proto")
out_dir = tempfile.mkdtemp(prefix="voicecode-py-")
atexit.register(shutil.rmtree, out_dir, True)
# grpc_tools' own include dir has google/protobuf/*.proto (timestamp.proto).
include = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
if protoc.main([
    "protoc", f"-I{PROTO}", f"-I{include}",
    f"--python_out={out_dir}", f"--grpc_python_out={out_dir}",
    os.path.join(PROTO, "voicecode/v1/voicecode.proto"),
]) != 0:
    sys.exit("protoc failed")
sys.path.insert(0, out_dir)

import grpc  # noqa: E402
from voicecode.v1 import voicecode_pb2 as pb  # noqa: E402
from voicecode.v1 import voicecode_pb2_grpc as rpc  # noqa: E402

target = os.environ.get("VOICECODE_ADDR", "127.0.0.1:50051").removeprefix("http://")
api_key = os.environ.get("VOICECODE_API_KEY")
phone = sys.argv[1] if len(sys.argv) > 1 else "+8613711112222"
# Every call carries the key; the service answers UNAUTHENTICATED without a valid one.
metadata = [("authorization", f"Bearer {api_key}")] if api_key else []

# Ping an idle connection so a peer that vanished is noticed (docs/deployment.md).
with grpc.insecure_channel(target, options=[("grpc.keepalive_time_ms", 60_000)]) as channel:
    stub = rpc.VoiceCodeStub(channel)
    sent = stub.Send(
        pb.SendRequest(phone_number=phone, code="1234", client_reference="example-python"),
        metadata=metadata, timeout=10,
    )

    # A watch can break (a replica drains, a connection reaches its maximum age): resume
    # after the last sequence seen and nothing is missed or repeated.
    states, after = [], 0
    for attempt in range(6):
        try:
            request = pb.WatchStatusRequest(call_id=sent.call_id, after_sequence=after)
            for response in stub.WatchStatus(request, metadata=metadata):
                after = response.event.sequence
                states.append(pb.CallState.Name(response.event.state).removeprefix("CALL_STATE_"))
            break  # the server ends a single-call watch with OK after the terminal event
        except grpc.RpcError as err:
            if err.code() != grpc.StatusCode.UNAVAILABLE or attempt == 5:
                raise
            time.sleep(0.2 * 2 ** attempt)

    call = stub.GetCall(pb.GetCallRequest(call_id=sent.call_id), metadata=metadata, timeout=10)
    print(json.dumps({
        "example": "python-grpcio",
        "callId": sent.call_id,
        "sendState": pb.CallState.Name(sent.state).removeprefix("CALL_STATE_"),
        "states": states,
        "finalState": pb.CallState.Name(call.call.state).removeprefix("CALL_STATE_"),
        "events": len(call.events),
    }))
