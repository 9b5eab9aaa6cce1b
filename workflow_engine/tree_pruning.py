"""Keep a case's task tree from growing: finished tasks above every unfinished one are dropped.

SpiffWorkflow keeps every task it ever made, and a loop adds a level per round, so a case sent back
for rework grows its state, its load and save time and its depth without end (and at 1000 levels
SpiffWorkflow silently stops seeing tasks). Alur records each step's history in its own task rows
and audit events, so the workflow only needs the part of the tree that can still run.

The cut: walk down from the root while everything beside the path is finished; the deepest finished
task on that path (the "anchor") becomes the root's only child and everything above it goes. Nothing
unfinished is ever dropped, nor anything an unfinished task can reach through its ancestors: the
walk stops at the first task with two unfinished branches, and a cut that would separate a waiting
structured join from its split (a boundary event's, for instance) is not made. Finished subprocesses
of dropped tasks go with them.
"""
from __future__ import annotations

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

# Cut only when at least this many tasks can go, so a case pays for pruning once every few rounds.
PRUNE_AT = 24


def prune_history(workflow: BpmnWorkflow, at_least: int = PRUNE_AT) -> int:
    """Drop the finished tasks above the anchor (see the module docstring); returns how many went.

    `at_least` 0 cuts whatever can be cut (the tests do, to prune at every step).
    """
    tasks = workflow.tasks
    if at_least and len(tasks) < len(workflow.spec.task_specs) + at_least:
        return 0  # no more tasks than the model has (plus the margin): no loop has grown it yet
    root = workflow.task_tree
    unfinished = _with_unfinished(workflow)
    if not unfinished:
        return 0  # a finished case keeps its whole tree
    path, node = [], root
    while True:
        live = [tasks[c] for c in node._children if c in unfinished]
        if len(live) != 1 or not node.has_state(TaskState.FINISHED_MASK):
            break
        path.append(node)
        node = live[0]
    # path[0] is the root; the anchor is the last finished task on the path below it.
    if len(path) < 2:
        return 0
    anchor = path[-1]
    keep = _subtree(workflow, anchor)
    if len(tasks) - len(keep) - 1 < at_least or not _joins_keep_splits(workflow, unfinished, keep):
        return 0
    dropped = [task_id for task_id in tasks if task_id not in keep and task_id != root.id]
    for task_id in dropped:
        if task_id in workflow.subprocesses:
            workflow.delete_subprocess(tasks[task_id])
    for task_id in dropped:
        del tasks[task_id]
    root._children = [anchor.id]
    anchor._parent = root.id
    if workflow.last_task is not None and workflow.last_task.id not in tasks:
        workflow.last_task = None
    return len(dropped)


def _with_unfinished(workflow: BpmnWorkflow) -> set:
    """Ids of the unfinished tasks and of every ancestor of one."""
    found = set()
    for task in workflow.tasks.values():
        if task.has_state(TaskState.FINISHED_MASK):
            continue
        while task is not None and task.id not in found:
            found.add(task.id)
            task = task.parent
    return found


def _subtree(workflow: BpmnWorkflow, top) -> set:
    keep, stack = set(), [top.id]
    while stack:
        task_id = stack.pop()
        keep.add(task_id)
        stack.extend(workflow.tasks[task_id]._children)
    return keep


def _joins_keep_splits(workflow: BpmnWorkflow, unfinished: set, keep: set) -> bool:
    """Every unfinished structured join still finds its split among the kept tasks."""
    for task_id in unfinished:
        task = workflow.tasks[task_id]
        split = getattr(task.task_spec, "split_task", None)
        if task.has_state(TaskState.FINISHED_MASK) or not split:
            continue
        found = task.find_ancestor(split)
        if found is None or found.id not in keep:
            return False
    return True
