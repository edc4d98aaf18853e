"""Validation rules of our own, checked before anything executes."""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationRule,
    get_named_type,
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


# Under a list without a `first` argument, its fields count this many times.
DEFAULT_LIST_SIZE = 10


def operation_limits(max_depth: int, max_cost: int) -> type[ValidationRule]:
    """A rule refusing operations nested deeper than `max_depth` fields, then those whose
    estimated cost exceeds `max_cost`: each field costs 1, and what is selected under a
    list counts `DEFAULT_LIST_SIZE` times, or, for the list right under a field taking
    `first` (a connection's edges), `first` times (its literal value, else its default:
    a variable is capped by the resolver). Depth comes first, so that the cost's walk
    never recurses through a document nested deeper than the limit."""

    class OperationLimits(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            fragments = {
                d.name.value: d
                for d in self.context.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            depth = _depth(node.selection_set, fragments, frozenset())
            if depth > max_depth:
                self.report_error(
                    GraphQLError(
                        f"the operation nests fields {depth} deep, past the depth limit "
                        f"of {max_depth}",
                        node,
                    )
                )
                return
            schema = self.context.schema
            root = schema.get_root_type(node.operation)
            if root is None:
                return  # reported by the standard rules
            cost = _selection_cost(schema, root, node.selection_set, fragments, frozenset(), None)
            if cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"the operation's estimated cost {cost} exceeds the cost limit of "
                        f"{max_cost}; select fewer fields or ask for smaller pages (first)",
                        node,
                    )
                )

    return OperationLimits


def _depth(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    seen: frozenset[str],
) -> int:
    """The longest chain of nested fields; fragments add none of their own."""
    deepest = 0
    for selection in selection_set.selections if selection_set is not None else ():
        if isinstance(selection, FieldNode):
            deepest = max(deepest, 1 + _depth(selection.selection_set, fragments, seen))
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, _depth(selection.selection_set, fragments, seen))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:
                deepest = max(deepest, _depth(fragment.selection_set, fragments, seen | {name}))
    return deepest


def _selection_cost(
    schema: GraphQLSchema,
    parent: GraphQLNamedType,
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    seen: frozenset[str],
    page: int | None,
) -> int:
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total += _field_cost(schema, parent, selection, fragments, seen, page)
        elif isinstance(selection, InlineFragmentNode):
            condition = (
                schema.get_type(selection.type_condition.name.value)
                if selection.type_condition
                else parent
            )
            if condition is not None:
                total += _selection_cost(
                    schema, condition, selection.selection_set, fragments, seen, page
                )
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in seen:
                continue  # unknown or cyclic: the standard rules report it
            condition = schema.get_type(fragment.type_condition.name.value)
            if condition is not None:
                total += _selection_cost(
                    schema, condition, fragment.selection_set, fragments, seen | {name}, page
                )
    return total


def _field_cost(
    schema: GraphQLSchema,
    parent: GraphQLNamedType,
    node: FieldNode,
    fragments: dict[str, FragmentDefinitionNode],
    seen: frozenset[str],
    page: int | None,
) -> int:
    fields = getattr(parent, "fields", None)
    definition = fields.get(node.name.value) if isinstance(fields, dict) else None
    if definition is None:
        return 1  # __typename, or an unknown field the standard rules report
    field_type = definition.type
    while isinstance(field_type, GraphQLNonNull):
        field_type = field_type.of_type
    multiplier = 1
    if isinstance(field_type, GraphQLList):
        multiplier = page if page is not None else DEFAULT_LIST_SIZE
    first = _first_argument(node)
    if first is None and "first" in definition.args:
        default = definition.args["first"].default_value
        first = default if isinstance(default, int) else DEFAULT_LIST_SIZE
    named = get_named_type(field_type)
    children = _selection_cost(schema, named, node.selection_set, fragments, seen, first)
    return 1 + max(multiplier, 1) * children


def _first_argument(node: FieldNode) -> int | None:
    for argument in node.arguments or ():
        if argument.name.value == "first" and isinstance(argument.value, IntValueNode):
            return int(argument.value.value)
    return None
