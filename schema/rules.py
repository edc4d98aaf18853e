"""Validation rules of our own, checked before anything executes."""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    ValidationRule,
)

# These commit on their own, outside the request's tenant transaction: sharing an
# operation with other fields would break "a failed mutation keeps nothing".
STANDALONE_MUTATIONS = frozenset(
    {
        "signUp",
        "logIn",
        "logOut",
        "revokeSession",
        "revokeOtherSessions",
        "enrollTotp",
        "confirmTotp",
        "beginWebAuthnRegistration",
        "finishWebAuthnRegistration",
        "removeWebAuthnCredential",
        "changePassword",
        # Both commit platform rows on their own, and inviteMember sends an email that
        # no rollback could take back.
        "inviteMember",
        "acceptInvitation",
        # A seat's change commits with its audit entry, each on its own (members.py).
        "updateMember",
        "removeMember",
        # Each signs and commits its decision with its audit entries, on its own
        # (tenants/staff_access/access.py).
        "approveAccessRequest",
        "denyAccessRequest",
        "revokeAccessGrant",
    }
)


class StandaloneIdentityMutations(ValidationRule):
    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        if node.operation is not OperationType.MUTATION:
            return
        selections = node.selection_set.selections
        if any(not isinstance(s, FieldNode) for s in selections):
            # A fragment could hide a standalone mutation beside others: the mutation
            # root takes fields only.
            self.report_error(
                GraphQLError("select mutation fields directly, not through fragments", node)
            )
            return
        names = {getattr(getattr(s, "name", None), "value", None) for s in selections}
        if len(selections) > 1 and names & STANDALONE_MUTATIONS:
            self.report_error(
                GraphQLError(
                    "identity mutations (signUp, logIn, logOut, sessions, TOTP, WebAuthn, "
                    "password, invitations, members, staff access) must be the only field "
                    "of their mutation",
                    node,
                )
            )


class SubscriptionsOnly(ValidationRule):
    """The WebSocket serves subscriptions alone: queries and mutations go to POST
    /graphql, whose request boundary commits or rolls back their transaction."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        if node.operation is not OperationType.SUBSCRIPTION:
            self.report_error(
                GraphQLError(
                    "only subscriptions are served over WebSocket; "
                    "send queries and mutations to POST /graphql",
                    node,
                )
            )


class NoSubscriptionsOverHttp(ValidationRule):
    """Subscriptions need a WebSocket (graphql-transport-ws on /graphql)."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        if node.operation is OperationType.SUBSCRIPTION:
            self.report_error(
                GraphQLError(
                    "subscriptions are served over WebSocket (graphql-transport-ws) only",
                    node,
                )
            )
