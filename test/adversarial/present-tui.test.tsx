/**
 * The control center's detail view shows records read from the shared blackboard: plant
 * hostile ones in a real directory blackboard, read them with the real driver, render the
 * view, and see that nothing that could drive a terminal reaches the screen.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { cleanup, render } from "ink-testing-library";
import { DirectoryBlackboard } from "../../source/core/blackboard/directory/directory.js";
import type { TaskView } from "../../source/core/domain/federation-types.js";
import { toTaskView } from "../../source/core/federation/views.js";
import { TaskDetail } from "../../source/ui/components/task-detail.js";
import { withTheme } from "../unit/ui/helpers.js";
import { DONE_ID, hostileControls, plantHostileTask, TASK_ID } from "./hostile-records.js";

describe("record fields from the blackboard reach the control center sanitized", () => {
  let root: string;
  let tasks: TaskView[];

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "clawos-present-tui-"));
    await plantHostileTask(root, "alpha");
    const board = new DirectoryBlackboard(root, { machine: "hub" });
    const listing = await board.list();
    tasks = listing.tasks.map(toTaskView);
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });
  afterEach(() => cleanup());

  test("the task detail view shows hostile timestamps, reasons and errors without a control sequence", () => {
    for (const id of [TASK_ID, DONE_ID]) {
      const task = tasks.find((t) => t.id === id);
      assert.ok(task, `${id} was read from the blackboard`);
      const view = render(
        withTheme(
          <TaskDetail
            task={task}
            taskId={id}
            scroll={0}
            follow={false}
            width={100}
            height={60}
            now={Date.now()}
          />,
        ),
      );
      const frame = view.lastFrame() ?? "";
      assert.match(frame, new RegExp(id));
      assert.match(frame, /pwned/, "the planted text is shown, only its controls are gone");
      assert.deepEqual(hostileControls(frame), [], frame);
      assert.doesNotMatch(frame, /NaN/);
      view.unmount();
    }
  });
});
