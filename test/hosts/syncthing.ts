/**
 * Set-up (a): each host's blackboard folder replicated by real Syncthing, no shared disk. One
 * instance per host with its own --home; GUI/REST on the host's loopback; listening on its
 * 100.64 address; global and local discovery, relays, NAT traversal, usage reporting and
 * crash reporting off; every device introduced by id with a static address; the folder's
 * filesystem watcher on with a 1 s delay.
 */
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Host, Proc } from "./host.js";

export const FOLDER_ID = "clawos-blackboard";
const GUI = "127.0.0.1:8384";
const SYNC_PORT = 22000;

interface Instance {
  host: Host;
  home: string;
  id: string;
  apiKey: string;
  folder: string;
  proc?: Proc;
}

export async function syncthingVersion(): Promise<string> {
  const { execFileSync } = await import("node:child_process");
  return execFileSync("syncthing", ["--version"], { encoding: "utf8" }).trim();
}

const xml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/"/g, "&quot;");

function configXml(self: Instance, all: Instance[]): string {
  const devices = all
    .map(
      (d) =>
        `  <device id="${d.id}" name="${xml(d.host.name)}" compression="metadata" introducer="false">\n` +
        `    <address>tcp://${d.host.address}:${SYNC_PORT}</address>\n  </device>`,
    )
    .join("\n");
  const members = all.map((d) => `    <device id="${d.id}"></device>`).join("\n");
  return `<configuration version="36">
  <folder id="${FOLDER_ID}" label="${FOLDER_ID}" path="${xml(self.folder)}" type="sendreceive" rescanIntervalS="3600" fsWatcherEnabled="true" fsWatcherDelayS="1" ignorePerms="false" autoNormalize="true">
    <filesystemType>basic</filesystemType>
${members}
    <minDiskFree unit="%">1</minDiskFree>
    <maxConflicts>10</maxConflicts>
    <markerName>.stfolder</markerName>
  </folder>
${devices}
  <gui enabled="true" tls="false" debugging="false">
    <address>${GUI}</address>
    <apikey>${self.apiKey}</apikey>
  </gui>
  <options>
    <listenAddress>tcp://${self.host.address}:${SYNC_PORT}</listenAddress>
    <globalAnnounceEnabled>false</globalAnnounceEnabled>
    <localAnnounceEnabled>false</localAnnounceEnabled>
    <relaysEnabled>false</relaysEnabled>
    <natEnabled>false</natEnabled>
    <urAccepted>-1</urAccepted>
    <crashReportingEnabled>false</crashReportingEnabled>
    <autoUpgradeIntervalH>0</autoUpgradeIntervalH>
    <startBrowser>false</startBrowser>
    <announceLANAddresses>false</announceLANAddresses>
    <reconnectionIntervalS>5</reconnectionIntervalS>
    <setLowPriority>false</setLowPriority>
  </options>
</configuration>
`;
}

interface FolderStatus {
  state: string;
  needTotalItems: number;
  globalFiles: number;
  globalDirectories: number;
  globalDeleted: number;
  inSyncFiles: number;
}

export class SyncthingMesh {
  private instances: Instance[] = [];

  /** `folderOf(host)`: where that host's copy of the blackboard lives. */
  async start(hosts: Host[], folderOf: (host: Host) => string): Promise<void> {
    for (const host of hosts) {
      const home = join(host.home, ".config", "syncthing");
      const gen = await host.run(["syncthing", "generate", "--home", home, "--no-default-folder"]);
      const id = /Device ID: ([A-Z0-9-]+)/.exec(gen.stdout + gen.stderr)?.[1];
      if (!id) throw new Error(`${host.name}: syncthing generate printed no device id:\n${gen.stderr}`);
      const folder = folderOf(host);
      await mkdir(join(folder, ".stfolder"), { recursive: true });
      this.instances.push({ host, home, id, apiKey: randomBytes(16).toString("hex"), folder });
    }
    for (const self of this.instances) {
      await writeFile(join(self.home, "config.xml"), configXml(self, this.instances));
      self.proc = self.host.start(
        "syncthing",
        ["syncthing", "serve", "--home", self.home, "--no-browser", "--no-restart", "--no-upgrade"],
        { env: { STNODEFAULTFOLDER: "1", STNOUPGRADE: "1" } },
      );
    }
    for (const self of this.instances) await self.proc!.waitFor("GUI and API listening", 60_000);
    await this.waitConnected();
  }

  private async api<T>(self: Instance, path: string): Promise<T> {
    const r = await self.host.run(
      ["curl", "-sS", "--max-time", "5", "-H", `X-API-Key: ${self.apiKey}`, `http://${GUI}${path}`],
      { timeoutMs: 10_000 },
    );
    if (r.code !== 0) throw new Error(`${self.host.name}: syncthing API ${path}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }

  /** Every instance is connected to every other one. */
  async waitConnected(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let missing = 0;
      for (const self of this.live()) {
        const c = await this.api<{ connections: Record<string, { connected: boolean }> }>(
          self,
          "/rest/system/connections",
        );
        for (const other of this.live()) {
          if (other !== self && !c.connections[other.id]?.connected) missing++;
        }
      }
      if (missing === 0) return;
      if (Date.now() > deadline) throw new Error(`syncthing: ${missing} connections still down`);
      await sleep(300);
    }
  }

  private live(): Instance[] {
    return this.instances.filter((i) => !i.host.asleep);
  }

  /**
   * The barrier: after the watcher's delay, every awake instance is idle, needs nothing and
   * sees the same global counts, twice in a row.
   */
  async settle(timeoutMs = 60_000): Promise<void> {
    await sleep(1500);
    const deadline = Date.now() + timeoutMs;
    let previous = "";
    for (;;) {
      const statuses = await Promise.all(
        this.live().map((i) => this.api<FolderStatus>(i, `/rest/db/status?folder=${FOLDER_ID}`)),
      );
      const quiet = statuses.every((s) => s.state === "idle" && s.needTotalItems === 0);
      const views = new Set(
        statuses.map((s) => `${s.globalFiles}/${s.globalDirectories}/${s.globalDeleted}`),
      );
      const key = [...views].join();
      if (quiet && views.size === 1 && key === previous) return;
      previous = quiet && views.size === 1 ? key : "";
      if (Date.now() > deadline) {
        throw new Error(`syncthing never settled: ${JSON.stringify(statuses)}`);
      }
      await sleep(400);
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.instances.map((i) => i.proc?.stop(5000)));
  }
}
