/** The blackboard contract (ARCHITECTURE.md §4) for the NATS JetStream driver: each test on its own nats-server. */
import { runBlackboardContract } from "./contract.js";
import { makeNatsDriver } from "./nats-fixture.js";

runBlackboardContract("nats", makeNatsDriver);
