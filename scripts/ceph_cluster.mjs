// A throw-away single-node Ceph cluster with an S3 gateway, for the
// object-storage tests (facts in ../shared/notes/ceph-single-node.md): one
// monitor, one OSD on the memstore object store (memory only), radosgw with
// authentication off between the daemons, all on loopback in a temporary
// directory, and an S3 user. It takes about 13 s from cold and ~190 MB.
// Stopped by the process ids it started, never by name.
//
//   node scripts/ceph_cluster.mjs start       starts one, prints its JSON (endpoint, keys, pids, dir)
//   node scripts/ceph_cluster.mjs stop DIR    stops the one whose JSON is DIR/cluster.json
//   node scripts/ceph_cluster.mjs serve PID   starts one, prints its JSON, and stops it once
//                                             process PID is gone (a test process that
//                                             started it and may end without cleaning up)
//
// Debian packages: radosgw ceph-mon ceph-osd (.ci/run installs them).

import { execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

/** The daemons this needs, and whether each is installed. */
export function cephMissing() {
  const missing = [];
  for (const bin of ["ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "monmaptool", "ceph"]) {
    const found = (process.env.PATH ?? "").split(":").some((dir) => dir && existsSync(join(dir, bin)));
    if (!found) missing.push(bin);
  }
  return missing;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits until check() holds; gives up after deadlineMs, or at once when failed() says so. */
async function until(what, deadlineMs, check, failed = () => false) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (failed()) throw new Error(`ceph cluster: ${what} failed`);
    if (Date.now() > deadline) throw new Error(`ceph cluster: ${what} did not happen within ${deadlineMs / 1000} s`);
    await sleep(250);
  }
}

/**
 * Starts a cluster; resolves with { endpoint, region, accessKeyId,
 * secretAccessKey, dir, pids } once the S3 endpoint answers and the user
 * exists. On failure it stops what it started and rejects.
 */
export async function startCluster() {
  const missing = cephMissing();
  if (missing.length > 0) {
    throw new Error(
      `ceph cluster: not installed (${
        missing.join(", ")
      }); apt-get install -y --no-install-recommends radosgw ceph-mon ceph-osd`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), "siltdb-ceph-"));
  const [monPort, rgwPort] = [await freePort(), await freePort()];
  const fsid = randomUUID();
  const conf = join(dir, "ceph.conf");
  for (const sub of ["run", "log", "mon", "osd/ceph-0", "rgw"]) mkdirSync(join(dir, sub), { recursive: true });
  // tcp_nodelay=1: radosgw's beast frontend otherwise leaves Nagle's algorithm on, and a
  // small answer (a 4 KiB ranged GET, a LIST) waits for the client's delayed ACK: 44 ms
  // instead of 1.6 ms on loopback (measured by bench/bucket_bench.ts; PUTs were not affected).
  writeFileSync(
    conf,
    `[global]
fsid = ${fsid}
mon host = v1:127.0.0.1:${monPort}
ms bind msgr2 = false
auth cluster required = none
auth service required = none
auth client required = none
osd objectstore = memstore
memstore device bytes = 1073741824
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
osd pool default pg num = 8
osd pool default pgp num = 8
mon max pg per osd = 1000
run dir = ${dir}/run
log file = ${dir}/log/$name.log
admin socket = ${dir}/run/$name.asok
mon data = ${dir}/mon/$cluster-$id
osd data = ${dir}/osd/$cluster-$id
rgw data = ${dir}/rgw/$cluster-$id
[client.rgw.siltdb]
rgw frontends = beast endpoint=127.0.0.1:${rgwPort} tcp_nodelay=1
`,
  );
  const pids = [];
  const cluster = {
    endpoint: `http://127.0.0.1:${rgwPort}`,
    region: "us-east-1",
    accessKeyId: "SILTDBTESTACCESSKEY",
    secretAccessKey: "siltdb-test-secret-key",
    dir,
    pids,
  };
  const run = (cmd, args) => execFileSync(cmd, ["-c", conf, ...args], { stdio: ["ignore", "pipe", "pipe"] }).toString();
  const daemon = (cmd, args) => {
    const child = spawn(cmd, ["-c", conf, ...args, "-f"], {
      stdio: ["ignore", "ignore", "ignore"],
      detached: true,
    });
    child.unref();
    pids.push(child.pid);
    writeFileSync(join(dir, "cluster.json"), JSON.stringify(cluster));
    return child;
  };
  try {
    execFileSync("monmaptool", [
      "--create",
      "--addv",
      "a",
      `[v1:127.0.0.1:${monPort}]`,
      "--fsid",
      fsid,
      join(dir, "monmap"),
    ], {
      stdio: "ignore",
    });
    run("ceph-mon", ["--mkfs", "-i", "a", "--monmap", join(dir, "monmap")]);
    daemon("ceph-mon", ["-i", "a"]);
    run("ceph-osd", ["-i", "0", "--mkfs", "--osd-uuid", randomUUID()]);
    const osdFsid = readFileSync(join(dir, "osd", "ceph-0", "fsid"), "utf8").trim();
    await until("the monitor answering", 30_000, () => run("ceph", ["osd", "new", osdFsid, "0"]) !== undefined);
    // The OSD sometimes asks the monitor before it knows the cluster's fsid
    // ("wrong fsid") and gives up at once: start it again, up to 4 times.
    for (let attempt = 1;; attempt++) {
      const osd = daemon("ceph-osd", ["-i", "0"]);
      let exited = false;
      osd.once("exit", () => exited = true);
      try {
        await until("the OSD up", 30_000, () => {
          return /1 up/.test(run("ceph", ["osd", "stat"]));
        }, () => exited);
        break;
      } catch (err) {
        try {
          process.kill(osd.pid, "SIGKILL");
        } catch {
          // it exited by itself
        }
        if (attempt === 4) throw err;
      }
    }
    daemon("radosgw", ["-n", "client.rgw.siltdb"]);
    await until("the S3 gateway answering", 90_000, async () => (await fetch(cluster.endpoint)).status === 200);
    run("radosgw-admin", [
      "user",
      "create",
      "--uid=siltdb",
      "--display-name=siltdb tests",
      `--access-key=${cluster.accessKeyId}`,
      `--secret-key=${cluster.secretAccessKey}`,
    ]);
    return cluster;
  } catch (err) {
    stopCluster(cluster);
    throw err;
  }
}

