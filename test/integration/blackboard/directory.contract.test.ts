/** The blackboard contract (ARCHITECTURE.md §4) for the directory driver: each test on a fresh temp directory. */
import { runBlackboardContract } from "./contract.js";
import { makeDirectoryDriver } from "./directory-fixture.js";

runBlackboardContract("directory", makeDirectoryDriver);
