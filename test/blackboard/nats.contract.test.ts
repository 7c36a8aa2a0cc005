/** The blackboard contract (DESIGN §5) for the NATS JetStream driver: each test on its own nats-server. */
import { runBlackboardContract } from "./contract.js";
import { makeNatsDriver } from "./nats-fixture.js";

runBlackboardContract("nats", makeNatsDriver);