/** Stops the daemons a cluster started (by their process ids) and removes its directory. */
export function stopCluster(cluster) {
  for (const pid of cluster.pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  if (!process.env.SILTDB_CEPH_KEEP) rmSync(cluster.dir, { recursive: true, force: true });
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop())) {
  const [command, dir] = process.argv.slice(2);
  if (command === "start") {
    const started = Date.now();
    const cluster = await startCluster();
    console.log(JSON.stringify({ ...cluster, seconds: (Date.now() - started) / 1000 }));
  } else if (command === "serve" && dir) {
    const owner = Number(dir);
    process.stdout.on("error", () => {}); // the owner may be gone already (EPIPE): the watch below stops the cluster
    const cluster = await startCluster();
    process.stdout.write(`${JSON.stringify(cluster)}\n`);
    const alive = () => {
      try {
        process.kill(owner, 0);
        return true;
      } catch {
        return false;
      }
    };
    const stop = () => {
      stopCluster(cluster);
      process.exit(0);
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
    setInterval(() => alive() || stop(), 500);
  } else if (command === "stop" && dir) {
    stopCluster(JSON.parse(readFileSync(join(dir, "cluster.json"), "utf8")));
  } else {
    console.error("usage: node scripts/ceph_cluster.mjs start | stop DIR | serve PID");
    process.exit(2);
  }
}
