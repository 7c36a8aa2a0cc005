import { chmod, mkdir, open, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import ssh2 from "ssh2";
import { isErrnoException, UserError } from "../core/domain/errors.js";

// ssh2 is CommonJS: its utils are not visible as a named ESM export.
const { utils } = ssh2;

/**
 * ssh2's ed25519 generator strips a leading zero byte of the public key, so about 1 key in 256
 * cannot be parsed back (ssh2 issue 1390): such a key, once saved, would stop every later start.
 * Generate until both halves parse.
 */
function generateUsableKeyPair(): { private: string; public: string } {
  for (let attempt = 0; attempt < 20; attempt++) {
    const pair = utils.generateKeyPairSync("ed25519", { comment: "clawos serve host key" });
    if (!(utils.parseKey(pair.private) instanceof Error) && !(utils.parseKey(pair.public) instanceof Error))
      return pair;
  }
  throw new Error("could not generate a host key that ssh2 can read back");
}

/** The host key file's bytes and mode, read through one descriptor; undefined if there is none. */
async function readHostKey(file: string): Promise<{ key: Buffer; mode: number } | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, "r");
  } catch (error) {
    if (isErrnoException(error, "ENOENT")) return undefined;
    throw error;
  }
  try {
    const { mode } = await handle.stat();
    return { key: await handle.readFile(), mode };
  } finally {
    await handle.close();
  }
}

/** Read the host key, or make one (ed25519, mode 0600) on first run. */
export async function loadOrCreateHostKey(file: string): Promise<{ key: Buffer; created: boolean }> {
  const found = await readHostKey(file);
  if (found) {
    const parsed = utils.parseKey(found.key);
    if (parsed instanceof Error) {
      throw new UserError(`The host key ${file} cannot be read (${parsed.message}).`, {
        hint: `move it aside (mv ${file} ${file}.bad) and start again to make a new one; SSH clients will then see a new host key`,
      });
    }
    // As sshd: a private key others can read is no secret; refuse it rather than serve with it.
    if (found.mode & 0o077) {
      throw new UserError(
        `The host key ${file} is readable by others (mode ${(found.mode & 0o777).toString(8).padStart(4, "0")}).`,
        { hint: `chmod 600 ${file}` },
      );
    }
    return { key: found.key, created: false };
  }
  const pair = generateUsableKeyPair();
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, pair.private, { mode: 0o600, flag: "wx" });
  await chmod(file, 0o600);
  await writeFile(`${file}.pub`, `${pair.public}\n`, { mode: 0o644 });
  return { key: Buffer.from(pair.private), created: true };
}
