"""A Python service calling voicecode through stubs generated from proto/ with grpcio-tools.

Usage: python_client.py <proto_dir> <out_dir> <host:port> <phone>
Prints one JSON line: the Send response and the states WatchStatus streamed.
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
# Health and reflection live under proto/grpc/: mapped to grpc_protos/ so the generated
# package does not collide with grpcio's own `grpc` (docs/operations.md).
rc = protoc.main([
    "protoc", f"-Igrpc_protos={os.path.join(proto_dir, 'grpc')}",
    f"--python_out={out_dir}", f"--grpc_python_out={out_dir}",
    os.path.join(proto_dir, "grpc/health/v1/health.proto"),
    os.path.join(proto_dir, "grpc/reflection/v1/reflection.proto"),
])
if rc != 0:
    sys.exit(f"protoc failed for health/reflection: {rc}")
sys.path.insert(0, out_dir)

import grpc  # noqa: E402
from grpc_protos.health.v1 import health_pb2, health_pb2_grpc  # noqa: E402
from grpc_protos.reflection.v1 import reflection_pb2, reflection_pb2_grpc  # noqa: E402
from voicecode.v1 import voicecode_pb2 as pb  # noqa: E402
from voicecode.v1 import voicecode_pb2_grpc as rpc  # noqa: E402

with grpc.insecure_channel(target) as channel:
    health = health_pb2.HealthCheckResponse.ServingStatus.Name(
        health_pb2_grpc.HealthStub(channel)
        .Check(health_pb2.HealthCheckRequest(service="voicecode.v1.VoiceCode"), timeout=10)
        .status
    )
    listing = reflection_pb2.ServerReflectionRequest(list_services="")
    services = sorted(
        s.name
        for answer in reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(iter([listing]), timeout=10)
        for s in answer.list_services_response.service
    )
    stub = rpc.VoiceCodeStub(channel)
    sent = stub.Send(pb.SendRequest(phone_number=phone, code="2468", client_reference="py"), timeout=10)
    states = [
        pb.CallState.Name(r.event.state)
        for r in stub.WatchStatus(pb.WatchStatusRequest(call_id=sent.call_id), timeout=20)
    ]
    try:
        stub.Send(pb.SendRequest(phone_number="+86123", code="2468"), timeout=10)
        bad = None
    except grpc.RpcError as err:
        bad = {"code": err.code().name, "details": err.details()}
    print(json.dumps({
        "call_id": sent.call_id,
        "state": pb.CallState.Name(sent.state),
        "provider": sent.provider,
        "states": states,
        "bad": bad,
        "health": health,
        "services": services,
    }))
