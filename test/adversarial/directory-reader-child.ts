/**
 * Child for directory-unreadable.test.ts: reads the board at argv[2] as the user it runs as,
 * the way `status`, `node run --once` and its coordinator do, and prints what it saw as JSON.
 */
import { DirectoryBlackboard } from "../../source/core/blackboard/directory/directory.js";
import { coordinate } from "./directory-world.js";

const bb = new DirectoryBlackboard(process.argv[2]!, { quarantine: true, machine: "hub" });
try {
  const listed = await bb.list();
  const claimed: string[] = [];
  for (let c = await bb.claim("main"); c; c = await bb.claim("main")) claimed.push(c.request.id);
  await coordinate(bb);
  const after = await bb.list();
  process.stdout.write(JSON.stringify({ problems: listed.problems, claimed, after: after.problems }));
} catch (error) {
  process.stdout.write(JSON.stringify({ error: String(error) }));
} finally {
  await bb.close();
}
