import { UserError } from "../../domain/errors.js";
import type { Priority } from "../../domain/schema.js";

/** The names one federation uses on a NATS server. */
export function natsNames(prefix = "clawos") {
  if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(prefix))
    throw new UserError(`"${prefix.slice(0, 40)}" cannot name a NATS blackboard.`, {
      hint: "use lowercase letters, digits and '-'",
      code: "usage",
    });
  return {
    prefix,
    workStream: `${prefix}-work`,
    workSubjects: `${prefix}.tasks.>`,
    /** One inbox per node and priority, so that a claimer can take the most urgent first. */
    doorbell: (node: string, id: string, priority: Priority) => `${prefix}.tasks.${node}.${priority}.${id}`,
    /** Every doorbell of a node, all priorities. */
    inboxFilter: (node: string) => `${prefix}.tasks.${node}.>`,
    laneFilter: (node: string, priority: Priority) => `${prefix}.tasks.${node}.${priority}.*`,
    durable: (node: string, priority: Priority) => `inbox-${node}-${priority}`,
    tasks: `${prefix}-tasks`,
    results: `${prefix}-results`,
    progress: `${prefix}-progress`,
    nodes: `${prefix}-nodes`,
    aside: `${prefix}-aside`,
    archive: `${prefix}-archive`,
    leases: `${prefix}-leases`,
    /** Node definitions, key `<owner key>.<node>`: each written by its owner machine only. */
    registry: `${prefix}-registry`,
    resultKey: (id: string, attempt: number) => `${id}.${attempt}`,
  };
}
export type NatsNames = ReturnType<typeof natsNames>;
