"""The few messages of SeaweedFS's IAM gRPC service (`iam_pb.SeaweedIdentityAccessManagement`)
that tenant identities need, declared here instead of generated from its .proto.

Only field numbers and types matter on the wire; these follow SeaweedFS's `iam.proto`
(`Identity` 1 name, 2 credentials, 3 actions; `Credential` 1 access_key, 2 secret_key,
3 status). Fields we never send or read are left out: protobuf skips unknown fields.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

SERVICE = "/iam_pb.SeaweedIdentityAccessManagement"

_STRING = descriptor_pb2.FieldDescriptorProto.TYPE_STRING
_MESSAGE = descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE
_ONE = descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL
_MANY = descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED
_PACKAGE = "audora.seaweed_iam"

# name -> [(field, number, label, type, message type)]
_MESSAGES: dict[str, list[tuple[str, int, int, int, str]]] = {
    "Credential": [
        ("access_key", 1, _ONE, _STRING, ""),
        ("secret_key", 2, _ONE, _STRING, ""),
        ("status", 3, _ONE, _STRING, ""),
    ],
    "Identity": [
        ("name", 1, _ONE, _STRING, ""),
        ("credentials", 2, _MANY, _MESSAGE, "Credential"),
        ("actions", 3, _MANY, _STRING, ""),
    ],
    "CreateUserRequest": [("identity", 1, _ONE, _MESSAGE, "Identity")],
    "GetUserRequest": [("username", 1, _ONE, _STRING, "")],
    "GetUserResponse": [("identity", 1, _ONE, _MESSAGE, "Identity")],
    "UpdateUserRequest": [
        ("username", 1, _ONE, _STRING, ""),
        ("identity", 2, _ONE, _MESSAGE, "Identity"),
    ],
    "DeleteUserRequest": [("username", 1, _ONE, _STRING, "")],
    "Empty": [],
}


def _build() -> dict[str, Any]:
    file = descriptor_pb2.FileDescriptorProto(
        name="audora_seaweed_iam.proto", package=_PACKAGE, syntax="proto3"
    )
    for name, fields in _MESSAGES.items():
        message = file.message_type.add(name=name)
        for field, number, label, kind, type_name in fields:
            message.field.add(
                name=field,
                number=number,
                label=label,
                type=kind,
                type_name=f".{_PACKAGE}.{type_name}" if type_name else None,
            )
    # A pool of our own, so these names never meet another library's in the default one.
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.{name}"))
        for name in _MESSAGES
    }


MESSAGES = _build()
Credential = MESSAGES["Credential"]
Identity = MESSAGES["Identity"]
CreateUserRequest = MESSAGES["CreateUserRequest"]
GetUserRequest = MESSAGES["GetUserRequest"]
GetUserResponse = MESSAGES["GetUserResponse"]
UpdateUserRequest = MESSAGES["UpdateUserRequest"]
DeleteUserRequest = MESSAGES["DeleteUserRequest"]
Empty = MESSAGES["Empty"]
