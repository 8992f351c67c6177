"""A Python service placing an IVR call through stubs generated from proto/ with grpcio-tools.

Usage: python_notify.py <proto_dir> <out_dir> <host:port> <phone>
Prints one JSON line: the Notify response, the states WatchStatus streamed with the
key pressed on each, and the call's kind and template as GetCall returns them.
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
    sent = stub.Notify(pb.NotifyRequest(
        phone_number=phone,
        template_name="delivery",
        template_params={"id": "SF1234"},
        collect_key_press=True,
        client_reference="py-ivr",
    ), timeout=10)
    events = [
        [pb.CallState.Name(r.event.state), r.event.pressed_key]
        for r in stub.WatchStatus(pb.WatchStatusRequest(call_id=sent.call_id), timeout=20)
    ]
    call = stub.GetCall(pb.GetCallRequest(call_id=sent.call_id), timeout=10).call
    print(json.dumps({
        "state": pb.CallState.Name(sent.state),
        "provider": sent.provider,
        "events": events,
        "kind": pb.CallKind.Name(call.kind),
        "template": call.template_name,
    }))
