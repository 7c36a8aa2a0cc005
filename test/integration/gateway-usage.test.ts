import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { GatewayClient } from "../../source/core/transport/gateway-client.js";
import { type StubGateway, startStubGateway } from "../testkit/stub-gateway.js";

/** Usage on the wire (ARCHITECTURE.md §5): the client asks for it, and reads the trailing chunk. */
describe("gateway client: token usage of a turn", () => {
  let stub: StubGateway;
  let client: GatewayClient;
  before(async () => {
    stub = await startStubGateway({ token: "t0k", reply: "four five six seven" });
    client = new GatewayClient({
      nodeId: "alpha",
      host: "127.0.0.1",
      port: stub.port,
      token: "t0k",
      tokenSource: "test",
      profile: null,
      agent: "main",
    });
  });
  after(async () => {
    await client.close();
    await stub.close();
  });

  it("asks for include_usage and returns the trailing chunk's prompt and completion tokens", async () => {
    stub.configure({ usage: () => ({ prompt_tokens: 1234, completion_tokens: 56 }), byteChunkSize: 7 });
    const answer = await client.chat({ text: "count me", user: "u" });
    assert.equal(answer.text, "four five six seven");
    assert.deepEqual(answer.usage, { prompt: 1234, completion: 56 });
    assert.equal(stub.requests.at(-1)?.includeUsage, true);
  });

  it("a gateway that sends no usage chunk: no usage, the turn still answers", async () => {
    stub.configure({ usage: false, byteChunkSize: undefined });
    const answer = await client.chat({ text: "older gateway", user: "u" });
    assert.equal(answer.text, "four five six seven");
    assert.equal(answer.usage, undefined);
  });

  it("a malformed usage object is ignored rather than failing a good answer", async () => {
    stub.configure({ usage: () => ({ prompt_tokens: -1, completion_tokens: 0.5 }) });
    const answer = await client.chat({ text: "odd gateway", user: "u" });
    assert.equal(answer.text, "four five six seven");
    assert.equal(answer.usage, undefined);
  });
});
