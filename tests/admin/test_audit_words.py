"""Every action the community package writes to the audit log reads as a sentence."""
import ast
from pathlib import Path

from jala.admin.audit_words import SENTENCES

COMMUNITY = Path(__file__).resolve().parents[2] / "jala" / "community"


def _strings(node):
    """The action names a call's argument can be: a string, or either side of ``a if c else b``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _strings(node.body) | _strings(node.orelse)
    return set()


def _name(call):
    return getattr(call.func, "id", None) or getattr(call.func, "attr", None)


def _actions(tree):
    """Actions passed to ``record_audit``, directly or through a helper that passes its own
    parameter on as the action (such as ``_audit(actor, action, found, details)``)."""
    actions, helpers = set(), {}
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef):
            continue
        params = [arg.arg for arg in function.args.args]
        for call in ast.walk(function):
            if isinstance(call, ast.Call) and _name(call) == "record_audit" and len(call.args) > 1:
                action = call.args[1]
                if isinstance(action, ast.Name) and action.id in params:
                    helpers[function.name] = params.index(action.id)
    for call in ast.walk(tree):
        if not isinstance(call, ast.Call):
            continue
        if _name(call) == "record_audit" and len(call.args) > 1:
            actions |= _strings(call.args[1])
        elif _name(call) in helpers and len(call.args) > helpers[_name(call)]:
            actions |= _strings(call.args[helpers[_name(call)]])
    return actions


def test_every_community_audit_action_has_a_sentence():
    actions = set()
    for path in COMMUNITY.rglob("*.py"):
        actions |= _actions(ast.parse(path.read_text(encoding="utf-8")))
    assert {"news.create", "event.create", "contest.round.close", "book_list.move",
            "commendation.publish"} <= actions  # the scan finds them
    assert sorted(actions - set(SENTENCES)) == []
